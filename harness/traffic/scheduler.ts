/**
 * Fires request i at t0 + i/rate on the event loop, as close to that moment as Node allows.
 *
 * Strategies (measured in scripts/bench-traffic.ts; the default is the best one):
 *  - `hybrid` (default): setTimeout for the far future, then a setImmediate loop for the last `spinMs`. Node's
 *    timers have 1 ms granularity and fire up to ~1 ms late, so a timer alone cannot hit a 100 µs target;
 *    setImmediate yields to the event loop's I/O poll on every turn, so responses are still stamped promptly while
 *    the loop waits for the next intended start (anchors-latency.md §7 "Schedule": "sleeps with setTimeout(waitMs
 *    − 1) and finishes with setImmediate polling for sub-ms precision"). At 1,000 req/s and above the next start
 *    is always within the spin window, so the loop spins: one core busy in exchange for microsecond lateness.
 *    Each turn of the spin may also busy-wait synchronously for up to `busyUs` (default 20 µs), and a request due
 *    within busyUs is waited for without yielding. Why: every setImmediate allocates an Immediate; a bare spin
 *    turned ~1 M times a second here (5.2 M turns in 5 s) and caused ~400 scavenges a second, each a pause that
 *    makes requests late. With 20 µs per turn the loop turns ~46 k times a second (230 k in 5 s) and the
 *    scheduler alone kept lateness p99 at 2-13 µs against 63-70 µs for the bare spin. Against a server at
 *    1,000 req/s (bench (d), three runs): busyUs 0 gave lateness p99 102 / 173 / 38 µs, busyUs 20 gave 34 / 2 / 1,
 *    busyUs 100 gave 1 / 2 / 71, setTimeout alone 1,580 / 1,549 / 1,588. 20 rather than 100: as good at p99, and a
 *    response that arrives during a busy-wait is read (and stamped) at most 20 µs late instead of 100.
 *  - `timeout`: setTimeout only (no spinning). Cheap, but late by up to a millisecond.
 *  - `spin`: setImmediate always.
 * A queueMicrotask loop is not an option for waiting: microtasks run before the loop returns to I/O, so it would
 * starve the very responses being timed.
 *
 * Every due request is fired in the same turn (no skipping, no catch-up rate limit: undici queues what the pool
 * cannot take, and corrected latency counts that wait), but at most `maxBatch` per turn, so a generator that fell
 * behind still lets I/O through between batches.
 */
import { decideWake } from './schedule.ts';

export type SchedulerStrategy = 'hybrid' | 'timeout' | 'spin';

export interface ScheduleOptions {
  /** Intended start of request 0, performance.now() ms. */
  startMs: number;
  rate: number;
  /** Requests 0 … count−1. */
  count: number;
  /** Sends request `index`; called once per index, in order, at or after its intended start. */
  fire: (index: number, intendedMs: number) => void;
  strategy?: SchedulerStrategy;
  /** Hybrid: spin for the last `spinMs` before an intended start. Default 2 (a timer is often 1 ms late). */
  spinMs?: number;
  /** Default 64. */
  maxBatch?: number;
  /**
   * Microseconds of synchronous busy-waiting allowed per turn of the spin (hybrid and spin strategies): a request
   * due within busyUs is waited for without yielding, and a longer wait yields to I/O every busyUs.
   */
  busyUs?: number;
  /**
   * One unit of background work (encoding an interval histogram), offered when the next intended start is more
   * than `idleMinMs` away, with that slack in ms; the callee decides whether its work fits. Returns whether it did
   * any work (false costs nothing and lets the scheduler wait).
   */
  idle?: (slackMs: number) => boolean;
  /** Default 0.2 ms. */
  idleMinMs?: number;
  signal?: AbortSignal;
}

export const SCHEDULER_DEFAULTS = { strategy: 'hybrid', spinMs: 2, maxBatch: 64, idleMinMs: 0.2, busyUs: 20 } as const;

export interface ScheduleOutcome {
  /** How many requests were fired (less than count only when aborted). */
  fired: number;
  /** Event-loop turns the scheduler took (spins plus timer wake-ups): its CPU cost, roughly. */
  turns: number;
}

export function runSchedule(o: ScheduleOptions): Promise<ScheduleOutcome> {
  const strategy = o.strategy ?? SCHEDULER_DEFAULTS.strategy;
  const spinMs = o.spinMs ?? SCHEDULER_DEFAULTS.spinMs;
  const maxBatch = o.maxBatch ?? SCHEDULER_DEFAULTS.maxBatch;
  const idleMinMs = o.idleMinMs ?? SCHEDULER_DEFAULTS.idleMinMs;
  const busyMs = strategy === 'timeout' ? 0 : (o.busyUs ?? SCHEDULER_DEFAULTS.busyUs) / 1000;
  const { startMs, rate, count, fire, idle, signal } = o;
  const period = 1000 / rate;
  let next = 0;
  let turns = 0;

  return new Promise((resolve) => {
    const tick = (): void => {
      turns++;
      if (signal?.aborted) return resolve({ fired: next, turns });
      let batch = 0;
      let wait = 0;
      for (;;) {
        let now = performance.now();
        while (next < count) {
          const intended = startMs + next * period;
          if (intended > now) {
            // The clock read before a batch is stale after it; look once more before waiting.
            now = performance.now();
            if (intended > now) break;
          }
          fire(next, intended);
          next++;
          if (++batch >= maxBatch) {
            setImmediate(tick);
            return;
          }
        }
        if (next >= count) return resolve({ fired: next, turns });
        wait = startMs + next * period - performance.now();
        if (wait > busyMs) break;
        // Due within the busy window: wait for it here, without yielding, and fire it on time.
        const due = startMs + next * period;
        while (performance.now() < due);
      }
      if (idle && wait > idleMinMs && idle(wait)) {
        // Work was done, so the clock moved: look again on the next turn.
        setImmediate(tick);
        return;
      }
      if (strategy === 'timeout') {
        setTimeout(tick, wait);
        return;
      }
      const d = strategy === 'spin' ? ({ kind: 'spin' } as const) : decideWake(wait, spinMs);
      if (d.kind === 'sleep') {
        setTimeout(tick, d.timeoutMs);
        return;
      }
      if (busyMs > 0) {
        // Part of the wait is spent here, so the loop turns (and allocates an Immediate) less often. I/O waits at
        // most busyUs for it.
        const until = performance.now() + Math.min(busyMs, wait - busyMs);
        while (performance.now() < until);
      }
      setImmediate(tick);
    };
    const first = startMs - performance.now();
    if (strategy !== 'spin' && first > spinMs + 1) setTimeout(tick, Math.floor(first - spinMs));
    else setImmediate(tick);
  });
}
