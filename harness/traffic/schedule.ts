/**
 * The open-model schedule and the pool size, as pure functions.
 *
 * Request i is intended at start + i × period, whatever happened to the requests before it. Latency measured from
 * that intended time is what corrects coordinated omission (anchors-latency.md §2.1: wrk2 measures from
 * `thread_start + complete/throughput`; §7 "Schedule"). The intended time is computed from the index each time,
 * never by adding the period to the previous one, so rounding never accumulates over a long run.
 */

/** Milliseconds between two intended starts. */
export function periodMs(rate: number): number {
  return 1000 / rate;
}

export function intendedAt(startMs: number, index: number, rate: number): number {
  return startMs + (index * 1000) / rate;
}

/** How many requests have their intended start in [0, durationMs): indices 0 … n−1. */
export function requestsIn(durationMs: number, rate: number): number {
  if (!(durationMs > 0) || !(rate > 0)) return 0;
  // The tiny epsilon keeps 2,000 ms × 500/s at exactly 1,000 despite 2000 * 500 / 1000 floating-point noise.
  return Math.ceil((durationMs * rate) / 1000 - 1e-9);
}

/** How many of the `total` requests are due at `nowMs` (intended start ≤ now). */
export function dueCount(startMs: number, rate: number, nowMs: number, total: number): number {
  if (nowMs < startMs) return 0;
  const n = Math.floor(((nowMs - startMs) * rate) / 1000) + 1;
  return n > total ? total : n;
}

/**
 * What the scheduler does after a batch, given the wait until the next intended start.
 *  - `spin`: yield with setImmediate (I/O callbacks run, then check again). Used when the next request is due
 *    within `spinMs`, because a timer cannot be trusted that close: Node's timers have 1 ms granularity and fire
 *    up to about a millisecond late (wrk2's author says the same of OS sleeps: ±~1 ms, §2.1).
 *  - `sleep`: setTimeout for the part of the wait that lies beyond the spin window, whole milliseconds (a timer
 *    below 1 ms is 1 ms in Node anyway).
 */
export type WakeDecision = { kind: 'spin' } | { kind: 'sleep'; timeoutMs: number };

export function decideWake(waitMs: number, spinMs: number): WakeDecision {
  const sleepFor = Math.floor(waitMs - spinMs);
  if (sleepFor < 1) return { kind: 'spin' };
  return { kind: 'sleep', timeoutMs: sleepFor };
}

export interface PoolSizing {
  /** Target requests per second. */
  rate: number;
  /**
   * The latency the connections must cover without queueing in the client, ms. Default 10: the tail (p99.9) of a
   * sidecar hop under load is a few ms (§1.7, §5.2), so 10 ms leaves room without opening hundreds of sockets.
   */
  expectedLatencyMs?: number;
  /** Multiplier on top of Little's law for bursts. Default 2 (§7 "Transport": λ × p99.9 × 2). */
  headroom?: number;
  /** Default 8: even at low rates, a stall on a few connections must not queue everything behind it. */
  min?: number;
  /** Default 256: beyond that a client-side queue is a better signal than a socket per request. */
  max?: number;
}

export const POOL_DEFAULTS = { expectedLatencyMs: 10, headroom: 2, min: 8, max: 256 } as const;

/**
 * Connections by Little's law: requests in flight = rate × latency. With rate × expected latency × headroom
 * connections, the pool queues requests only when the target is much slower than expected, and then corrected
 * latency (measured from the intended start) still counts the wait, so queueing never hides latency.
 */
export function poolSize(s: PoolSizing): number {
  const latency = s.expectedLatencyMs ?? POOL_DEFAULTS.expectedLatencyMs;
  const headroom = s.headroom ?? POOL_DEFAULTS.headroom;
  const min = s.min ?? POOL_DEFAULTS.min;
  const max = Math.max(min, s.max ?? POOL_DEFAULTS.max);
  const little = Math.ceil((s.rate * latency * headroom) / 1000);
  return Math.min(max, Math.max(min, little));
}
