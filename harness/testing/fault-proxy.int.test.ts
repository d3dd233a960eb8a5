import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { MEDIA_TYPES, pushImage } from './oci-builder.ts';
import { requireTestbed } from './testbed.ts';

const bed = await requireTestbed();
const REPO = 'meshcheck-test/fault-proxy';
const ACCEPT = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerManifestList].join(', ');
const FIVE_MIB = 5 * 1024 * 1024;

describe.runIf(bed)('fault proxy in front of the real registry', () => {
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await startFaultProxy(bed!.registry.addr, [
      { match: /^GET \/v2\/meshcheck-test\/fault-proxy\/manifests\/1$/, times: 2, respond: { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' } },
      {
        match: /^GET \/v2\/meshcheck-test\/fault-proxy\/manifests\/malformed$/,
        respond: { status: 200, headers: { 'content-type': MEDIA_TYPES.ociManifest }, body: '{"schemaVersion": 2, "layers": [' },
      },
      {
        match: /^GET \/v2\/meshcheck-test\/fault-proxy\/manifests\/huge$/,
        respond: { status: 200, headers: { 'content-type': MEDIA_TYPES.ociManifest }, body: new Uint8Array(FIVE_MIB).fill(0x20) },
      },
    ]);
  });

  afterAll(async () => {
    await proxy?.close();
  });

  test('uploads pass through unchanged, and Location headers are rewritten so the PUTs come back through the proxy', async () => {
    const pushed = await pushImage(proxy.addr, REPO, '1', { architecture: 'arm64', layers: [{ files: [{ path: 'f', content: String(Date.now()) }] }] });
    const seen = proxy.requests.map((r) => `${r.method} ${r.path.replace(/\?.*/, '?…')}`);
    expect(seen).toContain(`POST /v2/${REPO}/blobs/uploads/`);
    expect(seen.filter((s) => /^PUT \/v2\/meshcheck-test\/fault-proxy\/blobs\/uploads\/[\w-]+\?…$/.test(s))).toHaveLength(2);
    expect(seen).toContain(`PUT /v2/${REPO}/manifests/1`);
    expect(proxy.requests.every((r) => !r.faulted)).toBe(true);
    // The registry itself has the image the proxy passed through.
    const direct = await request(`http://${bed!.registry.addr}/v2/${REPO}/manifests/1`, { method: 'HEAD', headers: { accept: ACCEPT } });
    await direct.body.dump();
    expect(direct.headers['docker-content-digest']).toBe(pushed.digest);
  });

  test('429 with Retry-After twice, then the real manifest', async () => {
    const before = proxy.requests.length;
    const seen: Array<{ status: number; retryAfter: unknown; body: string }> = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(`http://${proxy.addr}/v2/${REPO}/manifests/1`, { headers: { accept: ACCEPT } });
      seen.push({ status: res.statusCode, retryAfter: res.headers['retry-after'], body: await res.body.text() });
    }
    expect(seen.map((s) => [s.status, s.retryAfter])).toEqual([
      [429, '1'],
      [429, '1'],
      [200, undefined],
    ]);
    expect(JSON.parse(seen[2]!.body)).toMatchObject({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip }] });
    expect(proxy.requests.slice(before).map((r) => r.faulted)).toEqual([true, true, false]);
  });

  test('a malformed JSON manifest', async () => {
    const res = await request(`http://${proxy.addr}/v2/${REPO}/manifests/malformed`, { headers: { accept: ACCEPT } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(MEDIA_TYPES.ociManifest);
    const text = await res.body.text();
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });

  test('a 5 MiB body', async () => {
    const res = await request(`http://${proxy.addr}/v2/${REPO}/manifests/huge`, { headers: { accept: ACCEPT } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(FIVE_MIB));
    expect((await res.body.arrayBuffer()).byteLength).toBe(FIVE_MIB);
  });

  test('requests no rule matches pass through with the upstream status (404 for an unknown tag)', async () => {
    const res = await request(`http://${proxy.addr}/v2/${REPO}/manifests/no-such-tag`, { headers: { accept: ACCEPT } });
    expect(res.statusCode).toBe(404);
    expect(await res.body.json()).toMatchObject({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
  });

  test('an unreachable upstream is a 502 that names it', async () => {
    await using dead = await startFaultProxy('127.0.0.1:1', []);
    const res = await request(`http://${dead.addr}/v2/`);
    expect(res.statusCode).toBe(502);
    expect(await res.body.text()).toMatch(/^fault proxy: upstream 127\.0\.0\.1:1 failed: .*ECONNREFUSED/);
  });
});
