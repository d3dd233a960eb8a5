/**
 * What a data plane can do on an architecture, as this host runs it: natively, or as a foreign binary through
 * binfmt_misc and QEMU user emulation. The probe (harness/arch/probes/meshcheck-probe.c, built per arch by
 * `npm run build:probes`) makes the socket calls that traffic capture rests on and prints what it got back.
 *
 * Why probe instead of assuming: user-mode QEMU translates each guest syscall itself and refuses socket options
 * it does not know (Debian's 7.2 answers ENOPROTOOPT for IP_TRANSPARENT, SO_ORIGINAL_DST and SO_MARK, and
 * EPROTONOSUPPORT for NETLINK_NETFILTER), whatever the host kernel could do. Newer builds may pass more through.
 *
 * `assessProbeOutput` is pure (tested on captured real output); `probeCapabilities` does the I/O.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CommandResult, describeFailure, runCommand } from '../process/run.ts';
import { BINFMT_ROOT, handlersFor, readBinfmt } from './binfmt.ts';
import { normalizeArch } from './platform.ts';

export const PROBE_NAME = 'meshcheck-probe';
/** Overrides where the probes are looked for: a directory holding linux-<arch>/meshcheck-probe. */
export const PROBES_DIR_ENV = 'MESHCHECK_PROBES_DIR';
export const BUILD_PROBES_FIX = 'run `npm run build:probes` (needs gcc and aarch64-linux-gnu-gcc)';
export const BINFMT_FIX =
  'install QEMU user emulation (Debian/Ubuntu: apt-get install qemu-user-static binfmt-support; GitHub Actions: docker/setup-qemu-action)';

export type CapabilityKey = 'transparentProxy' | 'originalDst' | 'socketMark' | 'netfilterNetlink';

/** The calls the probe makes, in its output order, and what each one stands for. */
export const CAPABILITY_CALLS: ReadonlyArray<{ name: string; key: CapabilityKey; call: string; neededBy: string }> = [
  { name: 'IP_TRANSPARENT', key: 'transparentProxy', call: 'setsockopt(SOL_IP, IP_TRANSPARENT)', neededBy: 'TPROXY interception' },
  { name: 'SO_ORIGINAL_DST', key: 'originalDst', call: 'getsockopt(SOL_IP, SO_ORIGINAL_DST)', neededBy: "the sidecar's original-destination lookup (REDIRECT)" },
  { name: 'SO_MARK', key: 'socketMark', call: 'setsockopt(SOL_SOCKET, SO_MARK)', neededBy: "marking the proxy's own traffic so iptables lets it out" },
  { name: 'NETLINK_NETFILTER', key: 'netfilterNetlink', call: 'socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER)', neededBy: "istio-init's iptables (nft backend) and conntrack" },
];

/**
 * errnos that mean "the call never reached a kernel that knows it": the emulator (or a sandbox) did not pass it
 * on. Any other answer (0, ENOENT for SO_ORIGINAL_DST on a fresh socket, EPERM without CAP_NET_ADMIN) came from
 * a kernel that understood the call, so the capability is there.
 */
export const UNSUPPORTED_ERRNOS = ['ENOPROTOOPT', 'EPROTONOSUPPORT', 'ENOSYS', 'EAFNOSUPPORT'] as const;
/**
 * Their numbers in the asm-generic numbering used by x86, arm64, riscv64, s390x and powerpc. Only a fallback
 * for output without `code`: the probe prints the name from the target's own <errno.h>, which is right on the
 * arches that number differently (mips, sparc, alpha, parisc).
 */
const GENERIC_ERRNO: Record<number, string> = { 92: 'ENOPROTOOPT', 93: 'EPROTONOSUPPORT', 38: 'ENOSYS', 97: 'EAFNOSUPPORT' };

/** One call as the probe printed it. */
export interface ProbeCheck {
  name: string;
  ok: boolean;
  errno: number;
  /** Symbolic errno, e.g. ENOPROTOOPT ("" when ok or not one the probe names). */
  code?: string;
  /** strerror text, e.g. "Protocol not available" ("" when ok). */
  error: string;
}

export interface CapabilityCheck extends ProbeCheck {
  /** The kernel answered the call (ok or a meaningful errno); false when the emulator/sandbox refused it. */
  supported: boolean;
}

