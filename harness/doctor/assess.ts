/**
 * Pure: from host facts to what this host can run and what is missing. Tested directly with facts read off real
 * machines; the I/O that gathers them is in collect.ts.
 */
import { handlersFor } from '../arch/binfmt.ts';
import { type CapabilityReport, unsupportedCalls } from '../arch/capabilities.ts';
import type { DockerEngineInfo, HostFacts, QemuInfo } from '../arch/host.ts';
import type { ToolStatus } from '../process/tools.ts';
import type { CalibrationReport, DoctorReport, PlatformReach, Problem } from './report.ts';

/** The platforms a mesh release is checked on; others appear when a binfmt handler offers them. */
export const PLATFORMS_OF_INTEREST = ['linux/amd64', 'linux/arm64'] as const;

export interface DoctorFacts {
  host: HostFacts;
  qemu: QemuInfo[];
  docker: DockerEngineInfo;
  tools: ToolStatus[];
  /** The capability probe per runnable arch (collect.ts: native first). */
  capabilities: CapabilityReport[];
  /** Only when calibration was asked for. */
  calibration?: CalibrationReport;
  meshcheckVersion: string;
  now: Date;
}

/** What a missing capability means for the mesh checks, as a problem a person can act on. */
function capabilityProblem(c: CapabilityReport): Problem | undefined {
  const where = `${c.platform} (${c.how})`;
  if (c.problem) {
    return { severity: 'warning', message: `cannot tell what traffic capture can use on ${where}: ${c.problem}`, ...(c.fix ? { fix: c.fix } : {}) };
  }
  if (c.canCaptureTraffic) return undefined;
  const calls = `${unsupportedCalls(c).join(', ')} unsupported`;
  if (c.how === 'emulated') {
    return {
      severity: 'warning',
      message: `under QEMU user emulation ${c.platform} cannot run istio-init's iptables or the sidecar's original-destination lookup (${calls}): sidecar checks will be skipped in emulated mode`,
      fix: `run the sidecar checks on a native ${c.platform} runner; a newer emulator may pass these calls through, and meshcheck doctor probes it rather than assuming`,
    };
  }
  return {
    severity: 'warning',
    message: `${where}: this kernel does not answer what istio-init's iptables and the sidecar's original-destination lookup need (${calls}): sidecar checks will be skipped on this host`,
    fix: 'run on a kernel with netfilter (nf_conntrack, xt_TPROXY), outside any sandbox that filters these socket calls (e.g. gVisor)',
  };
}

function platformReach(facts: HostFacts, platform: string): PlatformReach {
  const arch = platform.split('/')[1] ?? '';
  if (arch === facts.arch) return { platform, runnable: true, how: 'native', wrongArchRunsSilently: false };
  const handler = handlersFor(facts.binfmt, arch)[0];
  if (!handler) {
    const registered = facts.binfmt.handlers.find((h) => h.arch === arch);
    const why = !facts.binfmt.mounted
      ? 'binfmt_misc is not mounted'
      : !facts.binfmt.enabled
        ? 'binfmt_misc is switched off (status: disabled)'
        : registered
          ? `the binfmt handler ${registered.name} is registered but disabled`
          : `no binfmt handler for ${arch} is registered`;
    return {
      platform,
      runnable: false,
      how: 'none',
      wrongArchRunsSilently: false,
      note: `${why}: ${arch} binaries fail with "exec format error"`,
      fix: registered
        ? `enable it: echo 1 > /proc/sys/fs/binfmt_misc/${registered.name}`
        : `install QEMU user emulation (Debian/Ubuntu: apt-get install qemu-user-static binfmt-support; GitHub Actions: docker/setup-qemu-action)`,
    };
  }
  const reach: PlatformReach = {
    platform,
    runnable: true,
    how: 'emulated',
    handler: handler.name,
    interpreter: handler.interpreter,
    flags: handler.rawFlags,
    inContainers: handler.flags.fixBinary,
    wrongArchRunsSilently: true,
  };
  reach.note = handler.flags.fixBinary
    ? `runs through ${handler.name} (flag F): also inside containers and kind nodes, so a wrong-arch image RUNS here under emulation instead of failing with "exec format error" — only reading the binary's ELF header tells (meshcheck audit)`
    : `runs through ${handler.name} on the host, but without flag F containers cannot see the interpreter and fail to start`;
  if (!handler.flags.fixBinary) {
    reach.fix = 're-register the handler with the F flag (Debian: fix_binary yes; GitHub: docker/setup-qemu-action / tonistiigi/binfmt do this)';
  }
  return reach;
}

