import { describe, expect, test } from 'vitest';
import { parsePlatform } from '../arch/platform.ts';
import { MEDIA, type IndexEntry, parseManifest, ManifestError } from './manifest.ts';
import { isAttestation, matchPlatform } from './platform-match.ts';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const entry = (n: number, architecture: string, variant?: string, extra: Partial<IndexEntry> = {}): IndexEntry => ({
  mediaType: MEDIA.ociManifest,
  digest: d(n),
  size: 100,
  platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  ...extra,
});
const attestation = entry(9, 'unknown', undefined, {
  platform: { os: 'unknown', architecture: 'unknown' },
  annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': d(1) },
});

describe('platform matching', () => {
  test('arm64/v8 in the index is what an arm64 node pulls', () => {
    expect(matchPlatform([entry(1, 'amd64'), entry(2, 'arm64', 'v8')], parsePlatform('linux/arm64')).entry?.digest).toBe(d(2));
  });
  test('an aarch64 spelling in the index is normalised', () => {
    expect(matchPlatform([entry(2, 'aarch64')], parsePlatform('linux/arm64')).entry?.digest).toBe(d(2));
  });
  test('attestation entries are ignored, never reported as a platform', () => {
    const m = matchPlatform([entry(1, 'amd64'), attestation], parsePlatform('linux/arm64'));
    expect(m.entry).toBeUndefined();
    expect(m).toMatchObject({ available: ['linux/amd64'], attestations: 1 });
    expect(isAttestation(attestation)).toBe(true);
  });
  test('arm/v7 takes v6 when there is no v7, never v8 entries for arm64', () => {
    expect(matchPlatform([entry(3, 'arm', 'v6')], parsePlatform('linux/arm/v7')).entry?.digest).toBe(d(3));
    expect(matchPlatform([entry(3, 'arm', 'v7')], parsePlatform('linux/arm/v6')).entry).toBeUndefined();
  });
  test('the exact variant wins over fallbacks', () => {
    expect(matchPlatform([entry(3, 'arm', 'v6'), entry(4, 'arm', 'v7')], parsePlatform('linux/arm/v7')).entry?.digest).toBe(d(4));
  });
});

describe('manifest parsing', () => {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o));
  test('schema 1 is refused with a clear error', () => {
    expect(() => parseManifest(enc({ schemaVersion: 1, name: 'x', fsLayers: [] }), MEDIA.dockerSchema1Signed)).toThrow(/schema 1 manifest/);
  });
  test('malformed bodies name the problem', () => {
    expect(() => parseManifest(Buffer.from('{"schemaVersion": 2, "manifests": [{"digest": 5}]}'), MEDIA.ociIndex)).toThrow(
      /malformed image index: manifests\.0\.mediaType/,
    );
    expect(() => parseManifest(Buffer.from('<html>'), MEDIA.ociManifest)).toThrow(ManifestError);
  });
  test('index and manifest are told apart by content type or body', () => {
    expect(parseManifest(enc({ schemaVersion: 2, manifests: [] }), undefined).kind).toBe('index');
    const m = { schemaVersion: 2, config: { mediaType: MEDIA.ociConfig, digest: d(1), size: 1 }, layers: [] };
    expect(parseManifest(enc(m), MEDIA.ociManifest).kind).toBe('manifest');
  });
});
