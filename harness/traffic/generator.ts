/**
 * `runTraffic`: an open-model, constant-rate run against one URL, measured with coordinated omission corrected.
 *
 * Order of a run:
 *  1. open the pool and all its connections (warmConnections);
 *  2. warm-up at the target rate for `warmupMs` (default 10 s), on the same schedule, not recorded (JIT, heaps,
 *     the target's caches, the mesh's connection pools: wrk2 discards its first 10 s, Istio's runner its first 62 s,
 *     §1.6 and §2.1);
 *  3. the measured window: requests whose intended start lies in [t0, t0 + durationMs), recorded;
 *  4. wait for the last responses (bounded by the request timeout), close the pool, build and judge the result.
 * The warm-up flows into the window without a gap, so the window starts in steady state.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { errorKind, statusKind } from './error-kinds.ts';
import { type LatencyStats, EMPTY_STATS, warmEncoder } from './histograms.ts';
import { Recorder, RequestTiming } from './recorder.ts';
import { type TrafficResult, buildResult } from './result.ts';
import { poolSize, requestsIn } from './schedule.ts';
import { type SchedulerStrategy, runSchedule } from './scheduler.ts';
import { type ClientMode, openTransport, sender, warmConnections } from './transport.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from './validity.ts';

export interface TrafficOptions {
  /** http:// or https:// URL, path and query included. */
  url: string;
  /** Requests per second, for the whole run. */
  rate: number;
  /** The measured window, ms. */
  durationMs: number;
  /**
   * Default 10,000 ms: wrk2's calibration period (anchors-latency.md §2.1; Istio's runner skips 62 s, §1.6). Measured
   * here: a fresh node:http target stalled this 2-core machine for ~20 ms after its first ~10,000 requests (its heap
   * growing), and this process's own heap settles over its first seconds of load. Tests pass shorter warm-ups.
   */
  warmupMs?: number;
  /** Pool size. Default: Little's law, `poolSize({ rate, expectedLatencyMs })` (schedule.ts). */
  connections?: number;
  /** For the default pool size, ms. Default 10. */
  expectedLatencyMs?: number;
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  body?: string;
  /** Per request (headers and body), ms. Default 10,000. */
  timeoutMs?: number;
  /** Interval histograms, ms. Default 1,000. */
  intervalMs?: number;
  thresholds?: Partial<Thresholds>;
  scheduler?: { strategy?: SchedulerStrategy; spinMs?: number; maxBatch?: number; busyUs?: number };
  /** How requests are sent (transport.ts): `dispatch` (default) or `request` (request() + body.dump()). */
  client?: ClientMode;
  signal?: AbortSignal;
  /** Every request of the window once it ended, with its error kind if it failed (tests, the bench). */
  onSample?: (t: RequestTiming, errorKind: string | undefined) => void;
}

export const TRAFFIC_DEFAULTS = { warmupMs: 10_000, timeoutMs: 10_000, intervalMs: 1000, method: 'GET', client: 'dispatch' } as const;

/**
 * Closed intervals kept unencoded at most (3 × 70 KiB each, so ~25 MB). At rates whose period leaves no slack for
 * encoding during the run, they wait for the end; beyond this many they are encoded anyway.
 */
const MAX_PENDING_INTERVALS = 120;

/** The event-loop monitor's timer period, ms. 1 ms is its finest: a stall longer than that cannot hide. */
const LOOP_RESOLUTION_MS = 1;

