/**
 * HDR histograms in microseconds, their summary statistics, and their exchange format between processes.
 *
 * Why these parameters (anchors-latency.md §2.2 and §7 "Histograms"): lowest 1 µs, highest 60 s, 3 significant
 * digits is the wrk2 configuration (§2.1, `hdr_init(1, MAX_LATENCY, 3)`). Below 2,048 µs every microsecond has its
 * own bucket, above it the error is at most 0.1 %, so the 0.1 ms resolution the issue asks for holds across the
 * whole range; fortio's default 1 ms buckets (§1.3) and autocannon's integer milliseconds (§3.1) do not.
 * 32-bit JS buckets: 70 KiB each and ~70 ns per record on this machine; "packed" buckets were 600 ns per record.
 * autoResize is off and values are clamped, so one absurd value can never grow a histogram during a run.
 *
 * Merging (§2.2): encode with `encodeIntoCompressedBase64` (the V2 compressed format that the Java, Go and Rust
 * HdrHistogram read too), decode and `add()`. Percentiles are never averaged.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export const LOWEST_US = 1;
export const HIGHEST_US = 60_000_000;
export const SIGNIFICANT_DIGITS = 3;

export function createHistogram(): Histogram {
  return build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    useWebAssembly: false,
  });
}

/**
 * Milliseconds (performance.now() differences) to whole microseconds for recording. Rounded, not truncated
 * (hdr-histogram-js drops the fraction, and its maxValue keeps the raw float: §2.2). Negative values (a clock read
 * in the wrong order by a few ns) become 0, values beyond 60 s become 60 s.
 */
export function msToRecordableUs(ms: number): number {
  const us = Math.round(ms * 1000);
  if (!(us > 0)) return 0;
  return us > HIGHEST_US ? HIGHEST_US : us;
}

/** Summary of one histogram. Every value is in microseconds; `count` is a number of samples. */
export interface LatencyStats {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  /** The 99.9th percentile. */
  p999: number;
  max: number;
  mean: number;
  stddev: number;
}

export const EMPTY_STATS: LatencyStats = Object.freeze({ count: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, stddev: 0 });

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Percentiles as HdrHistogram reports them: the highest value equivalent to the bucket that holds the percentile
 * (so a reported p99 is never below the true one, and above it by at most the bucket width: 1 µs below 2,048 µs,
 * 0.1 % above), capped at the maximum.
 */
export function summarize(h: Histogram): LatencyStats {
  const count = h.totalCount;
  if (count === 0) return { ...EMPTY_STATS };
  const max = h.maxValue;
  // A bucket's highest equivalent value can lie above the largest value recorded in it; never report p > max.
  const at = (p: number) => Math.min(max, h.getValueAtPercentile(p));
  return {
    count,
    // minNonZeroValue skips zeros, which are real here (a request sent in the microsecond it was due).
    min: at(0),
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max,
    mean: round1(h.mean),
    stddev: round1(h.stdDeviation),
  };
}

export function encode(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

/** Run the encoder a few times so its code is compiled before a measured run needs it. */
export function warmEncoder(): void {
  const h = createHistogram();
  for (let i = 0; i < 2000; i++) h.recordValue(500 + ((i * 7919) % 3000));
  for (let i = 0; i < 8; i++) encode(h);
}

/** Note: a decoded histogram's maxValue is the top of the bucket that held the maximum (within 0.1 %). */
export function decode(base64: string): Histogram {
  const h = decodeFromCompressedBase64(base64, 32, false);
  return h;
}

/**
 * Merge encoded histograms (from several processes, pods or intervals) into one fresh histogram. The result has
 * this module's range, so histograms from any meshcheck process add up whatever their own bucket layout.
 */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const merged = createHistogram();
  for (const e of encoded) {
    if (!e) continue;
    const h = decode(e);
    merged.add(h);
  }
  return merged;
}