export interface CapabilityReport {
  arch: string;
  platform: string;
  how: 'native' | 'emulated';
  /** The probe binary that ran. */
  probe?: string;
  /** `uname -m` as the probe saw it (aarch64 under qemu-aarch64). */
  machine?: string;
  checks: CapabilityCheck[];
  /** Each false when unsupported, and also when it could not be probed (then `problem` says why). */
  supported: Record<CapabilityKey, boolean>;
  /**
   * All four calls work. Sidecar checks need all of them: istio-init's iptables rules (NETLINK_NETFILTER), the
   * proxy's original-destination lookup under REDIRECT (SO_ORIGINAL_DST), and under TPROXY interception
   * IP_TRANSPARENT and SO_MARK; meshcheck's suites cover both interception modes.
   */
  canCaptureTraffic: boolean;
  /** The probe could not be run or its output not read; the booleans then mean "unknown", not "no". */
  problem?: string;
  fix?: string;
}

const NONE: Record<CapabilityKey, boolean> = { transparentProxy: false, originalDst: false, socketMark: false, netfilterNetlink: false };

/** Did the emulator (or a sandbox) refuse this call, rather than a kernel answering it? */
export function isUnsupported(check: Pick<ProbeCheck, 'ok' | 'errno' | 'code'>): boolean {
  if (check.ok || check.errno === 0) return false;
  const code = check.code || GENERIC_ERRNO[check.errno] || '';
  return (UNSUPPORTED_ERRNOS as readonly string[]).includes(code);
}

function failed(arch: string, how: CapabilityReport['how'], problem: string, fix: string, probe?: string): CapabilityReport {
  return {
    arch,
    platform: `linux/${arch}`,
    how,
    ...(probe ? { probe } : {}),
    checks: [],
    supported: { ...NONE },
    canCaptureTraffic: false,
    problem,
    fix,
  };
}

function isProbeCheck(v: unknown): v is ProbeCheck {
  const c = v as Partial<ProbeCheck> | null;
  return typeof c === 'object' && c !== null && typeof c.name === 'string' && typeof c.ok === 'boolean' && typeof c.errno === 'number';
}

/** Pure: judge the stdout of `meshcheck-probe caps` for an arch run natively or emulated. */
export function assessProbeOutput(stdout: string, arch: string, how: CapabilityReport['how'], probe?: string): CapabilityReport {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let parsed: { machine?: unknown; checks?: unknown };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    return failed(arch, how, `the probe printed no JSON line: ${JSON.stringify(line.slice(0, 200))}`, BUILD_PROBES_FIX, probe);
  }
  const checks = Array.isArray(parsed.checks) ? parsed.checks.filter(isProbeCheck) : [];
  const machine = typeof parsed.machine === 'string' ? parsed.machine : undefined;
  const report: CapabilityReport = {
    arch,
    platform: `linux/${arch}`,
    how,
    ...(probe ? { probe } : {}),
    ...(machine ? { machine } : {}),
    checks: checks.map((c) => ({
      name: c.name,
      ok: c.ok,
      errno: c.errno,
      ...(typeof c.code === 'string' ? { code: c.code } : {}),
      error: typeof c.error === 'string' ? c.error : '',
      supported: !isUnsupported(c),
    })),
    supported: { ...NONE },
    canCaptureTraffic: false,
  };
  const missing: string[] = [];
  for (const call of CAPABILITY_CALLS) {
    const c = report.checks.find((x) => x.name === call.name);
    if (c) report.supported[call.key] = c.supported;
    else missing.push(call.name);
  }
  report.canCaptureTraffic = CAPABILITY_CALLS.every((c) => report.supported[c.key]);
  if (missing.length) {
    report.problem = `the probe did not report ${missing.join(', ')} (an older build?)`;
    report.fix = BUILD_PROBES_FIX;
  } else if (machine && normalizeArch(machine) !== arch) {
    // A probe for the wrong arch in linux-<arch>/ would report the host's capabilities as the emulator's.
    report.problem = `the linux/${arch} probe ran as ${machine} (${normalizeArch(machine)}): it was built for the wrong architecture`;
    report.fix = BUILD_PROBES_FIX;
  }
  return report;
}

/** The capability names that are not supported, in probe order (for messages). */
export function unsupportedCalls(r: Pick<CapabilityReport, 'supported'>): string[] {
  return CAPABILITY_CALLS.filter((c) => !r.supported[c.key]).map((c) => c.name);
}

let packageRootCache: string | undefined;

