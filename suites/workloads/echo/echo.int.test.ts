/**
 * The test bed's echo image, run for real: amd64 natively and arm64 under QEMU (binfmt), both pulled from the
 * registry's index by platform, as a kubelet would. Every answer comes over real HTTP from the running container.
 */
import http2 from 'node:http2';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runChecked, runCommand } from '../../../harness/process/run.ts';
import { requireTestbed } from '../../../harness/testing/testbed.ts';
import type { EchoAnswer } from './server.ts';

const bed = await requireTestbed();
const IMAGE = 'meshcheck/echo';
/** arm64 Node under user-mode QEMU takes a few seconds to start here; leave room for a loaded machine. */
const READY_WITHIN_MS = 90_000;

/** Containers still to be removed, and every container this file started. */
const started = new Set<string>();
const everStarted = new Set<string>();

async function runEcho(platform: string): Promise<{ id: string; base: string }> {
  const ref = bed!.images[IMAGE]?.ref;
  if (!ref) throw new Error(`the test bed has no ${IMAGE} image: run \`npm run testbed -- up\` again`);
  const r = await runChecked(
    'docker',
    // --pull always: take the platform's entry from the registry's index, never a stale local image of that tag.
    // --init: under QEMU an emulated PID 1 that dies of a fatal signal hangs; tini also forwards docker stop's SIGTERM.
    ['run', '--rm', '-d', '--init', '--pull', 'always', '--label', 'meshcheck.testbed=true', '-p', '127.0.0.1::8080', '--platform', platform, '-e', 'POD_NAMESPACE=echo-test', '-e', 'VERSION=v7', '-e', 'DRAIN_MS=15000', ref],
    { timeoutMs: 120_000 },
  );
  const id = r.stdout.trim().split('\n').at(-1)!;
  started.add(id);
  everStarted.add(id);
  const port = await runChecked('docker', ['port', id, '8080/tcp']);
  const addr = port.stdout.split('\n').find((l) => l.startsWith('127.0.0.1:'));
  if (!addr) throw new Error(`docker port ${id} 8080/tcp said: ${port.stdout}`);
  const base = `http://${addr}`;
  const deadline = Date.now() + READY_WITHIN_MS;
  for (;;) {
    try {
      const res = await request(`${base}/readyz`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
      await res.body.dump();
      if (res.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const logs = await runCommand('docker', ['logs', id]);
      throw new Error(`the ${platform} echo container did not get ready within ${READY_WITHIN_MS / 1000} s; logs:\n${logs.stdout}${logs.stderr}`);
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  return { id, base };
}

async function getJson(url: string): Promise<{ status: number; body: EchoAnswer & Record<string, unknown> }> {
  const res = await request(url);
  return { status: res.statusCode, body: (await res.body.json()) as EchoAnswer & Record<string, unknown> };
}

describe.runIf(bed)('the echo image on the test bed', () => {
  afterAll(async () => {
    // docker run --rm removes what stopped; anything a failed test left running goes here.
    if (started.size) await runCommand('docker', ['rm', '-f', ...started]);
    // None of the containers this file started may remain (other files' containers are theirs to remove). A
    // stopped --rm container is removed by the daemon a moment after `docker wait` returns: give it that moment.
    let left: string[] = [];
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((res) => setTimeout(res, 200))) {
      const all = await runChecked('docker', ['ps', '-aq', '--no-trunc']);
      left = all.stdout.split('\n').filter((id) => everStarted.has(id));
      if (left.length === 0) break;
    }
    expect(left).toEqual([]);
  });

  test('the registry serves it as one index with amd64 and arm64 entries', async () => {
    const ref = bed!.images[IMAGE]!.ref;
    const host = ref.slice(0, ref.indexOf('/'));
    const [name, tag] = ref.slice(ref.indexOf('/') + 1).split(':') as [string, string];
    const res = await request(`http://${host}/v2/${name}/manifests/${tag}`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json' },
    });
    expect(res.statusCode).toBe(200);
    const index = (await res.body.json()) as { manifests: Array<{ platform: { os: string; architecture: string } }> };
    expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()).toEqual(['linux/amd64', 'linux/arm64']);
  });

  // One platform after the other: both pull the same index tag, and two pulls of one tag must not race.
  describe.each([
    { platform: 'linux/amd64', arch: 'x64' },
    { platform: 'linux/arm64', arch: 'arm64' },
  ])('$platform', ({ platform, arch }) => {
    let c: { id: string; base: string };

    beforeAll(async () => {
      c = await runEcho(platform);
    }, READY_WITHIN_MS + 60_000);

    test(`answers with arch ${arch}`, async () => {
      const { status, body } = await getJson(`${c.base}/hello?from=test`);
      expect(status).toBe(200);
      expect(body).toMatchObject({ arch, platform: 'linux', protocol: 'HTTP/1.1', path: '/hello', query: { from: 'test' }, namespace: 'echo-test', version: 'v7' });
      // Without POD_NAME the pod is the hostname, which Docker sets to the short container id.
      expect(c.id.startsWith(body.pod)).toBe(true);
      // What runs is this platform's entry of the index, i.e. the per-arch image `up` built and pushed.
      const running = await runChecked('docker', ['inspect', '--format', '{{.Image}}', c.id]);
      const built = await runChecked('docker', ['image', 'inspect', '--format', '{{.Id}}', bed!.images[IMAGE]!.platforms[platform]!]);
      expect(running.stdout.trim()).toBe(built.stdout.trim());
    });

    test('h2c with prior knowledge on the same port', async () => {
      const session = http2.connect(c.base);
      try {
        const text = await new Promise<string>((resolve, reject) => {
          const stream = session.request({ ':path': '/h2' });
          let data = '';
          stream.setEncoding('utf8');
          stream.on('data', (d: string) => (data += d));
          stream.on('end', () => resolve(data));
          stream.on('error', reject);
          session.on('error', reject);
          stream.end();
        });
        expect(JSON.parse(text)).toMatchObject({ protocol: 'h2c', arch });
      } finally {
        session.close();
      }
    });

    test('succeedAfter/uuid: N failures then success, and /attempts counts them', async () => {
      const uuid = `int-${arch}-${Date.now()}`;
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await request(`${c.base}/retry/x?succeedAfter=2&responseCode=500&uuid=${uuid}`);
        await res.body.dump();
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([500, 500, 200, 200]);
      expect((await getJson(`${c.base}/attempts?uuid=${uuid}`)).body).toEqual({ uuid, attempts: 4, failed: 2 });
      expect((await getJson(`${c.base}/attempts?uuid=other-${uuid}`)).body).toMatchObject({ attempts: 0 });
    });

    test('docker stop: the in-flight request finishes and the container exits 0', async () => {
      const inflight = request(`${c.base}/?delay=1500ms&uuid=stop-${arch}`);
      // The request must be inside the server before the signal, not merely sent.
      for (;;) {
        if ((await getJson(`${c.base}/attempts?uuid=stop-${arch}`)).body.attempts) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      // --rm removes the container as soon as it exits, so listen for the exit code and logs before stopping.
      const waited = runCommand('docker', ['wait', c.id], { timeoutMs: 60_000 });
      const logs = runCommand('docker', ['logs', '-f', c.id], { timeoutMs: 60_000 });
      await new Promise((res) => setTimeout(res, 500));
      const t0 = Date.now();
      const stop = await runCommand('docker', ['stop', '-t', '30', c.id], { timeoutMs: 60_000 });
      expect(stop.exitCode, stop.stderr).toBe(0);
      const res = await inflight;
      expect(res.statusCode).toBe(200);
      expect(((await res.body.json()) as EchoAnswer).arch).toBe(arch);
      expect((await waited).stdout.trim()).toBe('0');
      expect(Date.now() - t0).toBeLessThan(15_000); // drained, not killed at the -t deadline
      const lines = (await logs).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'signal', signal: 'SIGTERM' }));
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'drained', forced: false, abandoned: 0 }));
      started.delete(c.id);
    });
  });
});
