/**
 * Pure: per-arch latency from repeated runs. Histograms of the repetitions are merged (never percentiles averaged),
 * each repetition's percentiles are kept for tests across runs, and the emulation ratio is the emulated arch's
 * percentile over the native one's, per rate.
 */
import { encode, type LatencyStats, mergeEncoded, summarize } from '../traffic/histograms.ts';
import type { TrafficResult } from '../traffic/result.ts';

export interface RepSummary {
  rep: number;
  corrected: LatencyStats;
  uncorrected: LatencyStats;
  achievedRatio: number;
  latenessP99Us: number;
  errors: number;
  valid: boolean;
  invalidReasons: string[];
}

export interface CellSummary {
  platform: string;
  how: 'native' | 'emulated';
  rate: number;
  reps: RepSummary[];
  /** All repetitions merged. */
  corrected: LatencyStats;
  uncorrected: LatencyStats;
  /** Compressed base64 HdrHistogram of the merged corrected latency, µs. */
  correctedHistogram: string;
  /** Every repetition was valid (rate achieved, generator on time, event loop calm). */
  valid: boolean;
  invalidReasons: string[];
}

export function summarizeCell(platform: string, how: 'native' | 'emulated', rate: number, results: readonly TrafficResult[]): CellSummary {
  const corrected = mergeEncoded(results.map((r) => r.histograms.corrected));
  const uncorrected = mergeEncoded(results.map((r) => r.histograms.uncorrected));
  const reps = results.map((r, i) => ({
    rep: i + 1,
    corrected: r.corrected,
    uncorrected: r.uncorrected,
    achievedRatio: r.achievedRatio,
    latenessP99Us: r.lateness.p99,
    errors: r.errors.total,
    valid: r.valid,
    invalidReasons: r.invalidReasons,
  }));
  const invalidReasons = reps.flatMap((r) => r.invalidReasons.map((why) => `rep ${r.rep}: ${why}`));
  return {
    platform,
    how,
    rate,
    reps,
    corrected: summarize(corrected),
    uncorrected: summarize(uncorrected),
    correctedHistogram: encode(corrected),
    valid: reps.length > 0 && reps.every((r) => r.valid),
    invalidReasons,
  };
}

export interface Ratio {
  rate: number;
  emulated: string;
  native: string;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : Number.NaN);

/** emulated ÷ native for each rate where both were measured. */
export function emulationRatios(cells: readonly CellSummary[]): Ratio[] {
  const out: Ratio[] = [];
  for (const e of cells.filter((c) => c.how === 'emulated')) {
    const n = cells.find((c) => c.how === 'native' && c.rate === e.rate);
    if (!n) continue;
    out.push({
      rate: e.rate,
      emulated: e.platform,
      native: n.platform,
      p50: ratio(e.corrected.p50, n.corrected.p50),
      p90: ratio(e.corrected.p90, n.corrected.p90),
      p99: ratio(e.corrected.p99, n.corrected.p99),
      p999: ratio(e.corrected.p999, n.corrected.p999),
    });
  }
  return out;
}

/**
 * The order of the runs: repetitions outermost, and inside each the platforms alternate direction (A B, B A, …) so
 * slow drift of the machine (thermal, caches, other load) does not always favour the same arch.
 */
export function interleave<P>(platforms: readonly P[], rates: readonly number[], reps: number): Array<{ rep: number; platform: P; rate: number }> {
  const out: Array<{ rep: number; platform: P; rate: number }> = [];
  for (let rep = 1; rep <= reps; rep++) {
    const order = rep % 2 === 1 ? platforms : [...platforms].reverse();
    for (const platform of order) for (const rate of rates) out.push({ rep, platform, rate });
  }
  return out;
}
