import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  assessProbeOutput,
  BINFMT_FIX,
  BUILD_PROBES_FIX,
  emulationProblem,
  expectedProbePath,
  isUnsupported,
  locateProbe,
  packageRoot,
  probeCapabilities,
  probeRunFailure,
  unsupportedCalls,
} from './capabilities.ts';

/** Real `meshcheck-probe caps` output captured on the test bed; each file says how it was produced. */
function fixture(name: string): { stdout: string; arch: string; how: 'native' | 'emulated' } {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

describe('judging real probe output', () => {
  test('amd64 natively as root: everything supported (SO_ORIGINAL_DST answers ENOENT: the option exists, no conntrack entry)', () => {
    const f = fixture('probe-caps-amd64-native-root.json');
    const r = assessProbeOutput(f.stdout, 'amd64', 'native');
    expect(r).toMatchObject({ arch: 'amd64', platform: 'linux/amd64', how: 'native', machine: 'x86_64', canCaptureTraffic: true });
    expect(r.supported).toEqual({ transparentProxy: true, originalDst: true, socketMark: true, netfilterNetlink: true });
    expect(r.checks.find((c) => c.name === 'SO_ORIGINAL_DST')).toMatchObject({ ok: false, errno: 2, code: 'ENOENT', error: 'No such file or directory', supported: true });
    expect(r.problem).toBeUndefined();
    expect(unsupportedCalls(r)).toEqual([]);
  });

  test('amd64 natively without capabilities: EPERM is the kernel answering, so still supported', () => {
    const f = fixture('probe-caps-amd64-native-unprivileged.json');
    const r = assessProbeOutput(f.stdout, 'amd64', 'native');
    expect(r.checks.filter((c) => c.code === 'EPERM').map((c) => c.name)).toEqual(['IP_TRANSPARENT', 'SO_MARK']);
    expect(r.canCaptureTraffic).toBe(true);
  });

  test('arm64 under qemu-aarch64 7.2: ENOPROTOOPT three times and EPROTONOSUPPORT, nothing supported', () => {
    const f = fixture('probe-caps-arm64-qemu-7.2.json');
    const r = assessProbeOutput(f.stdout, 'arm64', 'emulated', '/x/linux-arm64/meshcheck-probe');
    expect(r).toMatchObject({ arch: 'arm64', how: 'emulated', machine: 'aarch64', probe: '/x/linux-arm64/meshcheck-probe', canCaptureTraffic: false });
    expect(r.supported).toEqual({ transparentProxy: false, originalDst: false, socketMark: false, netfilterNetlink: false });
    expect(r.checks.map((c) => c.error)).toEqual(['Protocol not available', 'Protocol not available', 'Protocol not available', 'Protocol not supported']);
    expect(unsupportedCalls(r)).toEqual(['IP_TRANSPARENT', 'SO_ORIGINAL_DST', 'SO_MARK', 'NETLINK_NETFILTER']);
    expect(r.problem).toBeUndefined();
  });

  test('without the symbolic code the generic errno numbers decide (an older probe)', () => {
    expect(isUnsupported({ ok: false, errno: 92 })).toBe(true);
    expect(isUnsupported({ ok: false, errno: 93 })).toBe(true);
    expect(isUnsupported({ ok: false, errno: 38 })).toBe(true);
    expect(isUnsupported({ ok: false, errno: 97 })).toBe(true);
    expect(isUnsupported({ ok: false, errno: 2 })).toBe(false);
    expect(isUnsupported({ ok: true, errno: 0 })).toBe(false);
    // mips numbers ENOPROTOOPT 99: the name the probe took from the target's own errno.h wins over the number.
    expect(isUnsupported({ ok: false, errno: 99, code: 'ENOPROTOOPT' })).toBe(true);
  });

  test('a partial answer names what is missing; garbage is a problem with the fix, never a throw', () => {
    const f = fixture('probe-caps-amd64-native-root.json');
    const parsed = JSON.parse(f.stdout) as { machine: string; checks: unknown[] };
    const partial = assessProbeOutput(JSON.stringify({ ...parsed, checks: parsed.checks.slice(0, 2) }), 'amd64', 'native');
    expect(partial.problem).toBe('the probe did not report SO_MARK, NETLINK_NETFILTER (an older build?)');
    expect(partial.canCaptureTraffic).toBe(false);
    const junk = assessProbeOutput('Segmentation fault\n', 'arm64', 'emulated');
    expect(junk).toMatchObject({ problem: expect.stringMatching(/printed no JSON line/), fix: BUILD_PROBES_FIX, checks: [] });
  });

  test('a probe built for the wrong arch is caught by the machine it reports', () => {
    const r = assessProbeOutput(fixture('probe-caps-amd64-native-root.json').stdout, 'arm64', 'emulated');
    expect(r.problem).toMatch(/the linux\/arm64 probe ran as x86_64 \(amd64\)/);
  });
});

describe('finding the probe', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'meshcheck-probes-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  let n = 0;
  const tmpDir = () => {
    const dir = path.join(scratch, String(n++));
    mkdirSync(dir);
    return dir;
  };

  test('in the package: <root>/dist/probes/linux-<arch>/meshcheck-probe, with aarch64 spelled arm64', () => {
    expect(JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).name).toBe('meshcheck');
    expect(expectedProbePath('aarch64', { env: {} })).toBe(path.join(packageRoot(), 'dist', 'probes', 'linux-arm64', 'meshcheck-probe'));
  });

  test('MESHCHECK_PROBES_DIR is the only place looked at when set', () => {
    const dir = tmpDir();
    mkdirSync(path.join(dir, 'linux-riscv64'));
    writeFileSync(path.join(dir, 'linux-riscv64', 'meshcheck-probe'), '');
    const env = { MESHCHECK_PROBES_DIR: dir };
    expect(locateProbe('riscv64', { env })).toBe(path.join(dir, 'linux-riscv64', 'meshcheck-probe'));
    expect(locateProbe('amd64', { env })).toBeUndefined();
  });

  test('a missing probe is a problem with the build fix, not a crash', async () => {
    const dir = tmpDir();
    const r = await probeCapabilities('arm64', { env: { MESHCHECK_PROBES_DIR: dir }, hostArch: 'amd64' });
    expect(r).toMatchObject({ arch: 'arm64', how: 'emulated', canCaptureTraffic: false, fix: BUILD_PROBES_FIX });
    expect(r.problem).toBe(`no capability probe for linux/arm64: ${path.join(dir, 'linux-arm64', 'meshcheck-probe')} does not exist`);
  });

  test('a probe that cannot be executed is a problem too', async () => {
    const dir = tmpDir();
    mkdirSync(path.join(dir, 'linux-amd64'));
    writeFileSync(path.join(dir, 'linux-amd64', 'meshcheck-probe'), 'not a program', { mode: 0o644 });
    const r = await probeCapabilities('amd64', { env: { MESHCHECK_PROBES_DIR: dir }, hostArch: 'amd64' });
    expect(r.how).toBe('native');
    expect(r.problem).toMatch(/could not start|permission denied/);
    expect(r.fix).toBe(BUILD_PROBES_FIX);
  });

  /** A binfmt_misc directory as the kernel shows it, holding the real qemu-aarch64 entry (enabled or not). */
  function binfmtRoot(handler: 'enabled' | 'disabled' | 'absent'): string {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'register'), '');
    writeFileSync(path.join(dir, 'status'), 'enabled\n');
    const entry = readFileSync(new URL('./fixtures/binfmt-qemu-aarch64.txt', import.meta.url), 'utf8');
    if (handler !== 'absent') writeFileSync(path.join(dir, 'qemu-aarch64'), entry.replace(/^enabled/, handler));
    return dir;
  }

  test('a foreign arch without an enabled binfmt handler is named as such before anything runs', async () => {
    expect(await emulationProblem('arm64', binfmtRoot('enabled'))).toBeUndefined();
    expect(await emulationProblem('arm64', binfmtRoot('disabled'))).toEqual({
      problem: 'linux/arm64 binaries cannot run here: no enabled binfmt handler for arm64',
      fix: BINFMT_FIX,
    });
    const probes = tmpDir();
    mkdirSync(path.join(probes, 'linux-arm64'));
    writeFileSync(path.join(probes, 'linux-arm64', 'meshcheck-probe'), '');
    const r = await probeCapabilities('arm64', { probesDir: probes, hostArch: 'amd64', binfmtRoot: binfmtRoot('absent') });
    expect(r).toMatchObject({ how: 'emulated', problem: 'linux/arm64 binaries cannot run here: no enabled binfmt handler for arm64', fix: BINFMT_FIX });
  });

  test("the shell's ENOEXEC fallback (a syntax error on line 1) reads as exec format error, not as a broken probe", () => {
    // What dash printed here when qemu-aarch64 was switched off during a run.
    const run = {
      command: '/x/linux-arm64/meshcheck-probe true',
      file: '/x/linux-arm64/meshcheck-probe',
      args: ['true'],
      exitCode: 2,
      stdout: '',
      stderr: '/x/linux-arm64/meshcheck-probe: 2: Syntax error: word unexpected (expecting ")")\n',
      durationMs: 3,
      timedOut: false,
      ok: false,
    };
    expect(probeRunFailure(run, 'arm64', true)).toEqual({
      problem: '`/x/linux-arm64/meshcheck-probe true` could not start: exec format error (no enabled binfmt handler runs linux/arm64 binaries here)',
      fix: BINFMT_FIX,
    });
    expect(probeRunFailure(run, 'amd64', false).fix).toBe(BUILD_PROBES_FIX);
  });
});
