/**
 * Smoke on the test bed: real containers, real QEMU, images these tests build and push. Each Must-show case of the
 * smoke issue, asserted exactly; afterwards nothing of meshcheck's is left in Docker.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DockerTarget, type StartedDockerTarget } from '../../clusters/docker/docker-target.ts';
import { probeHost } from '../arch/host.ts';
import { parsePlatform } from '../arch/platform.ts';
import { runCommand } from '../process/run.ts';
import { CredentialStore } from '../registry/credentials.ts';
import { RegistryClient } from '../registry/client.ts';
import { type FileSpec, type ImageSpec, pushImage, pushIndex } from '../testing/oci-builder.ts';
import { requireTestbed } from '../testing/testbed.ts';
import { planSweep } from './sweep-plan.ts';
import type { SmokeReport } from './report.ts';
import { runSmoke } from './run-smoke.ts';

const bed = await requireTestbed();
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/meshcheck.js');
const ARM64 = [parsePlatform('linux/arm64')];

export async function meshcheckContainers(): Promise<string[]> {
  const r = await runCommand('docker', ['ps', '-aq', '--filter', 'label=meshcheck.managed=true']);
  return r.stdout.split('\n').filter(Boolean);
}

describe.runIf(bed)('meshcheck smoke on the Docker target', () => {
  const reg = bed?.registry.addr ?? '';
  const file = (p: string, name: string): FileSpec => ({ path: p, hostFile: bed!.binaries[name]!, mode: 0o755 });
  const refs: Record<string, string> = {};
  async function push(repo: string, entries: Array<[string, ImageSpec]>) {
    const pushed = [];
    for (const [arch, spec] of entries) pushed.push({ ...(await pushImage(reg, repo, undefined, spec)), platform: { os: 'linux', architecture: arch } });
    await pushIndex(reg, repo, '1', pushed);
    return `${reg}/${repo}:1`;
  }
  const arm = (files: FileSpec[], entrypoint: string[]): ImageSpec => ({ architecture: 'arm64', entrypoint, layers: [{ files }] });
  let client: RegistryClient;
  let target: StartedDockerTarget;
  let sweep: Awaited<ReturnType<typeof planSweep>>;

  beforeAll(async () => {
    refs.lse = await push('smoke/lse', [['arm64', arm([file('bin/lse', 'lse-arm64')], ['/bin/lse'])]]);
    refs.armv80 = await push('smoke/armv80', [['arm64', arm([file('bin/hello', 'hello-arm64-64k')], ['/bin/hello'])]]);
    refs.lying = await push('smoke/lying', [['arm64', arm([file('bin/busybox', 'busybox-amd64')], ['/bin/busybox'])]]);
    refs.crash = await push('smoke/crash', [['arm64', arm([file('bin/crash', 'crash-arm64')], ['/bin/crash'])]]);
    refs.busybox = await push('smoke/busybox', [
      ['amd64', { architecture: 'amd64', entrypoint: ['/bin/busybox'], layers: [{ files: [file('bin/busybox', 'busybox-amd64')] }] }],
      ['arm64', arm([file('bin/busybox', 'busybox-arm64')], ['/bin/busybox'])],
    ]);
    client = new RegistryClient({ insecureHosts: [reg], credentials: new CredentialStore({ env: {}, helpers: false }) });
    target = await new DockerTarget().withDefaultTimeout(60_000).start();
    sweep = await planSweep(await probeHost(), ARM64, undefined);
  }, 120_000);
  afterAll(async () => {
    await target?.stop();
    await client?.close();
  });

  const smoke = (image: string, extra: Partial<Parameters<typeof runSmoke>[3]> = {}): Promise<SmokeReport> =>
    runSmoke(client, target, [{ image, from: ['test'] }], {
      platforms: ARM64,
      host: { arch: 'amd64' },
      timeoutMs: 30_000,
      sweep: sweep.models,
      sweepNotes: sweep.notes,
      meshcheckVersion: 'test',
      now: new Date(),
      ...extra,
    });

  test('the sweep plan on Debian QEMU 7.2: no neoverse-v1, a64fx stands in for SVE', () => {
    expect(sweep.models.map((m) => m.name)).toEqual(expect.arrayContaining(['cortex-a53', 'cortex-a72', 'neoverse-n1', 'a64fx', 'max']));
    expect(sweep.models.map((m) => m.name)).not.toContain('neoverse-v1');
    expect(sweep.notes.join(' ')).toMatch(/neoverse-v1/);
  });

  test('LSE atomics: ok on neoverse-n1, illegal-instruction on cortex-a53 naming the instruction; baseline neoverse-n1', async () => {
    const r = await smoke(refs.lse!, { commands: [{ args: [], label: '/bin/lse' }] });
    const p = r.images[0]!.platforms[0]!;
    expect(p).toMatchObject({ platform: 'linux/arm64', how: 'emulated', verdict: 'ok' });
    const byModel = Object.fromEntries(p.sweep!.entries.map((e) => [e.model, e]));
    expect(byModel['neoverse-n1']!.verdict).toBe('ok');
    expect(byModel['cortex-a53']!.verdict).toBe('illegal-instruction');
    expect(byModel['cortex-a72']!.verdict).toBe('illegal-instruction');
    expect(byModel['cortex-a53']!.instruction).toMatchObject({ feature: expect.stringMatching(/LSE/i), introduced: expect.stringMatching(/8\.1/) });
    expect(p.sweep!.baseline).toBe('neoverse-n1');
    expect(p.sweep!.failsOn).toEqual(expect.arrayContaining(['cortex-a53', 'cortex-a72']));
  });

  test('a plain ARMv8.0 binary passes on every model', async () => {
    const r = await smoke(refs.armv80!, { commands: [{ args: [], label: '/bin/hello' }] });
    const p = r.images[0]!.platforms[0]!;
    expect(p.verdict).toBe('ok');
    expect(p.sweep!.entries.every((e) => e.verdict === 'ok')).toBe(true);
    expect(p.sweep!.baseline).toBe('cortex-a53');
    expect(p.runs[0]!.output).toMatch(/hello from meshcheck test bed/);
  });

  test('an image labelled arm64 whose binary is x86-64 runs here, and is binary-mismatch', async () => {
    const r = await smoke(refs.lying!, { commands: [{ args: ['true'], label: 'busybox true' }], sweep: [] });
    const p = r.images[0]!.platforms[0]!;
    expect(p.runs[0]!.exitCode).toBe(0); // it really ran (natively: this host is amd64)
    expect(p.verdict).toBe('binary-mismatch');
    expect(p.reason).toMatch(/it ran here, but \/bin\/busybox is built for x86_64/);
    expect(r.exitCode).toBe(1);
  });

  test('a crashing binary is segfault', async () => {
    const r = await smoke(refs.crash!, { commands: [{ args: ['segv'], label: '/bin/crash segv' }], sweep: [] });
    expect(r.images[0]!.platforms[0]).toMatchObject({ verdict: 'segfault', reason: expect.stringMatching(/uncaught target signal 11/) });
  });

  test('a hanging one is timeout, and its container is gone afterwards', async () => {
    const r = await smoke(refs.busybox!, { commands: [{ args: ['sleep', '600'], label: 'busybox sleep 600' }], sweep: [], timeoutMs: 3_000 });
    expect(r.images[0]!.platforms[0]).toMatchObject({ verdict: 'timeout' });
    expect(await meshcheckContainers()).toEqual([]);
  });

  test('native and emulated start-up times are both reported', async () => {
    const r = await smoke(refs.busybox!, { platforms: [parsePlatform('linux/amd64'), parsePlatform('linux/arm64')], commands: [{ args: ['true'], label: 'busybox true' }], sweep: [] });
    const [amd, armP] = r.images[0]!.platforms;
    expect(amd).toMatchObject({ how: 'native', verdict: 'ok' });
    expect(armP).toMatchObject({ how: 'emulated', verdict: 'ok' });
    expect(amd!.startupMs).toBeGreaterThanOrEqual(0);
    expect(armP!.startupMs).toBeGreaterThanOrEqual(0);
  });

  test('missing platform comes from the registry; nothing is run for it', async () => {
    const r = await smoke(bed!.images['meshcheck-test/amd64-only']!.ref, { sweep: [] });
    expect(r.images[0]!.platforms[0]).toMatchObject({ verdict: 'missing-platform', runs: [] });
  });

  describe('the CLI cleans up after Ctrl-C, and after kill -9 at the next start', () => {
    async function waitForContainer(timeoutMs = 30_000): Promise<string[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ids = await meshcheckContainers();
        if (ids.length) return ids;
        if (Date.now() > deadline) throw new Error('no meshcheck container appeared');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const hang = () =>
      spawn(process.execPath, [bin, 'smoke', '--insecure-registry', reg, '--platform', 'linux/amd64', '--no-sweep', '--timeout', '600000', '--command', '/bin/busybox sleep 600', '--json', refs.busybox!], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });

    test('Ctrl-C in the middle: the report of what ran is written, exit 3, no container remains', async () => {
      const child = hang();
      let stdout = '';
      child.stdout.on('data', (c) => (stdout += String(c)));
      await waitForContainer();
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      expect(code).toBe(3);
      expect(JSON.parse(stdout).schema).toBe('meshcheck.smoke/v1');
      expect(await meshcheckContainers()).toEqual([]);
    }, 60_000);

    test('kill -9: the container stays, the next start removes it', async () => {
      const child = hang();
      const ids = await waitForContainer();
      child.kill('SIGKILL');
      await once(child, 'exit');
      expect(await meshcheckContainers()).toEqual(ids);
      const next = await runCommand(process.execPath, [bin, 'smoke', '--insecure-registry', reg, '--platform', 'linux/amd64', '--no-sweep', '--command', '/bin/busybox true', refs.busybox!], { timeoutMs: 60_000 });
      expect(next.exitCode, next.stderr).toBe(0);
      expect(next.stderr).toMatch(/removed 1 leftover\(s\) of earlier meshcheck runs/);
      expect(await meshcheckContainers()).toEqual([]);
    }, 60_000);
  });
});
