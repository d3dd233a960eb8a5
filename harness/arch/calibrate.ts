/**
 * How much slower an emulated architecture runs than the native one on this host, as one factor that cluster
 * and suite timeouts are multiplied by (`scaleTimeout`). Timeouts written for native runs would otherwise fail
 * emulated runs for being slow, not for being wrong.
 *
 * Two costs are measured with the probe (harness/arch/probes/meshcheck-probe.c), natively and emulated:
 *  - CPU: `spin N`, a fixed integer workload of loads, stores and indirect calls;
 *  - start: `true`, which exits at once, so its wall time is exec + (under QEMU) the emulator's own start-up.
 * `summarizeCalibration` is the pure statistics; `calibrate` does the runs.
 */
import { InfrastructureError, UsageError } from '../errors.ts';
import { runCommand } from '../process/run.ts';
import { BUILD_PROBES_FIX, emulationProblem, expectedProbePath, type LocateOptions, locateProbe, probeRunFailure } from './capabilities.ts';
import { normalizeArch } from './platform.ts';

/**
 * Steps of `spin` that take about 50 ms natively on the reference machine (2-core x86-64 test bed: 6e6 steps ≈
 * 50 ms; qemu-aarch64 7.2 ≈ 150 ms). Long enough that exec cost and timer noise are small beside it, short
 * enough that a doctor run with 5 repetitions stays within a few seconds.
 */
export const DEFAULT_SPIN = 6_000_000;
export const DEFAULT_REPS = 5;

export interface TimingMedians {
  /** Median wall time of `spin N`, ms. */
  spinMs: number;
  /** Median wall time of `true`, ms. */
  startMs: number;
}

export interface CalibrationStats {
  native: TimingMedians;
  emulated: TimingMedians;
  /** emulated.spinMs / native.spinMs */
  cpuFactor: number;
  /** emulated.startMs / native.startMs */
  startFactor: number;
  /**
   * The larger of the two ratios, rounded to one decimal and never below 1. The larger one, because a timeout
   * covers both kinds of work (a pod start is mostly exec, a request burst mostly CPU) and a timeout that is too
   * long costs only waiting, while one too short fails a correct run. Never below 1: a timeout is never shortened.
   */
  factor: number;
}

export interface Calibration extends CalibrationStats {
  /** The emulated arch. */
  arch: string;
  nativeArch: string;
  reps: number;
  spin: number;
}

export interface CalibrationSamples {
  native: { spinMs: number[]; startMs: number[] };
  emulated: { spinMs: number[]; startMs: number[] };
}

