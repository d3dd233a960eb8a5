/**
 * The result of one run, and the merge of several (worker threads, pods, repeated runs of one cell).
 *
 * Units: every latency statistic and every histogram is in MICROSECONDS (`unit: "us"`); rates are requests per
 * second; fields ending in `Ms` are milliseconds. The statistics are a convenience; the encoded histograms are the
 * data (anchors-latency.md §6.4 step 1: compute percentiles per run from the merged HDR histogram).
 */
import { type LatencyStats, decode, encode, mergeEncoded, summarize } from './histograms.ts';
import type { EncodedInterval, Recorder } from './recorder.ts';
import { type Thresholds, judge } from './validity.ts';

export const RESULT_SCHEMA = 'meshcheck.traffic/v1';

export interface TrafficResult {
  schema: typeof RESULT_SCHEMA;
  /** The unit of every latency statistic and histogram in this object. */
  unit: 'us';
  target: string;
  /** Target rate, requests per second. */
  rate: number;
  /** The measured window (after the warm-up), ms. */
  durationMs: number;
  warmupMs: number;
  /** Pool size (sockets kept open). */
  connections: number;
  /** Sockets opened during the whole run, warm-up included; more than `connections` means reconnects. */
  socketsOpened: number;
  /** Requests whose intended start lies in the window. */
  planned: number;
  /** Requests of the window handed to undici. */
  sent: number;
  /** 2xx responses read to the end. */
  completed: number;
  errors: { total: number; byKind: Record<string, number> };
  /**
   * Requests sent per second: sent ÷ (time from the first intended start to the last send + one period). On
   * schedule this is the target rate; a generator that falls behind stretches the denominator.
   */
  achievedRate: number;
  /** achievedRate ÷ rate. */
  achievedRatio: number;
  /** done − intended, µs: the headline (coordinated omission corrected). */
  corrected: LatencyStats;
  /** done − written to the socket, µs: comparable with fortio, wrk and autocannon. */
  uncorrected: LatencyStats;
  /** sent − intended, µs: the generator's own lateness. */
  lateness: LatencyStats;
  /** written − sent, µs: time waiting in the pool for a free connection. */
  queue: LatencyStats;
  /** response headers − intended, µs. */
  firstByte: LatencyStats;
  /** Time to error (done − intended) of failed requests, µs. */
  errorLatency: LatencyStats;
  /** Event-loop stalls beyond the monitor's 1 ms timer, µs, during the window. */
  eventLoopDelay: LatencyStats;
  valid: boolean;
  invalidReasons: string[];
  thresholds: Thresholds;
  /** Compressed base64 HdrHistograms (V2 format), µs, 1 µs … 60 s, 3 significant digits. */
  histograms: { corrected: string; uncorrected: string; lateness: string; errors: string };
  intervalMs: number;
  intervals: EncodedInterval[];
  /**
   * The schedule, so others can line up with it: CLOCK_MONOTONIC (process.hrtime) nanoseconds of the first
   * intended start of the window, as a decimal string (same clock in every process of one machine), and the period.
   */
  schedule: { t0MonotonicNs: string; periodUs: number };
  /** Wall-clock start of the window, ISO 8601. */
  startedAt: string;
  /** How many results were merged into this one (1 for a single run). */
  merged: number;
}

