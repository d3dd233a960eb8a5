import zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runChecked, runCommand } from '../process/run.ts';
import {
  buildLayer,
  type IndexEntry,
  MEDIA_TYPES,
  pushAttestationManifest,
  pushImage,
  pushIndex,
  pushRawManifest,
  RegistryResponseError,
  sha256,
} from './oci-builder.ts';
import { requireTestbed } from './testbed.ts';

const bed = await requireTestbed();
const REPO = 'meshcheck-test/oci-builder';

async function fetchBlob(registry: string, digest: string): Promise<Buffer> {
  const res = await request(`http://${registry}/v2/${REPO}/blobs/${digest}`);
  expect(res.statusCode).toBe(200);
  return Buffer.from(await res.body.arrayBuffer());
}

async function tarNames(tarball: Buffer): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      names.push(`${entry.header.type}:${entry.header.name}${entry.header.linkname ? `->${entry.header.linkname}` : ''}`);
      entry.resume();
    }
  })();
  extract.end(tarball);
  await done;
  return names;
}

describe.runIf(bed)('oci-builder pushes real images', () => {
  const registry = bed!.registry.addr;
  const ref = `${registry}/${REPO}:multi`;
  // Image IDs docker pulled, removed in afterAll.
  const pulledIds = new Set<string>();
  let arm64: Awaited<ReturnType<typeof pushImage>>;
  let amd64: Awaited<ReturnType<typeof pushImage>>;
  let attestation: IndexEntry;

  beforeAll(async () => {
    const busyboxLinks = (arch: 'arm64' | 'amd64') => ({
      files: [
        { path: 'bin', dir: true },
        { path: 'bin/busybox', hostFile: bed!.binaries[`busybox-${arch}`]! },
        { path: 'bin/sh', symlink: 'busybox' },
        { path: 'bin/uname', symlink: 'busybox' },
        { path: 'bin/ls', symlink: 'busybox' },
        { path: 'bin/cat', symlink: 'busybox' },
      ],
    });
    const common = { cmd: ['sh'], env: ['PATH=/bin'] };
    arm64 = await pushImage(registry, REPO, 'arm64', { ...common, architecture: 'arm64', variant: 'v8', layers: [busyboxLinks('arm64')] });
    // The amd64 image also proves whiteouts and opaque directories: layer 2 deletes etc/removed and hides etc/old/a.
    amd64 = await pushImage(registry, REPO, 'amd64', {
      ...common,
      architecture: 'amd64',
      layers: [
        busyboxLinks('amd64'),
        {
          files: [
            { path: 'etc', dir: true },
            { path: 'etc/removed', content: 'x\n' },
            { path: 'etc/kept', content: 'kept\n' },
            { path: 'etc/old/a', content: 'a\n' },
            { path: 'etc/kept-link', hardlink: 'etc/kept' },
          ],
        },
        { files: [{ path: 'etc/removed', whiteout: true }, { path: 'etc/old', opaque: true }, { path: 'etc/old/b', content: 'b\n' }] },
      ],
    });
    attestation = await pushAttestationManifest(registry, REPO, arm64);
    await pushIndex(registry, REPO, 'multi', [
      { ...arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { ...amd64, platform: { os: 'linux', architecture: 'amd64' } },
      attestation,
    ]);
  });

  afterAll(async () => {
    if (pulledIds.size) await runCommand('docker', ['rmi', '--force', ...pulledIds]);
  });

  test('layers are tar archives in the order given, and config diff_ids hash the uncompressed tar', async () => {
    const manifestRes = await request(`http://${registry}/v2/${REPO}/manifests/amd64`, { headers: { accept: MEDIA_TYPES.ociManifest } });
    expect(manifestRes.statusCode).toBe(200);
    expect(manifestRes.headers['content-type']).toBe(MEDIA_TYPES.ociManifest);
    const manifest = (await manifestRes.body.json()) as { layers: Array<{ digest: string; mediaType: string }>; config: { digest: string } };
    const config = JSON.parse((await fetchBlob(registry, manifest.config.digest)).toString()) as {
      architecture: string;
      os: string;
      config: { Cmd: string[]; Env: string[] };
      rootfs: { diff_ids: string[] };
    };
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'], Env: ['PATH=/bin'] } });
    const tars = await Promise.all(manifest.layers.map(async (l) => zlib.gunzipSync(await fetchBlob(registry, l.digest))));
    expect(tars.map((t) => sha256(t))).toEqual(config.rootfs.diff_ids);
    expect(await tarNames(tars[1]!)).toEqual(['directory:etc', 'file:etc/removed', 'file:etc/kept', 'file:etc/old/a', 'link:etc/kept-link->etc/kept']);
    expect(await tarNames(tars[2]!)).toEqual(['file:etc/.wh.removed', 'file:etc/old/.wh..wh..opq', 'file:etc/old/b']);
  });

  test('skopeo reads the index: 2 platforms and the attestation entry', async () => {
    const r = await runChecked('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
    const index = JSON.parse(r.stdout) as { mediaType: string; manifests: IndexEntry[] };
    expect(index.mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(index.manifests).toHaveLength(3);
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { os: 'linux', architecture: 'amd64' },
      { os: 'unknown', architecture: 'unknown' },
    ]);
    expect(index.manifests[2]!.annotations).toEqual({
      'vnd.docker.reference.type': 'attestation-manifest',
      'vnd.docker.reference.digest': arm64.digest,
    });
  });

  test('docker pulls the index and runs the arm64 image (aarch64) and the amd64 image with its whiteouts applied', async () => {
    for (const [platform, expected, cmd] of [
      ['linux/arm64', 'aarch64', ['uname', '-m']],
      ['linux/amd64', 'x86_64\nb\nkept\ngone', ['sh', '-c', 'uname -m; ls /etc/old; cat /etc/kept-link; test -e /etc/removed || echo gone']],
    ] as const) {
      await runChecked('docker', ['pull', '--platform', platform, ref], { timeoutMs: 120_000 });
      pulledIds.add((await runChecked('docker', ['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim());
      const r = await runCommand('docker', ['run', '--rm', '--label', 'meshcheck.testbed=true', '--platform', platform, ref, ...cmd]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(expected);
    }
  });

  test('zstd and uncompressed OCI layers: the registry serves them with their media types', async () => {
    const files = [{ path: 'hello.txt', content: 'hello\n' }];
    for (const compression of ['zstd', 'none'] as const) {
      const pushed = await pushImage(registry, REPO, compression, { architecture: 'arm64', layers: [{ files, compression }] });
      const image = `docker://${registry}/${REPO}:${compression}`;
      const info = JSON.parse((await runChecked('skopeo', ['inspect', '--tls-verify=false', '--no-tags', image])).stdout) as {
        Digest: string;
        Architecture: string;
        Layers: string[];
      };
      expect(info).toMatchObject({ Digest: pushed.digest, Architecture: 'arm64', Layers: [pushed.layers[0]!.digest] });
      // skopeo 1.9 has no LayersData: the layer media type comes from the raw manifest.
      const raw = JSON.parse((await runChecked('skopeo', ['inspect', '--tls-verify=false', '--raw', image])).stdout) as { layers: Array<{ mediaType: string }> };
      expect(raw.layers.map((l) => l.mediaType)).toEqual([compression === 'zstd' ? MEDIA_TYPES.ociLayerZstd : MEDIA_TYPES.ociLayer]);
      const blob = await fetchBlob(registry, pushed.layers[0]!.digest);
      const tarball = compression === 'zstd' ? zlib.zstdDecompressSync(blob) : blob;
      expect(await tarNames(tarball)).toEqual(['file:hello.txt']);
    }
  });

  test('docker format: a manifest list of docker v2 manifests; non-gzip layers are refused', async () => {
    const layers = [{ files: [{ path: 'a', content: 'a' }] }];
    const img = await pushImage(registry, REPO, 'docker-amd64', { format: 'docker', architecture: 'amd64', layers });
    expect(img.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(img.config.mediaType).toBe(MEDIA_TYPES.dockerConfig);
    expect(img.layers[0]!.mediaType).toBe(MEDIA_TYPES.dockerLayerGzip);
    const list = await pushIndex(registry, REPO, 'docker-list', [{ ...img, platform: { os: 'linux', architecture: 'amd64' } }], 'docker');
    const r = await runChecked('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${registry}/${REPO}:docker-list`]);
    expect(sha256(r.stdout)).toBe(list.digest);
    expect(JSON.parse(r.stdout)).toMatchObject({ mediaType: MEDIA_TYPES.dockerManifestList, manifests: [{ digest: img.digest }] });
    await expect(buildLayer({ files: [], compression: 'zstd' }, 'docker')).rejects.toThrow(/gzip layers only, not zstd/);
    await expect(pushImage(registry, REPO, 'x', { format: 'docker', architecture: 'amd64', layers: [{ files: [], compression: 'none' }] })).rejects.toThrow(
      /gzip layers only/,
    );
  });

  test('a manifest the registry rejects: the error names the request, status and body', async () => {
    const err = await pushRawManifest(registry, REPO, 'broken', MEDIA_TYPES.ociManifest, '{"schemaVersion": 2, "layers": [').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryResponseError);
    expect((err as RegistryResponseError).status).toBe(400);
    expect((err as Error).message).toMatch(/^pushing manifest meshcheck-test\/oci-builder:broken: PUT http:\/\/.+ answered 400: .*MANIFEST_INVALID/);
  });

  test('pushing the same image twice gives the same digests (layers are reproducible)', async () => {
    const spec = { architecture: 'arm64', layers: [{ files: [{ path: 'x', content: 'same' }] }] };
    const [a, b] = [await pushImage(registry, REPO, undefined, spec), await pushImage(registry, REPO, undefined, spec)];
    expect(b.digest).toBe(a.digest);
    expect(b.layers).toEqual(a.layers);
  });
});
