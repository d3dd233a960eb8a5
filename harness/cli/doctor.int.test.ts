import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { runCommand } from '../process/run.ts';
import { requireTestbed } from '../testing/testbed.ts';
import type { DoctorReport } from '../doctor/report.ts';

const bed = await requireTestbed();
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/meshcheck.js');
const meshcheck = (...args: string[]) => runCommand(process.execPath, [bin, ...args], { timeoutMs: 60_000 });

describe.runIf(bed)('meshcheck doctor on the test bed', () => {
  test('--json: amd64 native, arm64 through qemu-aarch64 with flags PF, Docker engine, page size', async () => {
    const r = await meshcheck('doctor', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.host).toMatchObject({ arch: 'amd64', platform: 'linux/amd64', pageSize: 4096 });
    expect(report.platforms.find((p) => p.platform === 'linux/amd64')).toMatchObject({ runnable: true, how: 'native' });
    expect(report.platforms.find((p) => p.platform === 'linux/arm64')).toMatchObject({
      runnable: true,
      how: 'emulated',
      handler: 'qemu-aarch64',
      flags: 'PF',
      inContainers: true,
      wrongArchRunsSilently: true,
    });
    expect(report.emulation.qemu[0]?.version).toMatch(/^\d+\.\d+/);
    expect(report.emulation.qemu[0]?.cpuModels).toEqual(expect.arrayContaining(['cortex-a53', 'neoverse-n1', 'max']));
    expect(report.docker).toMatchObject({ reachable: true, arch: 'amd64' });
    expect(report.tools.map((t) => t.name)).toEqual(['docker', 'kind', 'kubectl', 'istioctl']);
  });

  test('--require linux/arm64 passes while the handler is on', async () => {
    const r = await meshcheck('doctor', '--require', 'linux/arm64');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/linux\/arm64 emulated via qemu-aarch64 \(flags PF\)/);
  });

  test('usage errors exit 2 and say what is wrong, without a stack trace', async () => {
    const bad = await meshcheck('doctor', '--require', 'linux//arm64');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--require: "linux\/\/arm64" is not a platform/);
    expect(bad.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect((await meshcheck('doctor', '--bogus')).exitCode).toBe(2);
    expect((await meshcheck('nope')).exitCode).toBe(2);
  });

  test('--help on every command, exit codes documented', async () => {
    for (const args of [['--help'], ['doctor', '--help']]) {
      const r = await meshcheck(...args);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/Exit codes:\n {2}0 {2}ok\n {2}1 .*\n {2}2 .*\n {2}3 /);
    }
  });
});
