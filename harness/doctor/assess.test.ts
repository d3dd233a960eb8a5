import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseBinfmtEntry } from '../arch/binfmt.ts';
import { assessProbeOutput, BUILD_PROBES_FIX, probeCapabilities } from '../arch/capabilities.ts';
import type { HostFacts } from '../arch/host.ts';
import { assessDoctor, type DoctorFacts } from './assess.ts';

const aarch64 = readFileSync(new URL('../arch/fixtures/binfmt-qemu-aarch64.txt', import.meta.url), 'utf8');
/** Real `meshcheck-probe caps` output (harness/arch/fixtures/probe-caps-*.json say how each was captured). */
const caps = (name: string) => (JSON.parse(readFileSync(new URL(`../arch/fixtures/${name}`, import.meta.url), 'utf8')) as { stdout: string }).stdout;
const nativeCaps = assessProbeOutput(caps('probe-caps-amd64-native-root.json'), 'amd64', 'native');
const qemuCaps = assessProbeOutput(caps('probe-caps-arm64-qemu-7.2.json'), 'arm64', 'emulated');

function facts(host: Partial<HostFacts>, more: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    host: { arch: 'amd64', kernel: '6.1.0', pageSize: 4096, binfmt: { mounted: true, enabled: true, handlers: [] }, ...host },
    qemu: [],
    docker: { reachable: true, serverVersion: '20.10.24', os: 'linux', arch: 'amd64' },
    tools: [],
    capabilities: [],
    meshcheckVersion: '0.0.0-test',
    now: new Date('2026-11-22T00:00:00Z'),
    ...more,
  };
}

const reach = (r: ReturnType<typeof assessDoctor>, p: string) => r.platforms.find((x) => x.platform === p)!;