/** The meshcheck package's root (found relative to this file, as harness/version.ts does: clone or node_modules). */
export function packageRoot(): string {
  if (packageRootCache) return packageRootCache;
  const here = path.dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'meshcheck') return (packageRootCache = dir);
    } catch {
      // not here; look one level up
    }
    dir = path.dirname(dir);
  }
  // Not inside a meshcheck package: sources two levels below the root is the layout this file ships in.
  return (packageRootCache = path.resolve(here, '..', '..'));
}

export interface LocateOptions {
  env?: Record<string, string | undefined>;
  /** A directory holding linux-<arch>/meshcheck-probe (default: $MESHCHECK_PROBES_DIR, else <package>/dist/probes). */
  probesDir?: string;
}

/**
 * Where the probe for an arch is expected. MESHCHECK_PROBES_DIR, when set, is the only place looked at, so a
 * wrong setting is reported rather than quietly replaced by the package's own probes.
 */
export function expectedProbePath(arch: string, opts: LocateOptions = {}): string {
  const env = opts.env ?? process.env;
  const dir = opts.probesDir ?? (env[PROBES_DIR_ENV] || path.join(packageRoot(), 'dist', 'probes'));
  return path.join(dir, `linux-${normalizeArch(arch)}`, PROBE_NAME);
}

/** The probe binary for an arch, or undefined when it has not been built. */
export function locateProbe(arch: string, opts: LocateOptions = {}): string | undefined {
  const file = expectedProbePath(arch, opts);
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

export interface ProbeOptions extends LocateOptions {
  timeoutMs?: number;
  /** The host's arch (default: this process's), which decides native vs emulated. */
  hostArch?: string;
  /** Where binfmt_misc is mounted (tests). */
  binfmtRoot?: string;
}

/**
 * Can a foreign arch's binaries run here at all? Asked before running one, because without a handler the
 * kernel answers ENOEXEC and libuv's spawn, like execvp, hands the file to /bin/sh, which reports a syntax
 * error on line 1: true but useless as a message.
 */
export async function emulationProblem(arch: string, binfmtRoot = BINFMT_ROOT): Promise<{ problem: string; fix: string } | undefined> {
  if (handlersFor(await readBinfmt(binfmtRoot), arch).length > 0) return undefined;
  return { problem: `linux/${arch} binaries cannot run here: no enabled binfmt handler for ${arch}`, fix: BINFMT_FIX };
}

/** Why a probe run failed, and what fixes it. Shared with calibrate.ts. */
export function probeRunFailure(r: CommandResult, arch: string, emulated: boolean): { problem: string; fix: string } {
  const notExecutable = r.spawnError?.code === 'ENOEXEC' || (r.exitCode === 2 && /syntax error/i.test(r.stderr));
  if (notExecutable && !emulated) {
    return { problem: `\`${r.command}\` is not a program for this host (exec format error): the probe is damaged or for another arch`, fix: BUILD_PROBES_FIX };
  }
  if (notExecutable) {
    // The syntax error is the shell fallback described at emulationProblem: the handler went away mid-run.
    return {
      problem: `\`${r.command}\` could not start: exec format error (no enabled binfmt handler runs linux/${arch} binaries here)`,
      fix: BINFMT_FIX,
    };
  }
  if (r.spawnError?.code === 'EACCES') {
    return { problem: `\`${r.command}\` could not start: permission denied (the probe is not executable)`, fix: BUILD_PROBES_FIX };
  }
  return { problem: describeFailure(r, 5), fix: BUILD_PROBES_FIX };
}

/** Run `<probe> caps` for an arch (a foreign arch goes through binfmt) and judge it. Never throws. */
export async function probeCapabilities(arch: string, opts: ProbeOptions = {}): Promise<CapabilityReport> {
  const a = normalizeArch(arch);
  const how = a === normalizeArch(opts.hostArch ?? process.arch) ? 'native' : 'emulated';
  const probe = locateProbe(a, opts);
  if (!probe) return failed(a, how, `no capability probe for linux/${a}: ${expectedProbePath(a, opts)} does not exist`, BUILD_PROBES_FIX);
  if (how === 'emulated') {
    const cannot = await emulationProblem(a, opts.binfmtRoot);
    if (cannot) return failed(a, how, cannot.problem, cannot.fix, probe);
  }
  const r = await runCommand(probe, ['caps'], { timeoutMs: opts.timeoutMs ?? 15_000, ...(opts.env ? { env: opts.env } : {}) });
  if (!r.ok) {
    const { problem, fix } = probeRunFailure(r, a, how === 'emulated');
    return failed(a, how, problem, fix, probe);
  }
  return assessProbeOutput(r.stdout, a, how, probe);
}
