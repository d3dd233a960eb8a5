/**
 * The audit against the real local registry, with images these tests build and push themselves (oci-builder):
 * every verdict of the vocabulary, produced by a real image and asserted exactly.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parsePlatform } from '../arch/platform.ts';
import { CredentialStore } from '../registry/credentials.ts';
import { RegistryClient } from '../registry/client.ts';
import { startFaultProxy } from '../testing/fault-proxy.ts';
import { type FileSpec, type ImageSpec, type IndexEntry, pushAttestationManifest, pushImage, pushIndex } from '../testing/oci-builder.ts';
import { requireTestbed } from '../testing/testbed.ts';
import { startTokenAuthRegistry } from '../testing/token-registry.ts';
import type { AuditReport } from './report.ts';
import { runAudit, type AuditInput } from './run-audit.ts';

const bed = await requireTestbed();
const PLATFORMS = [parsePlatform('linux/amd64'), parsePlatform('linux/arm64')];
const now = new Date();

function audit(client: RegistryClient, images: string[], deep = true): Promise<AuditReport> {
  const inputs: AuditInput[] = images.map((image, i) => ({ image, from: [`test ${i}`] }));
  return runAudit(client, inputs, { platforms: PLATFORMS, deep, meshcheckVersion: 'test', now });
}

const verdicts = (r: AuditReport, i = 0) => Object.fromEntries(r.images[i]!.platforms.map((p) => [p.platform, p.verdict]));

describe.runIf(bed)('meshcheck audit against the real registry', () => {
  const reg = bed?.registry.addr ?? '';
  const bin = (name: string) => bed!.binaries[name]!;
  const busybox = (arch: string): FileSpec[] => [
    { path: 'bin/busybox', hostFile: bin(`busybox-${arch}`), mode: 0o755 },
    { path: 'bin/sh', symlink: 'busybox' },
  ];
  const image = (architecture: string, files: FileSpec[], extra: Partial<ImageSpec> = {}): ImageSpec => ({
    architecture,
    entrypoint: ['/bin/sh'],
    env: ['PATH=/usr/local/bin:/usr/bin:/bin'],
    layers: [{ files }],
    ...extra,
  });
  const entry = (pushed: { digest: string; size: number; mediaType: string }, architecture: string, variant?: string): IndexEntry => ({
    ...pushed,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  async function multi(repo: string, amd64: ImageSpec | undefined, arm64: ImageSpec | undefined, opts: { armAs?: string; variant?: string; attest?: boolean; format?: 'oci' | 'docker' } = {}) {
    const entries: IndexEntry[] = [];
    if (amd64) entries.push(entry(await pushImage(reg, repo, undefined, amd64), 'amd64'));
    if (arm64) entries.push(entry(await pushImage(reg, repo, undefined, arm64), opts.armAs ?? 'arm64', opts.variant));
    if (opts.attest) for (const e of [...entries]) entries.push(await pushAttestationManifest(reg, repo, e));
    await pushIndex(reg, repo, '1', entries, opts.format ?? 'oci');
    return `${reg}/${repo}:1`;
  }

  let client: RegistryClient;
  const refs: Record<string, string> = {};
  beforeAll(async () => {
    client = new RegistryClient({ insecureHosts: [reg], credentials: new CredentialStore({ env: {}, helpers: false }) });
    refs.ok = await multi('audit/multi', image('amd64', busybox('amd64')), image('arm64', busybox('arm64'), { variant: 'v8' }), { variant: 'v8' });
    refs.amd64Only = await multi('audit/amd64-only', image('amd64', busybox('amd64')), undefined);
    refs.lyingBinary = await multi('audit/lying-binary', image('amd64', busybox('amd64')), image('arm64', busybox('amd64')));
    refs.lyingConfig = await multi('audit/lying-config', image('amd64', busybox('amd64')), image('amd64', busybox('amd64')), { armAs: 'arm64' });
    const script: FileSpec = { path: 'app/run.sh', content: '#!/bin/sh\nexec /bin/busybox httpd -f\n', mode: 0o755 };
    refs.badInterpreter = await multi('audit/bad-interpreter', image('amd64', [...busybox('amd64'), script], { entrypoint: ['/app/run.sh'] }), image('arm64', [...busybox('amd64'), script], { entrypoint: ['/app/run.sh'] }));
    const envScript: FileSpec = { path: 'app/server', content: '#!/usr/bin/env sh\necho hi\n', mode: 0o755 };
    refs.envInterpreter = await multi('audit/env-interpreter', undefined, image('arm64', [...busybox('arm64'), envScript], { entrypoint: ['server'], env: ['PATH=/app:/bin'] }));
    refs.attested = await multi('audit/attested', image('amd64', busybox('amd64')), image('arm64', busybox('arm64')), { attest: true });
    refs.pageSize = await multi('audit/page-size', undefined, image('arm64', [{ path: 'hello', hostFile: bin('hello-arm64-4k'), mode: 0o755 }], { entrypoint: ['/hello'] }));
    refs.pageSize64k = await multi('audit/page-size-64k', undefined, image('arm64', [{ path: 'hello', hostFile: bin('hello-arm64-64k'), mode: 0o755 }], { entrypoint: ['/hello'] }));
    // Three layers: the entrypoint is in the top one, so a deep audit reads one layer of three.
    const layered = (compression: 'gzip' | 'zstd' | 'none'): ImageSpec => ({
      architecture: 'arm64',
      entrypoint: ['hello'],
      env: ['PATH=/usr/local/bin:/bin'],
      layers: [
        { files: busybox('arm64'), compression },
        { files: [{ path: 'etc/motd', content: 'x'.repeat(100_000) }], compression },
        { files: [{ path: 'usr/local/bin/hello', hostFile: bin('hello-arm64-64k'), mode: 0o755 }], compression },
      ],
    });
    refs.zstd = await multi('audit/zstd', undefined, layered('zstd'));
    refs.plainTar = await multi('audit/plain-tar', undefined, layered('none'));
    // The top layer deletes the arm64 binary; PATH then finds an amd64 one further down.
    refs.whiteout = await multi('audit/whiteout', undefined, {
      architecture: 'arm64',
      entrypoint: ['tool'],
      env: ['PATH=/usr/local/bin:/usr/bin'],
      layers: [
        { files: [{ path: 'usr/bin/tool', hostFile: bin('busybox-amd64'), mode: 0o755 }] },
        { files: [{ path: 'usr/local/bin/tool', hostFile: bin('busybox-arm64'), mode: 0o755 }] },
        { files: [{ path: 'usr/local/bin/tool', whiteout: true }] },
      ],
    });
    refs.single = `${reg}/audit/single:1`;
    await pushImage(reg, 'audit/single', '1', image('amd64', busybox('amd64')));
    refs.docker = await multi('audit/docker-format', image('amd64', busybox('amd64'), { format: 'docker' }), image('arm64', busybox('arm64'), { format: 'docker' }), { format: 'docker' });
  }, 180_000);
  afterAll(() => client?.close());

  test('multi-arch index (arm64 listed as arm64/v8): ok for both, the entrypoint read from the layers', async () => {
    const r = await audit(client, [refs.ok!]);
    expect(verdicts(r)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'ok' });
    const arm = r.images[0]!.platforms[1]!;
    expect(arm.entrypoint).toMatchObject({ resolved: '/bin/busybox', elf: { arch: 'arm64', machine: 'aarch64', linkage: 'static' } });
    expect(r.exitCode).toBe(0);
  });

  test('amd64-only index: missing-platform for arm64, naming what the index has', async () => {
    const r = await audit(client, [refs.amd64Only!], false);
    expect(verdicts(r)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'missing-platform' });
    expect(r.images[0]!.platforms[1]!.reason).toBe('the index has no linux/arm64 entry (it has: linux/amd64)');
    expect(r.exitCode).toBe(1);
  });

  test('an arm64 entry whose binary is x86-64: binary-mismatch (deep), invisible without --deep', async () => {
    expect(verdicts(await audit(client, [refs.lyingBinary!], false))).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'ok' });
    const r = await audit(client, [refs.lyingBinary!]);
    expect(verdicts(r)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'binary-mismatch' });
    expect(r.images[0]!.platforms[1]!.reason).toMatch(/^\/bin\/busybox is built for x86_64 \(amd64\)/);
  });

  test('config architecture contradicting the index: config-mismatch', async () => {
    const r = await audit(client, [refs.lyingConfig!], false);
    expect(verdicts(r)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'config-mismatch' });
    expect(r.images[0]!.platforms[1]!.reason).toBe('the index lists this entry as linux/arm64 but its config says linux/amd64');
  });

  test('a shebang script whose interpreter is the wrong arch: binary-mismatch through the #! chain', async () => {
    const r = await audit(client, [refs.badInterpreter!]);
    expect(verdicts(r)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'binary-mismatch' });
    const arm = r.images[0]!.platforms[1]!;
    expect(arm.entrypoint?.chain.map((c) => c.kind)).toEqual(['script', 'elf']);
    expect(arm.reason).toMatch(/^\/bin\/busybox \(interpreter of \/app\/run\.sh\) is built for x86_64/);
  });

  test('#!/usr/bin/env sh is looked up along the config PATH', async () => {
    const r = await audit(client, [refs.envInterpreter!]);
    const arm = r.images[0]!.platforms[1]!;
    expect(arm.verdict).toBe('ok');
    expect(arm.entrypoint).toMatchObject({ resolved: '/app/server', elf: { arch: 'arm64' } });
  });

  test('OCI index with attestation entries: ignored, not reported as a platform', async () => {
    const r = await audit(client, [refs.attested!], false);
    expect(verdicts(r)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'ok' });
    expect(r.images[0]).toMatchObject({ available: ['linux/amd64', 'linux/arm64'], attestationsIgnored: 2 });
  });

  test('a 4 KiB-aligned arm64 binary: page-size-risk; at 64 KiB: ok', async () => {
    const r = await audit(client, [refs.pageSize!, refs.pageSize64k!]);
    expect(r.images[0]!.platforms[1]).toMatchObject({ verdict: 'page-size-risk', entrypoint: { elf: { loadAlign: { max: 4096 } } } });
    expect(r.images[0]!.platforms[1]!.reason).toMatch(/aligned to 4096 bytes/);
    expect(r.images[1]!.platforms[1]!.verdict).toBe('ok');
  });

  test('zstd and uncompressed layers; the deep read stops after the top layer', async () => {
    const r = await audit(client, [refs.zstd!, refs.plainTar!]);
    for (const img of r.images) {
      const arm = img.platforms[1]!;
      expect(arm.verdict).toBe('ok');
      expect(arm.deep).toMatchObject({ layersRead: 1, layersTotal: 3 });
      expect(arm.deep!.bytesRead).toBeLessThan(arm.deep!.bytesTotal);
    }
  });

  test('a whiteout in the top layer hides the arm64 binary; PATH finds the amd64 one below', async () => {
    const r = await audit(client, [refs.whiteout!]);
    const arm = r.images[0]!.platforms[1]!;
    expect(arm).toMatchObject({ verdict: 'binary-mismatch', entrypoint: { resolved: '/usr/bin/tool' }, deep: { layersRead: 3 } });
  });

  test('a single-platform image (no index) and a Docker manifest list', async () => {
    const single = await audit(client, [refs.single!]);
    expect(verdicts(single)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'missing-platform' });
    expect(single.images[0]!.platforms[1]!.reason).toBe('single-platform image for linux/amd64; no linux/arm64 variant');
    const docker = await audit(client, [refs.docker!]);
    expect(verdicts(docker)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'ok' });
    expect(docker.images[0]!.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
  });

  test('bad input does not stop the others: unparsable reference, unknown tag, unreachable registry', async () => {
    const r = await audit(client, ['Not A Ref', `${reg}/audit/nothing-here:1`, '127.0.0.1:1/x/y:1', refs.ok!], false);
    expect(r.images[0]!.error).toMatch(/^not an image reference: "Not A Ref" contains whitespace/);
    expect(verdicts(r, 1)).toEqual({ 'linux/amd64': 'not-found', 'linux/arm64': 'not-found' });
    expect(r.images[2]!.platforms[0]).toMatchObject({ verdict: 'unreachable', reason: expect.stringMatching(/cannot reach 127\.0\.0\.1:1 \(ECONNREFUSED/) });
    expect(verdicts(r, 3)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'ok' });
    expect(r.exitCode).toBe(1);
    expect((await audit(client, ['127.0.0.1:1/x/y:1'], false)).exitCode).toBe(3);
  });

  test('a registry answering 429 (Retry-After: 1) twice, then succeeding', async () => {
    const retries: number[] = [];
    await using proxy = await startFaultProxy(reg, [
      { match: /^GET \/v2\/audit\/multi\/manifests\/1$/, times: 2, respond: { status: 429, headers: { 'retry-after': '1' }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}' } },
    ]);
    await using c = new RegistryClient({ insecureHosts: [proxy.addr], onRetry: (i) => retries.push(i.delayMs) });
    const r = await audit(c, [`${proxy.addr}/audit/multi:1`], false);
    expect(verdicts(r)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'ok' });
    expect(retries).toEqual([1000, 1000]);
    expect(proxy.requests.filter((q) => q.faulted)).toHaveLength(2);
  });

  test('blobs follow redirects to storage (another origin), as registries on S3/GCS answer', async () => {
    const pushed = await pushImage(reg, 'audit/redirect', '1', image('arm64', busybox('arm64')));
    const blobs = [pushed.config, ...pushed.layers].map((b) => b.digest);
    await using proxy = await startFaultProxy(
      reg,
      blobs.map((digest) => ({
        match: new RegExp(`^GET /v2/audit/redirect/blobs/${digest}$`),
        respond: { status: 307, headers: { location: `http://${reg}/v2/audit/redirect/blobs/${digest}` } },
      })),
    );
    await using c = new RegistryClient({ insecureHosts: [proxy.addr, reg] });
    const r = await audit(c, [`${proxy.addr}/audit/redirect:1`]);
    expect(r.images[0]!.platforms[1]).toMatchObject({ verdict: 'ok', entrypoint: { elf: { arch: 'arm64' } } });
    expect(proxy.requests.filter((q) => q.faulted).map((q) => q.path.split('/').pop())).toEqual(blobs);
    // Redirects to plain HTTP of a host not listed as insecure are refused.
    await using strict = new RegistryClient({ insecureHosts: [proxy.addr] });
    const refused = await audit(strict, [`${proxy.addr}/audit/redirect:1`], false);
    expect(refused.images[0]!.platforms[1]!.reason).toMatch(/redirected to plain HTTP \(127\.0\.0\.1:\d+\)/);
  });

  test('malformed and oversized manifests: unreachable, with the reason', async () => {
    await using proxy = await startFaultProxy(reg, [
      { match: /^GET \/v2\/audit\/multi\/manifests\/1$/, respond: { status: 200, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' }, body: '{"schemaVersion": 2, "manifests": [{"digest": 7}]}' } },
      { match: /^GET \/v2\/audit\/amd64-only\/manifests\/1$/, respond: { status: 200, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' }, body: Buffer.alloc(5 * 1024 * 1024, 0x20) } },
    ]);
    await using c = new RegistryClient({ insecureHosts: [proxy.addr] });
    const r = await audit(c, [`${proxy.addr}/audit/multi:1`, `${proxy.addr}/audit/amd64-only:1`], false);
    expect(r.images[0]!.platforms[0]).toMatchObject({ verdict: 'unreachable', reason: expect.stringMatching(/malformed image index: manifests\.0\.mediaType/) });
    expect(r.images[1]!.platforms[0]).toMatchObject({ verdict: 'unreachable', reason: expect.stringMatching(/over the 4194304-byte limit/) });
  });

  describe('a registry demanding bearer tokens (its own token auth; the token endpoint run by the test)', () => {
    async function pushWithToken(tr: { addr: string; realm: string; service: string }, repo: string, auth: string) {
      const url = new URL(tr.realm);
      url.searchParams.set('service', tr.service);
      url.searchParams.set('scope', `repository:${repo}:pull,push`);
      const res = await fetch(url, { headers: { authorization: auth } });
      const { token } = (await res.json()) as { token: string };
      const headers = { authorization: `Bearer ${token}` };
      const amd = await pushImage(tr.addr, repo, undefined, image('amd64', busybox('amd64')), { headers });
      const arm = await pushImage(tr.addr, repo, undefined, image('arm64', busybox('arm64')), { headers });
      await pushIndex(tr.addr, repo, '1', [entry(amd, 'amd64'), entry(arm, 'arm64')], 'oci', { headers });
    }
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

    test('anonymous pull tokens', async () => {
      await using tr = await startTokenAuthRegistry({ users: { ci: 's3cret' }, anonymousPull: true });
      await pushWithToken(tr, 'mesh/pilot', basic('ci', 's3cret'));
      await using c = new RegistryClient({ insecureHosts: [tr.addr, new URL(tr.realm).host], credentials: new CredentialStore({ env: {}, helpers: false }) });
      const r = await audit(c, [`${tr.addr}/mesh/pilot:1`]);
      expect(verdicts(r)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'ok' });
      expect(tr.tokenRequests.some((t) => t.account === undefined && t.authorized)).toBe(true);
    });

    test('credentials from DOCKER_AUTH_CONFIG; refused without them; the secret never appears in the report', async () => {
      await using tr = await startTokenAuthRegistry({ users: { ci: 's3cret-pw' }, anonymousPull: false });
      await pushWithToken(tr, 'mesh/proxy', basic('ci', 's3cret-pw'));
      const insecure = [tr.addr, new URL(tr.realm).host];
      const env = { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [tr.addr]: { auth: Buffer.from('ci:s3cret-pw').toString('base64') } } }) };
      await using withCreds = new RegistryClient({ insecureHosts: insecure, credentials: new CredentialStore({ env, helpers: false }) });
      const ok = await audit(withCreds, [`${tr.addr}/mesh/proxy:1`]);
      expect(verdicts(ok)).toEqual({ 'linux/amd64': 'ok', 'linux/arm64': 'ok' });
      expect(tr.tokenRequests.some((t) => t.account === 'ci' && t.authorized)).toBe(true);

      await using anonymous = new RegistryClient({ insecureHosts: insecure, credentials: new CredentialStore({ env: {}, helpers: false }) });
      const denied = await audit(anonymous, [`${tr.addr}/mesh/proxy:1`], false);
      expect(denied.images[0]!.platforms[0]!.verdict).toBe('unreachable');
      expect(denied.images[0]!.platforms[0]!.reason).toMatch(/access denied|refused a token/);
      const wrong = { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [tr.addr]: { auth: Buffer.from('ci:wrong-pw').toString('base64') } } }) };
      await using bad = new RegistryClient({ insecureHosts: insecure, credentials: new CredentialStore({ env: wrong, helpers: false }) });
      const refused = await audit(bad, [`${tr.addr}/mesh/proxy:1`], false);
      expect(refused.images[0]!.platforms[0]!.reason).toMatch(/refused a token with credentials from DOCKER_AUTH_CONFIG/);
      expect(JSON.stringify([ok, denied, refused])).not.toMatch(/s3cret-pw|wrong-pw|Y2k6/);
    });
  });
});