function checkOptions(o: TrafficOptions): void {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a number > 0, got ${v}`);
  };
  positive('rate', o.rate);
  positive('durationMs', o.durationMs);
  positive('timeoutMs', o.timeoutMs);
  positive('intervalMs', o.intervalMs);
  positive('expectedLatencyMs', o.expectedLatencyMs);
  if (o.warmupMs !== undefined && !(Number.isFinite(o.warmupMs) && o.warmupMs >= 0)) throw new RangeError(`warmupMs must be a number >= 0, got ${o.warmupMs}`);
  if (o.connections !== undefined && !(Number.isInteger(o.connections) && o.connections >= 1)) {
    throw new RangeError(`connections must be a whole number >= 1, got ${o.connections}`);
  }
  // The histograms stop at 60 s; a longer timeout would record a clamped value as if it were measured.
  if ((o.timeoutMs ?? 0) > 59_000) throw new RangeError(`timeoutMs must be at most 59,000 (the histograms end at 60 s), got ${o.timeoutMs}`);
}

/** monitorEventLoopDelay records the whole timer period; what matters is the part beyond it. */
function loopStats(h: import('node:perf_hooks').ELDHistogram): LatencyStats {
  if (h.count === 0) return { ...EMPTY_STATS };
  const us = (ns: number) => Math.max(0, Math.round((ns - LOOP_RESOLUTION_MS * 1e6) / 1000));
  return {
    count: h.count,
    min: us(h.min),
    p50: us(h.percentile(50)),
    p90: us(h.percentile(90)),
    p99: us(h.percentile(99)),
    p999: us(h.percentile(99.9)),
    max: us(h.max),
    mean: Math.round(Math.max(0, h.mean - LOOP_RESOLUTION_MS * 1e6) / 100) / 10,
    stddev: Math.round(h.stddev / 100) / 10,
  };
}

export async function runTraffic(o: TrafficOptions): Promise<TrafficResult> {
  checkOptions(o);
  const rate = o.rate;
  const warmupMs = o.warmupMs ?? TRAFFIC_DEFAULTS.warmupMs;
  const timeoutMs = o.timeoutMs ?? TRAFFIC_DEFAULTS.timeoutMs;
  const method = o.method ?? TRAFFIC_DEFAULTS.method;
  const headers = o.headers ?? {};
  const connections = o.connections ?? poolSize({ rate, ...(o.expectedLatencyMs ? { expectedLatencyMs: o.expectedLatencyMs } : {}) });
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...o.thresholds };
  const transport = openTransport(o.url, { connections, timeoutMs, keepAliveMs: Math.max(60_000, warmupMs + o.durationMs + timeoutMs) });

  try {
    await warmConnections(transport, connections, method, headers, timeoutMs);

    const warmCount = requestsIn(warmupMs, rate);
    const planned = requestsIn(o.durationMs, rate);
    const period = 1000 / rate;
    // A few ms of lead, so request 0 is not late merely because the first turn of the loop came after its time.
    const startMs = performance.now() + 5;
    const t0 = startMs + warmCount * period;
    const rec = new Recorder(t0, o.intervalMs ?? TRAFFIC_DEFAULTS.intervalMs);
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    const onSample = o.onSample;
    // The first encodings of a process run cold (4 ms measured); pay that before the schedule, not in it.
    warmEncoder();
    let stepMs = 0.2;

    let inFlight = 0;
    let scheduleDone = false;
    let drained: () => void = () => {};
    const allDone = new Promise<void>((resolve) => {
      drained = resolve;
    });

    const settle = (t: RequestTiming, err: unknown) => {
      inFlight--;
      if (t.done === 0) t.done = performance.now();
      if (t.index >= warmCount) {
        const kind = err !== undefined ? errorKind(err) : statusKind(t.status);
        if (kind === undefined) rec.success(t);
        else rec.failure(kind, t);
        onSample?.(t, kind);
      }
      if (inFlight === 0 && scheduleDone) drained();
    };
    const send = sender(transport, o.client ?? TRAFFIC_DEFAULTS.client, { path: transport.path, method, headers, body: o.body ?? null }, settle);

    const fire = (index: number, intended: number) => {
      const t = new RequestTiming(index, intended);
      if (index === warmCount) loop.reset();
      t.sent = performance.now();
      if (index >= warmCount) rec.onSent(t);
      inFlight++;
      send(t);
    };

    loop.enable();
    const monoOffsetNs = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
    const outcome = await runSchedule({
      startMs,
      rate,
      count: warmCount + planned,
      fire,
      ...o.scheduler,
      idle: (slackMs) => {
        if (rec.pendingIntervals === 0) return false;
        // Only when twice the typical step fits before the next request, unless the backlog grows too large (a
        // rate too high to ever leave that slack: then memory wins over one late request per histogram).
        if (slackMs < 2 * stepMs + 0.1 && rec.pendingIntervals < MAX_PENDING_INTERVALS) return false;
        const began = performance.now();
        rec.encodeStep();
        stepMs = 0.8 * stepMs + 0.2 * (performance.now() - began);
        return true;
      },
      ...(o.signal ? { signal: o.signal } : {}),
    });
    scheduleDone = true;
    if (inFlight === 0) drained();
    if (o.signal?.aborted) await transport.pool.destroy();
    const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), timeoutMs + 2_000).unref());
    if ((await Promise.race([allDone, timer])) === 'late') {
      // Cannot happen while undici's timeouts work; if it does, end the stragglers as errors rather than wait.
      await transport.pool.destroy();
      await Promise.race([allDone, new Promise((r) => setTimeout(r, 1_000).unref())]);
    }
    loop.disable();
    void outcome;

    return buildResult(rec, {
      target: o.url,
      rate,
      durationMs: o.durationMs,
      warmupMs,
      connections,
      socketsOpened: transport.socketsOpened(),
      planned,
      eventLoopDelay: loopStats(loop),
      thresholds,
      t0MonotonicNs: monoOffsetNs + BigInt(Math.round(t0 * 1e6)),
      startedAt: new Date(performance.timeOrigin + t0).toISOString(),
    });
  } finally {
    if (!transport.pool.destroyed && !transport.pool.closed) await transport.pool.close().catch(() => transport.pool.destroy());
  }
}