export interface ResultMeta {
  target: string;
  rate: number;
  durationMs: number;
  warmupMs: number;
  connections: number;
  socketsOpened: number;
  planned: number;
  eventLoopDelay: LatencyStats;
  thresholds: Thresholds;
  t0MonotonicNs: bigint;
  startedAt: string;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function achievedRateOf(sent: number, t0: number, lastSent: number, rate: number): number {
  if (sent === 0) return 0;
  const spanMs = lastSent - t0 + 1000 / rate;
  return spanMs > 0 ? (sent * 1000) / spanMs : 0;
}

/** Pure: the recorder's histograms and the run's facts to the result, judged by the thresholds. */
export function buildResult(rec: Recorder, meta: ResultMeta): TrafficResult {
  const intervals = rec.finish();
  const achievedRate = round1(achievedRateOf(rec.sent, rec.t0, rec.lastSent, meta.rate));
  const lateness = summarize(rec.lateness);
  const verdict = judge(
    { rate: meta.rate, achievedRate, planned: meta.planned, sent: rec.sent, completed: rec.completed, lateness, eventLoopDelay: meta.eventLoopDelay },
    meta.thresholds,
  );
  return {
    schema: RESULT_SCHEMA,
    unit: 'us',
    target: meta.target,
    rate: meta.rate,
    durationMs: meta.durationMs,
    warmupMs: meta.warmupMs,
    connections: meta.connections,
    socketsOpened: meta.socketsOpened,
    planned: meta.planned,
    sent: rec.sent,
    completed: rec.completed,
    errors: { total: rec.failed, byKind: Object.fromEntries([...rec.errorsByKind].sort(([a], [b]) => a.localeCompare(b))) },
    achievedRate,
    achievedRatio: Math.round((achievedRate / meta.rate) * 10_000) / 10_000,
    corrected: summarize(rec.corrected),
    uncorrected: summarize(rec.uncorrected),
    lateness,
    queue: summarize(rec.queue),
    firstByte: summarize(rec.firstByte),
    errorLatency: summarize(rec.errors),
    eventLoopDelay: meta.eventLoopDelay,
    ...verdict,
    thresholds: meta.thresholds,
    histograms: { corrected: encode(rec.corrected), uncorrected: encode(rec.uncorrected), lateness: encode(rec.lateness), errors: encode(rec.errors) },
    intervalMs: rec.intervalMs,
    intervals,
    schedule: { t0MonotonicNs: meta.t0MonotonicNs.toString(), periodUs: round1(1e6 / meta.rate) },
    startedAt: meta.startedAt,
    merged: 1,
  };
}

/**
 * Merge results of processes that ran side by side against one target (worker threads or pods, each at its share
 * of the rate): counts and rates add up, histograms are decoded and added (never percentiles averaged, §2.2), and
 * interval i of every result is merged with interval i of the others. The merged run is valid only if every part
 * was; its reasons name the part. Event-loop delay keeps the worst part's statistics.
 */
export function mergeResults(parts: readonly TrafficResult[]): TrafficResult {
  const first = parts[0];
  if (!first) throw new RangeError('mergeResults: nothing to merge');
  if (parts.length === 1) return first;
  const sum = (f: (r: TrafficResult) => number) => parts.reduce((a, r) => a + f(r), 0);
  const byKind: Record<string, number> = {};
  for (const r of parts) for (const [k, n] of Object.entries(r.errors.byKind)) byKind[k] = (byKind[k] ?? 0) + n;
  const merge = (f: (r: TrafficResult) => string) => mergeEncoded(parts.map(f));
  const corrected = merge((r) => r.histograms.corrected);
  const uncorrected = merge((r) => r.histograms.uncorrected);
  const lateness = merge((r) => r.histograms.lateness);
  const errors = merge((r) => r.histograms.errors);

  const intervalCount = Math.max(...parts.map((r) => r.intervals.length));
  const intervals: EncodedInterval[] = [];
  for (let i = 0; i < intervalCount; i++) {
    const here = parts.map((r) => r.intervals[i]).filter((x): x is EncodedInterval => x !== undefined);
    intervals.push({
      startMs: here[0]!.startMs,
      durationMs: here[0]!.durationMs,
      completed: here.reduce((a, x) => a + x.completed, 0),
      errors: here.reduce((a, x) => a + x.errors, 0),
      corrected: encode(mergeEncoded(here.map((x) => x.corrected))),
      uncorrected: encode(mergeEncoded(here.map((x) => x.uncorrected))),
      lateness: encode(mergeEncoded(here.map((x) => x.lateness))),
    });
  }
  const rate = sum((r) => r.rate);
  const achievedRate = round1(sum((r) => r.achievedRate));
  const worstLoop = parts.reduce((w, r) => (r.eventLoopDelay.max > w.eventLoopDelay.max ? r : w), first);
  const invalidReasons = parts.flatMap((r, i) => r.invalidReasons.map((why) => `part ${i + 1} of ${parts.length}: ${why}`));
  const queue = parts.reduce((w, r) => (r.queue.p99 > w.queue.p99 ? r : w), first).queue;
  const firstByte = parts.reduce((w, r) => (r.firstByte.p99 > w.firstByte.p99 ? r : w), first).firstByte;
  return {
    ...first,
    rate,
    durationMs: Math.max(...parts.map((r) => r.durationMs)),
    connections: sum((r) => r.connections),
    socketsOpened: sum((r) => r.socketsOpened),
    planned: sum((r) => r.planned),
    sent: sum((r) => r.sent),
    completed: sum((r) => r.completed),
    errors: { total: sum((r) => r.errors.total), byKind },
    achievedRate,
    achievedRatio: Math.round((achievedRate / rate) * 10_000) / 10_000,
    corrected: summarize(corrected),
    uncorrected: summarize(uncorrected),
    lateness: summarize(lateness),
    // Not shipped as histograms (they are diagnostics), so the worst part's statistics stand for the whole.
    queue,
    firstByte,
    errorLatency: summarize(errors),
    eventLoopDelay: worstLoop.eventLoopDelay,
    valid: parts.every((r) => r.valid),
    invalidReasons,
    histograms: { corrected: encode(corrected), uncorrected: encode(uncorrected), lateness: encode(lateness), errors: encode(errors) },
    intervals,
    merged: sum((r) => r.merged),
  };
}

/** Decode one of a result's histograms (for callers that want percentiles the summary does not carry). */
export function histogramOf(r: TrafficResult, which: keyof TrafficResult['histograms']) {
  return decode(r.histograms[which]);
}