describe('doctor assessment', () => {
  test('amd64 host with the F-flagged qemu-aarch64 handler: arm64 runs, in containers too, and wrong-arch images run silently', () => {
    const r = assessDoctor(facts({ binfmt: { mounted: true, enabled: true, handlers: [parseBinfmtEntry('qemu-aarch64', aarch64)] } }));
    expect(reach(r, 'linux/amd64')).toMatchObject({ runnable: true, how: 'native', wrongArchRunsSilently: false });
    expect(reach(r, 'linux/arm64')).toMatchObject({ runnable: true, how: 'emulated', flags: 'PF', inContainers: true, wrongArchRunsSilently: true });
    expect(r.problems.filter((p) => p.severity !== 'info')).toEqual([]);
  });

  test('handler disabled: arm64 is not runnable, and the fix says how to enable it', () => {
    const off = parseBinfmtEntry('qemu-aarch64', aarch64.replace(/^enabled/, 'disabled'));
    const r = assessDoctor(facts({ binfmt: { mounted: true, enabled: true, handlers: [off] } }));
    expect(reach(r, 'linux/arm64')).toMatchObject({ runnable: false, how: 'none' });
    expect(reach(r, 'linux/arm64').fix).toBe('enable it: echo 1 > /proc/sys/fs/binfmt_misc/qemu-aarch64');
    expect(r.problems.some((p) => p.message.startsWith('linux/arm64 cannot run'))).toBe(true);
  });

  test('no binfmt_misc at all: the fix is installing QEMU', () => {
    const r = assessDoctor(facts({ binfmt: { mounted: false, enabled: false, handlers: [] } }));
    expect(reach(r, 'linux/arm64').note).toMatch(/not mounted/);
    expect(reach(r, 'linux/arm64').fix).toMatch(/qemu-user-static/);
  });

  test('a handler without F runs on the host but not in containers', () => {
    const noF = parseBinfmtEntry('qemu-aarch64', aarch64.replace('flags: PF', 'flags: P'));
    const r = assessDoctor(facts({ binfmt: { mounted: true, enabled: true, handlers: [noF] } }));
    expect(reach(r, 'linux/arm64')).toMatchObject({ runnable: true, inContainers: false });
    expect(r.problems.find((p) => p.message.startsWith('linux/arm64'))?.fix).toMatch(/F flag/);
  });

  test('arm64 host with 64 KiB pages warns about 4 KiB-aligned binaries; amd64 is then the foreign arch', () => {
    const r = assessDoctor(facts({ arch: 'arm64', pageSize: 65536 }));
    expect(reach(r, 'linux/arm64').how).toBe('native');
    expect(reach(r, 'linux/amd64').runnable).toBe(false);
    expect(r.problems.some((p) => /64 KiB pages/.test(p.message))).toBe(true);
  });

  test('no Docker engine is an error with a fix; missing cluster tools are info', () => {
    const r = assessDoctor(
      facts(
        {},
        {
          docker: { reachable: false, problem: 'no Docker engine answers' },
          tools: [{ name: 'kind', found: false, purpose: 'clusters', neededFor: 'cluster', fix: 'install kind' }],
        },
      ),
    );
    expect(r.problems).toContainEqual(expect.objectContaining({ severity: 'error', message: 'Docker: no Docker engine answers' }));
    expect(r.problems).toContainEqual(expect.objectContaining({ severity: 'info', fix: 'install kind' }));
  });

  test('arm64 under QEMU 7.2 (real probe output): a warning that sidecar checks will be skipped, naming the four calls', () => {
    const r = assessDoctor(facts({ binfmt: { mounted: true, enabled: true, handlers: [parseBinfmtEntry('qemu-aarch64', aarch64)] } }, { capabilities: [nativeCaps, qemuCaps] }));
    expect(r.capabilities).toEqual([nativeCaps, qemuCaps]);
    const warnings = r.problems.filter((p) => p.severity === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toBe(
      "under QEMU user emulation linux/arm64 cannot run istio-init's iptables or the sidecar's original-destination lookup (IP_TRANSPARENT, SO_ORIGINAL_DST, SO_MARK, NETLINK_NETFILTER unsupported): sidecar checks will be skipped in emulated mode",
    );
    expect(warnings[0]!.fix).toMatch(/native linux\/arm64 runner/);
  });

  test('an emulator that passes the calls through (native-like answers) raises nothing', () => {
    const passing = assessProbeOutput(caps('probe-caps-amd64-native-unprivileged.json').replace('x86_64', 'aarch64'), 'arm64', 'emulated');
    expect(passing.canCaptureTraffic).toBe(true);
    const r = assessDoctor(facts({ binfmt: { mounted: true, enabled: true, handlers: [parseBinfmtEntry('qemu-aarch64', aarch64)] } }, { capabilities: [nativeCaps, passing] }));
    expect(r.problems.filter((p) => p.severity !== 'info')).toEqual([]);
  });

  test('a probe that was never built is a warning with the build fix', async () => {
    const missing = await probeCapabilities('arm64', { env: { MESHCHECK_PROBES_DIR: '/nonexistent/meshcheck-probes' }, hostArch: 'amd64' });
    const r = assessDoctor(facts({}, { capabilities: [nativeCaps, missing] }));
    expect(r.problems).toContainEqual({
      severity: 'warning',
      message: 'cannot tell what traffic capture can use on linux/arm64 (emulated): no capability probe for linux/arm64: /nonexistent/meshcheck-probes/linux-arm64/meshcheck-probe does not exist',
      fix: BUILD_PROBES_FIX,
    });
  });

  test('calibration: the figures pass through; a failed one is a warning, nothing to calibrate only info', () => {
    const calibration = {
      arch: 'arm64',
      nativeArch: 'amd64',
      reps: 5,
      spin: 6_000_000,
      native: { spinMs: 54.8, startMs: 4.3 },
      emulated: { spinMs: 150.9, startMs: 12.3 },
      cpuFactor: 2.75,
      startFactor: 2.86,
      factor: 2.9,
    };
    expect(assessDoctor(facts({}, { calibration })).calibration).toEqual(calibration);
    expect(assessDoctor(facts({})).calibration).toBeUndefined();
    const problem = 'cannot calibrate linux/arm64 against linux/amd64: the linux/arm64 probe /x does not exist';
    const failed = assessDoctor(facts({}, { calibration: { arch: 'arm64', problem, fix: BUILD_PROBES_FIX } }));
    expect(failed.problems).toContainEqual({ severity: 'warning', message: problem, fix: BUILD_PROBES_FIX });
    const nothing = assessDoctor(facts({}, { calibration: { problem: 'cannot calibrate: nothing runs emulated on this host' } }));
    expect(nothing.problems).toContainEqual({ severity: 'info', message: 'cannot calibrate: nothing runs emulated on this host' });
  });
});
