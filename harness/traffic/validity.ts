/**
 * Is a run fit to be reported? A run that failed these rules is marked invalid with its reasons, never reported as
 * if good (anchors-latency.md §6.4 step 4: "gate only on run validity first … invalid runs are re-run, not
 * compared"). Every rule is about the generator, not the target: a slow or failing target gives a valid run with
 * bad numbers, a struggling generator gives an invalid run.
 */
import type { LatencyStats } from './histograms.ts';

export interface Thresholds {
  /**
   * Requests actually sent per second over the window ÷ target rate must reach this. Default 0.99 (§6.4 step 4,
   * §7 "Validity checks").
   */
  minAchievedRatio: number;
  /**
   * Generator lateness (sent − intended) p99, µs. Default 100 µs (§7 "Validity checks": "> 100 µs (for sub-ms
   * SLOs)"). Why that value: lateness adds one for one to the corrected latency, and the smallest published Istio
   * deltas to resolve are +0.17 to +0.30 ms at p90/p99 (§1.7); a generator late by 1 ms at p99 would be larger than
   * the effect it measures. On this 2-core machine the spinning scheduler keeps it well below (see the bench), and
   * a run on a slower or emulated generator gets flagged instead of silently blurred; raise it there on purpose.
   */
  maxLatenessP99Us: number;
  /**
   * Longest event-loop stall seen by `monitorEventLoopDelay` (beyond its 1 ms timer), µs. Default 10 ms. A
   * stalled loop stamps `done` late for every response it was holding, so the target gets blamed for the
   * generator's pause, and lateness alone misses it when the stall falls between two intended starts of a slow
   * schedule. 10 ms: a major GC in this process is a few ms; a 10 ms stall at 1,000 req/s moves 10 requests by up
   * to 10 ms, which is already visible at p99.9 of a 10 s run.
   */
  maxEventLoopDelayUs: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  minAchievedRatio: 0.99,
  maxLatenessP99Us: 100,
  maxEventLoopDelayUs: 10_000,
});

export interface ValidityInput {
  rate: number;
  achievedRate: number;
  /** Requests intended in the window. */
  planned: number;
  sent: number;
  completed: number;
  lateness: LatencyStats;
  eventLoopDelay: LatencyStats;
}

const fmt = (x: number, digits = 1) => x.toFixed(digits);

export function judge(r: ValidityInput, t: Thresholds = DEFAULT_THRESHOLDS): { valid: boolean; invalidReasons: string[] } {
  const reasons: string[] = [];
  if (r.sent < r.planned) {
    reasons.push(`only ${r.sent} of the ${r.planned} planned requests were sent (the run was stopped early)`);
  }
  const ratio = r.rate > 0 ? r.achievedRate / r.rate : 0;
  if (ratio < t.minAchievedRatio) {
    reasons.push(`achieved rate ${fmt(r.achievedRate)} req/s is ${fmt(ratio * 100, 2)}% of the target ${r.rate} req/s (minimum ${fmt(t.minAchievedRatio * 100, 2)}%)`);
  }
  if (r.lateness.p99 > t.maxLatenessP99Us) {
    reasons.push(`generator lateness p99 is ${r.lateness.p99} µs (limit ${t.maxLatenessP99Us} µs): requests left later than planned, so the generator, not the target, added latency`);
  }
  if (r.eventLoopDelay.max > t.maxEventLoopDelayUs) {
    reasons.push(`the generator's event loop stalled for ${fmt(r.eventLoopDelay.max / 1000, 2)} ms (limit ${fmt(t.maxEventLoopDelayUs / 1000, 2)} ms): completions were stamped late`);
  }
  if (r.sent > 0 && r.completed === 0) {
    reasons.push('no request succeeded, so there is no latency to report');
  }
  return { valid: reasons.length === 0, invalidReasons: reasons };
}
