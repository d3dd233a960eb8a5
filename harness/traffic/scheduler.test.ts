import { describe, expect, test } from 'vitest';
import { runSchedule } from './scheduler.ts';

describe('scheduler (real timers, short runs)', () => {
  test.each(['hybrid', 'timeout', 'spin'] as const)('%s: every request once, in order, never before its intended start', async (strategy) => {
    const fired: Array<[number, number, number]> = [];
    const startMs = performance.now() + 5;
    const out = await runSchedule({ startMs, rate: 2000, count: 200, strategy, fire: (i, intended) => fired.push([i, intended, performance.now()]) });
    expect(out.fired).toBe(200);
    expect(fired.map(([i]) => i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    for (const [i, intended, at] of fired) {
      expect(intended).toBe(startMs + i * 0.5);
      expect(at).toBeGreaterThanOrEqual(intended);
    }
  });

  test('a late start fires everything that is due at once (no skipping), in batches', async () => {
    const fired: number[] = [];
    const out = await runSchedule({ startMs: performance.now() - 100, rate: 1000, count: 150, maxBatch: 16, fire: (i) => fired.push(i) });
    expect(out.fired).toBe(150);
    expect(fired).toHaveLength(150);
  });

  test('idle work runs only when the next request is far enough away', async () => {
    let idleCalls = 0;
    let work = 3;
    const slacks: number[] = [];
    await runSchedule({
      startMs: performance.now() + 1,
      rate: 100,
      count: 10,
      idleMinMs: 0.5,
      fire: () => {},
      idle: (slackMs) => {
        idleCalls++;
        slacks.push(slackMs);
        return work-- > 0;
      },
    });
    expect(work).toBeLessThan(0);
    expect(idleCalls).toBeGreaterThanOrEqual(4);
    // Offered only with more than idleMinMs to spare, and never more than one period.
    expect(Math.min(...slacks)).toBeGreaterThan(0.5);
    expect(Math.max(...slacks)).toBeLessThanOrEqual(10);
  });

  test('abort stops the schedule', async () => {
    const ac = new AbortController();
    let n = 0;
    const out = await runSchedule({
      startMs: performance.now(),
      rate: 1000,
      count: 100_000,
      signal: ac.signal,
      fire: () => {
        if (++n === 50) ac.abort();
      },
    });
    expect(out.fired).toBeLessThan(100_000);
    expect(out.fired).toBeGreaterThanOrEqual(50);
  });
});
