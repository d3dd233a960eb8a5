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

  test('--json: traffic-capture calls supported natively, unsupported for arm64 under QEMU, with the warning', async () => {
    const r = await meshcheck('doctor', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.calibration).toBeUndefined(); // only when asked: it takes seconds
    expect(report.capabilities.map((c) => `${c.platform} ${c.how}`)).toEqual(['linux/amd64 native', 'linux/arm64 emulated']);
    const [native, arm64] = report.capabilities;
    expect(native).toMatchObject({ machine: 'x86_64', canCaptureTraffic: true });
    expect(native!.supported).toEqual({ transparentProxy: true, originalDst: true, socketMark: true, netfilterNetlink: true });
    expect(arm64).toMatchObject({ machine: 'aarch64', canCaptureTraffic: false });
    expect(arm64!.supported).toEqual({ transparentProxy: false, originalDst: false, socketMark: false, netfilterNetlink: false });
    expect(arm64!.checks.map((c) => c.code)).toEqual(['ENOPROTOOPT', 'ENOPROTOOPT', 'ENOPROTOOPT', 'EPROTONOSUPPORT']);
    expect(report.problems).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        message:
          "under QEMU user emulation linux/arm64 cannot run istio-init's iptables or the sidecar's original-destination lookup (IP_TRANSPARENT, SO_ORIGINAL_DST, SO_MARK, NETLINK_NETFILTER unsupported): sidecar checks will be skipped in emulated mode",
      }),
    );
  });

  test('text: one capture line per arch', async () => {
    const r = await meshcheck('doctor');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^capture {5}linux\/amd64 \(native\): IP_TRANSPARENT yes, SO_ORIGINAL_DST yes, SO_MARK yes, NETLINK_NETFILTER yes$/m);
    expect(r.stdout).toMatch(/^capture {5}linux\/arm64 \(emulated\): IP_TRANSPARENT no, SO_ORIGINAL_DST no, SO_MARK no, NETLINK_NETFILTER no$/m);
  });

  test('--calibrate --json: emulated arm64 measured against native, factor > 1; the text says the factor', async () => {
    const r = await meshcheck('doctor', '--calibrate', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    const { calibration } = JSON.parse(r.stdout) as DoctorReport;
    if (!calibration || 'problem' in calibration) throw new Error(`no calibration: ${JSON.stringify(calibration)}`);
    expect(calibration).toMatchObject({ arch: 'arm64', nativeArch: 'amd64', reps: 5 });
    expect(calibration.emulated.spinMs).toBeGreaterThan(calibration.native.spinMs);
    expect(calibration.factor).toBeGreaterThan(1);
    const text = await meshcheck('doctor', '--calibrate');
    expect(text.stdout).toMatch(/^calibration factor \d+\.\d for linux\/arm64 against native linux\/amd64 \(CPU /m);
  });

  test('without the probes: a warning with the fix, never a crash', async () => {
    const r = await runCommand(process.execPath, [bin, 'doctor', '--json', '--calibrate'], {
      timeoutMs: 60_000,
      env: { MESHCHECK_PROBES_DIR: '/nonexistent/meshcheck-probes' },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.capabilities.every((c) => c.problem?.endsWith('does not exist'))).toBe(true);
    expect(report.problems.filter((p) => p.fix === 'run `npm run build:probes` (needs gcc and aarch64-linux-gnu-gcc)')).toHaveLength(3);
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