/** The median: the middle value, or the mean of the two middle values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values: at least one repetition is needed');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** slow / fast, guarded against a zero or negative denominator (a timer that read 0). */
export function ratio(slow: number, fast: number): number {
  return slow / Math.max(fast, 0.001);
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Pure: from repeated wall times to medians and factors. */
export function summarizeCalibration(s: CalibrationSamples): CalibrationStats {
  const native = { spinMs: median(s.native.spinMs), startMs: median(s.native.startMs) };
  const emulated = { spinMs: median(s.emulated.spinMs), startMs: median(s.emulated.startMs) };
  // The factor is derived from the ratios as reported, so a reader can redo the rounding from the output.
  const cpuFactor = round(ratio(emulated.spinMs, native.spinMs), 2);
  const startFactor = round(ratio(emulated.startMs, native.startMs), 2);
  return {
    native: { spinMs: round(native.spinMs, 2), startMs: round(native.startMs, 2) },
    emulated: { spinMs: round(emulated.spinMs, 2), startMs: round(emulated.startMs, 2) },
    cpuFactor,
    startFactor,
    factor: Math.max(1, round(Math.max(cpuFactor, startFactor), 1)),
  };
}

/** A timeout for emulated runs: `ms` times the factor, rounded, never below `ms`. */
export function scaleTimeout(ms: number, factor: number): number {
  if (!(ms >= 0)) throw new RangeError(`scaleTimeout: the timeout must be a number of ms >= 0, got ${ms}`);
  const f = Number.isFinite(factor) && factor > 1 ? factor : 1;
  return Math.max(Math.ceil(ms), Math.round(ms * f));
}

export interface CalibrateOptions extends LocateOptions {
  /** The emulated arch (default: arm64 on an amd64 host, amd64 elsewhere). */
  arch?: string;
  reps?: number;
  spin?: number;
  /** The host's arch (default: this process's). */
  hostArch?: string;
  /** Per run; an emulated spin takes a fraction of a second, so this only stops a hung emulator. */
  timeoutMs?: number;
  /** Where binfmt_misc is mounted (tests). */
  binfmtRoot?: string;
}

/**
 * Run the probe natively and emulated, `spin N` and `true` each `reps` times, and return the medians and factors.
 * Throws InfrastructureError (with the fix) when a probe is missing or does not run.
 */
export async function calibrate(opts: CalibrateOptions = {}): Promise<Calibration> {
  const nativeArch = normalizeArch(opts.hostArch ?? process.arch);
  const arch = normalizeArch(opts.arch ?? (nativeArch === 'amd64' ? 'arm64' : 'amd64'));
  const reps = opts.reps ?? DEFAULT_REPS;
  const spin = opts.spin ?? DEFAULT_SPIN;
  if (arch === nativeArch) {
    throw new UsageError(`calibrate: linux/${arch} is this host's own architecture`, 'name an emulated architecture, e.g. arm64 on an amd64 host');
  }
  if (!Number.isInteger(reps) || reps < 1) throw new UsageError(`calibrate: reps must be a whole number >= 1, got ${reps}`);
  if (!Number.isInteger(spin) || spin < 1) throw new UsageError(`calibrate: spin must be a whole number >= 1, got ${spin}`);

  const what = `cannot calibrate linux/${arch} against linux/${nativeArch}`;
  const probes = { native: findProbe(nativeArch, what, opts), emulated: findProbe(arch, what, opts) };
  const cannot = await emulationProblem(arch, opts.binfmtRoot);
  if (cannot) throw new InfrastructureError(`${what}: ${cannot.problem}`, cannot.fix);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const run = async (side: 'native' | 'emulated', args: string[]) => {
    const started = performance.now();
    const r = await runCommand(probes[side], args, { timeoutMs, ...(opts.env ? { env: opts.env } : {}) });
    const ms = performance.now() - started;
    if (!r.ok) {
      const { problem, fix } = probeRunFailure(r, side === 'native' ? nativeArch : arch, side === 'emulated');
      throw new InfrastructureError(`${what}: ${problem}`, fix);
    }
    return { ms, stdout: r.stdout.trim() };
  };

  // Warm-up: the first exec of each binary (and of the emulator) pays for reading it from disk.
  await run('native', ['true']);
  await run('emulated', ['true']);
  const samples: CalibrationSamples = { native: { spinMs: [], startMs: [] }, emulated: { spinMs: [], startMs: [] } };
  for (let i = 0; i < reps; i++) {
    // Interleaved, so load from elsewhere on the host falls on both sides alike instead of on one.
    const native = await run('native', ['spin', String(spin)]);
    samples.native.spinMs.push(native.ms);
    samples.native.startMs.push((await run('native', ['true'])).ms);
    const emulated = await run('emulated', ['spin', String(spin)]);
    samples.emulated.spinMs.push(emulated.ms);
    samples.emulated.startMs.push((await run('emulated', ['true'])).ms);
    if (emulated.stdout !== native.stdout) {
      // Same workload, same result; otherwise the emulator computes wrongly and its timings mean nothing.
      throw new InfrastructureError(
        `${what}: the emulated probe computed ${emulated.stdout} for spin ${spin}, the native one ${native.stdout}`,
        'the emulator is broken: update QEMU (qemu-user-static) and re-register its binfmt handler',
      );
    }
  }
  return { arch, nativeArch, reps, spin, ...summarizeCalibration(samples) };
}

function findProbe(arch: string, what: string, opts: LocateOptions): string {
  const probe = locateProbe(arch, opts);
  if (!probe) throw new InfrastructureError(`${what}: the linux/${arch} probe ${expectedProbePath(arch, opts)} does not exist`, BUILD_PROBES_FIX);
  return probe;
}
