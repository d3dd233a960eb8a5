import { describe, expect, test } from 'vitest';
import { EMPTY_STATS } from './histograms.ts';
import { DEFAULT_THRESHOLDS, type ValidityInput, judge } from './validity.ts';

const good: ValidityInput = {
  rate: 1000,
  achievedRate: 999.9,
  planned: 10_000,
  sent: 10_000,
  completed: 10_000,
  lateness: { ...EMPTY_STATS, count: 10_000, p50: 1, p99: 40, max: 900 },
  eventLoopDelay: { ...EMPTY_STATS, count: 9000, p99: 200, max: 2500 },
};

describe('validity rules', () => {
  test('a run on schedule is valid', () => {
    expect(judge(good)).toEqual({ valid: true, invalidReasons: [] });
  });

  test('achieved rate below 99 % of the target', () => {
    expect(judge({ ...good, achievedRate: 990 }).valid).toBe(true);
    const v = judge({ ...good, achievedRate: 989.9 });
    expect(v.valid).toBe(false);
    expect(v.invalidReasons).toEqual(['achieved rate 989.9 req/s is 98.99% of the target 1000 req/s (minimum 99.00%)']);
  });

  test('lateness p99 above the limit (default 100 µs), configurable', () => {
    expect(DEFAULT_THRESHOLDS.maxLatenessP99Us).toBe(100);
    expect(judge({ ...good, lateness: { ...good.lateness, p99: 100 } }).valid).toBe(true);
    const v = judge({ ...good, lateness: { ...good.lateness, p99: 101 } });
    expect(v.invalidReasons[0]).toMatch(/^generator lateness p99 is 101 µs \(limit 100 µs\)/);
    expect(judge({ ...good, lateness: { ...good.lateness, p99: 800 } }, { ...DEFAULT_THRESHOLDS, maxLatenessP99Us: 1000 }).valid).toBe(true);
  });

  test('an event-loop stall above the limit (default 10 ms)', () => {
    const v = judge({ ...good, eventLoopDelay: { ...good.eventLoopDelay, max: 12_500 } });
    expect(v.invalidReasons).toEqual(["the generator's event loop stalled for 12.50 ms (limit 10.00 ms): completions were stamped late"]);
  });

  test('a stopped run and a run with no success are invalid; all reasons are listed', () => {
    const v = judge({ ...good, sent: 4000, achievedRate: 400, completed: 0 });
    expect(v.valid).toBe(false);
    expect(v.invalidReasons).toHaveLength(3);
    expect(v.invalidReasons[0]).toMatch(/only 4000 of the 10000 planned requests were sent/);
    expect(v.invalidReasons[2]).toMatch(/no request succeeded/);
  });
});
