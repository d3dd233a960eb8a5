/**
 * Switches the qemu-aarch64 handler OFF (global host state) to produce real exec format errors. Runs in the
 * host-state project: after every other project has finished and one file at a time (vitest.config.ts), and the
 * handler is switched back on in afterAll. If this process is killed in between, `npm run testbed -- up` turns it
 * back on.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CapturedFailure, FAILURE_SCENARIOS, runScenario } from '../../scripts/testbed/failure-scenarios.ts';
import type { DoctorReport } from '../doctor/report.ts';
import { runCommand } from '../process/run.ts';
import { requireTestbed } from '../testing/testbed.ts';
import { readBinfmt, setBinfmtHandlerEnabled } from './binfmt.ts';
import { classifyFailure } from './classify.ts';
import { DockerTarget } from '../../clusters/docker/docker-target.ts';
import { RegistryClient } from '../registry/client.ts';
import { runSmoke } from '../smoke/run-smoke.ts';
import { parsePlatform } from './platform.ts';

const bed = await requireTestbed();
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/meshcheck.js');
const stored = new Map(
  (JSON.parse(readFileSync(new URL('./fixtures/captured-failures.json', import.meta.url), 'utf8')) as { failures: CapturedFailure[] }).failures.map(
    (f) => [f.id, f],
  ),
);

describe.runIf(bed)('with qemu-aarch64 switched off', () => {
  const handler = bed?.binfmt.handler ?? 'qemu-aarch64';
  beforeAll(async () => {
    await setBinfmtHandlerEnabled(handler, false);
  });
  afterAll(async () => {
    await setBinfmtHandlerEnabled(handler, true);
    expect((await readBinfmt()).handlers.find((h) => h.name === handler)?.enabled).toBe(true);
  });
  // The same image runs with the handler on: the smoke integration tests (smoke.int.test.ts) show that, and the
  // host-state project only starts after them (vitest.config.ts groupOrder).

  test('the kernel table says disabled', async () => {
    expect((await readBinfmt()).handlers.find((h) => h.name === handler)?.enabled).toBe(false);
  });

  test.each(FAILURE_SCENARIOS.filter((s) => s.needs === 'handler-disabled').map((s) => [s.id, s] as const))(
    'real exec format error: %s',
    async (_id, s) => {
      const run = await runScenario(bed!, s);
      const c = classifyFailure({ exitCode: run.exitCode, signal: run.signal, output: run.output });
      expect(c.kind, run.output).toBe(s.expect);
      expect(run.exitCode).toBe(stored.get(s.id)?.exitCode);
    },
  );

  test('smoke: an image whose binaries are arm64 is exec-format-error (what an arm64 node meets with an amd64-only image)', async () => {
    await using client = new RegistryClient({ insecureHosts: [bed!.registry.addr] });
    await using target = await new DockerTarget().start();
    const r = await runSmoke(client, target, [{ image: bed!.images['meshcheck-test/probe']!.ref, from: ['test'] }], {
      platforms: [parsePlatform('linux/arm64')],
      host: { arch: 'amd64' },
      commands: [{ entrypoint: ['/bin/busybox'], args: ['true'], label: 'busybox true' }],
      timeoutMs: 30_000,
      sweep: [],
      sweepNotes: [],
      meshcheckVersion: 'test',
      now: new Date(),
    });
    expect(r.images[0]!.platforms[0]).toMatchObject({ verdict: 'exec-format-error', reason: expect.stringMatching(/exec format error/i) });
  });

  test('doctor reports arm64 not runnable, and --require linux/arm64 exits 1 with the fix', async () => {
    const json = await runCommand(process.execPath, [bin, 'doctor', '--json']);
    const report = JSON.parse(json.stdout) as DoctorReport;
    expect(report.platforms.find((p) => p.platform === 'linux/arm64')).toMatchObject({
      runnable: false,
      how: 'none',
      fix: `enable it: echo 1 > /proc/sys/fs/binfmt_misc/${handler}`,
    });
    const gated = await runCommand(process.execPath, [bin, 'doctor', '--require', 'linux/arm64']);
    expect(gated.exitCode).toBe(1);
    expect(gated.stderr).toMatch(/required platform\(s\) not runnable on this host: linux\/arm64\nfix: enable it/);
  });
});
