/**
 * The real probe, both ways: natively and as an arm64 binary through binfmt/QEMU, on the host and inside a
 * container (where pods run). The probes come from `npm run build:probes`, which `npm run testbed -- up` runs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { runCommand } from '../process/run.ts';
import { requireTestbed } from '../testing/testbed.ts';
import { calibrate, DEFAULT_REPS, scaleTimeout } from './calibrate.ts';
import { assessProbeOutput, BUILD_PROBES_FIX, locateProbe, type ProbeCheck, probeCapabilities } from './capabilities.ts';

const bed = await requireTestbed();
const stored = (name: string) =>
  (JSON.parse(JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')).stdout) as { checks: ProbeCheck[] }).checks;

function probe(arch: string): string {
  const p = locateProbe(arch);
  if (!p) throw new Error(`the linux/${arch} probe is not built: ${BUILD_PROBES_FIX}`);
  return p;
}

describe.runIf(bed)('meshcheck-probe on the test bed', () => {
  test('natively (amd64): the kernel answers all four calls; the output is still what the stored fixture holds', async () => {
    const r = await probeCapabilities('amd64');
    expect(r.problem).toBeUndefined();
    expect(r).toMatchObject({ how: 'native', machine: 'x86_64', canCaptureTraffic: true, probe: probe('amd64') });
    expect(r.supported).toEqual({ transparentProxy: true, originalDst: true, socketMark: true, netfilterNetlink: true });
    expect(r.checks.map(({ supported: _, ...c }) => c)).toEqual(stored('probe-caps-amd64-native-root.json'));
  });

  test('as arm64 through qemu-aarch64: ENOPROTOOPT ×3 and EPROTONOSUPPORT, so no traffic capture', async () => {
    const r = await probeCapabilities('arm64');
    expect(r.problem).toBeUndefined();
    expect(r).toMatchObject({ how: 'emulated', machine: 'aarch64', canCaptureTraffic: false });
    expect(r.supported).toEqual({ transparentProxy: false, originalDst: false, socketMark: false, netfilterNetlink: false });
    expect(r.checks.map((c) => `${c.name}: ${c.error}`)).toEqual([
      'IP_TRANSPARENT: Protocol not available',
      'SO_ORIGINAL_DST: Protocol not available',
      'SO_MARK: Protocol not available',
      'NETLINK_NETFILTER: Protocol not supported',
    ]);
    expect(r.checks.map(({ supported: _, ...c }) => c)).toEqual(stored('probe-caps-arm64-qemu-7.2.json'));
  });

  test('natively without capabilities: EPERM, which still counts as supported (the kernel answered)', async () => {
    const run = await runCommand('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', probe('amd64'), 'caps']);
    expect(run.exitCode, run.stderr).toBe(0);
    const r = assessProbeOutput(run.stdout, 'amd64', 'native');
    expect(r.checks.map(({ supported: _, ...c }) => c)).toEqual(stored('probe-caps-amd64-native-unprivileged.json'));
    expect(r.canCaptureTraffic).toBe(true);
  });

  test.each([
    ['linux/amd64', 'amd64', true],
    ['linux/arm64', 'arm64', false],
  ] as const)('inside a %s container (binfmt flag F): the same verdict as on the host', async (platform, arch, capture) => {
    const image = bed!.images['meshcheck-test/probe']!.platforms[platform]!;
    const run = await runCommand(
      'docker',
      ['run', '--rm', '--init', '--label', 'meshcheck.testbed=true', '--platform', platform, '-v', `${probe(arch)}:/meshcheck-probe:ro`, image, '/meshcheck-probe', 'caps'],
      { timeoutMs: 60_000 },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const r = assessProbeOutput(run.stdout, arch, arch === 'amd64' ? 'native' : 'emulated');
    expect(r.problem).toBeUndefined();
    expect(r.canCaptureTraffic).toBe(capture);
  });

  test('spin computes the same number natively and emulated; true exits 0', async () => {
    const [native, emulated] = await Promise.all([runCommand(probe('amd64'), ['spin', '100000']), runCommand(probe('arm64'), ['spin', '100000'])]);
    expect(native.exitCode).toBe(0);
    expect(emulated.stdout).toBe(native.stdout);
    expect(native.stdout).toMatch(/^\d+\n$/);
    expect((await runCommand(probe('arm64'), ['true'])).exitCode).toBe(0);
    expect((await runCommand(probe('amd64'), ['spin', 'x'])).exitCode).toBe(2);
  });

  test(`calibration (${DEFAULT_REPS} repetitions): emulated arm64 is slower on both counts, and the factor scales timeouts`, async () => {
    const c = await calibrate({ arch: 'arm64' });
    console.log(`calibration: ${JSON.stringify(c)}`);
    expect(c).toMatchObject({ arch: 'arm64', nativeArch: 'amd64', reps: DEFAULT_REPS });
    expect(c.emulated.spinMs).toBeGreaterThan(c.native.spinMs);
    expect(c.emulated.startMs).toBeGreaterThan(c.native.startMs);
    expect(c.factor).toBeGreaterThan(1);
    expect(c.factor).toBe(Math.round(Math.max(c.cpuFactor, c.startFactor) * 10) / 10);
    expect(scaleTimeout(10_000, c.factor)).toBe(Math.round(10_000 * c.factor));
  });

  test('a missing probe is reported with the fix, natively and emulated', async () => {
    const env = { ...process.env, MESHCHECK_PROBES_DIR: '/nonexistent/meshcheck-probes' };
    for (const arch of ['amd64', 'arm64']) {
      const r = await probeCapabilities(arch, { env });
      expect(r.problem).toMatch(/does not exist$/);
      expect(r.fix).toBe(BUILD_PROBES_FIX);
    }
    await expect(calibrate({ env })).rejects.toMatchObject({ name: 'InfrastructureError', fix: BUILD_PROBES_FIX });
  });
});