export function assessDoctor(f: DoctorFacts): DoctorReport {
  const archs = new Set<string>(PLATFORMS_OF_INTEREST);
  archs.add(`linux/${f.host.arch}`);
  for (const h of f.host.binfmt.handlers) if (h.arch && h.enabled) archs.add(`linux/${h.arch}`);
  const platforms = [...archs].map((p) => platformReach(f.host, p));
  const problems: Problem[] = [];

  for (const p of platforms) {
    if (!p.runnable && (PLATFORMS_OF_INTEREST as readonly string[]).includes(p.platform)) {
      problems.push({ severity: 'warning', message: `${p.platform} cannot run on this host: ${p.note}`, ...(p.fix ? { fix: p.fix } : {}) });
    } else if (p.how === 'emulated' && !p.inContainers) {
      problems.push({ severity: 'warning', message: `${p.platform}: ${p.note}`, ...(p.fix ? { fix: p.fix } : {}) });
    }
  }
  for (const q of f.qemu) {
    if (q.problem) problems.push({ severity: 'warning', message: `emulator ${q.interpreter}: ${q.problem}` });
  }
  for (const c of f.capabilities) {
    const p = capabilityProblem(c);
    if (p) problems.push(p);
  }
  if (f.calibration && 'problem' in f.calibration) {
    // With nothing emulated there is nothing to scale; the platform warnings above already say why.
    const severity = f.calibration.arch ? 'warning' : 'info';
    problems.push({ severity, message: f.calibration.problem, ...(f.calibration.fix ? { fix: f.calibration.fix } : {}) });
  }
  const docker: DoctorReport['docker'] = { ...f.docker };
  if (!f.docker.reachable) {
    docker.fix = 'start a Docker engine (Linux: `dockerd`, or `npm run testbed -- up` as root on Debian/Ubuntu), or set DOCKER_HOST';
    problems.push({ severity: 'error', message: `Docker: ${f.docker.problem ?? 'not reachable'}`, fix: docker.fix });
  }
  for (const t of f.tools) {
    if (t.found && !t.problem) continue;
    const severity = t.neededFor === 'cluster' ? 'info' : 'warning';
    const what = t.found ? t.problem : `${t.name} not found on PATH (needed ${t.neededFor === 'cluster' ? 'for cluster runs' : 'to run images'})`;
    problems.push({ severity, message: what ?? t.name, ...(t.fix ? { fix: t.fix } : {}) });
  }
  if (f.host.pageSize === undefined) {
    problems.push({ severity: 'info', message: 'could not read the kernel page size from /proc/self/auxv' });
  } else if (f.host.pageSize > 4096) {
    problems.push({
      severity: 'warning',
      message: `this kernel uses ${f.host.pageSize / 1024} KiB pages: binaries whose segments are aligned to 4 KiB (common for arm64 builds) cannot be loaded`,
      fix: 'audit images with `meshcheck audit --deep`, which reads each binary’s PT_LOAD alignment',
    });
  }

  const host: DoctorReport['host'] = { arch: f.host.arch, platform: `linux/${f.host.arch}`, kernel: f.host.kernel };
  if (f.host.pageSize !== undefined) host.pageSize = f.host.pageSize;
  return {
    meshcheckVersion: f.meshcheckVersion,
    generatedAt: f.now.toISOString(),
    host,
    platforms,
    emulation: { binfmtMounted: f.host.binfmt.mounted, binfmtEnabled: f.host.binfmt.enabled, handlers: f.host.binfmt.handlers, qemu: f.qemu },
    docker,
    tools: f.tools,
    capabilities: f.capabilities,
    ...(f.calibration ? { calibration: f.calibration } : {}),
    problems,
  };
}
