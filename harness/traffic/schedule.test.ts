import { describe, expect, test } from 'vitest';
import { decideWake, dueCount, intendedAt, periodMs, poolSize, requestsIn } from './schedule.ts';

describe('the open-model schedule', () => {
  test('request i is intended at start + i/rate, computed from the index (no drift over a long run)', () => {
    expect(intendedAt(100, 0, 1000)).toBe(100);
    expect(intendedAt(100, 1, 1000)).toBe(101);
    expect(intendedAt(0, 3, 300)).toBe(10);
    expect(periodMs(500)).toBe(2);
    // One hour at 1,000/s: adding the period 3.6 M times would drift; the index formula is exact.
    expect(intendedAt(0, 3_600_000, 1000)).toBe(3_600_000);
    let added = 0;
    for (let i = 0; i < 3_600_000; i++) added += periodMs(3000);
    expect(Math.abs(added - 1_200_000)).toBeGreaterThan(1e-6);
    expect(intendedAt(0, 3_600_000, 3000)).toBe(1_200_000);
  });

  test('requestsIn: intended starts in [0, duration)', () => {
    expect(requestsIn(2000, 500)).toBe(1000);
    expect(requestsIn(10_000, 1000)).toBe(10_000);
    expect(requestsIn(1000, 3)).toBe(3);
    expect(requestsIn(1001, 3)).toBe(4);
    expect(requestsIn(100, 3)).toBe(1);
    expect(requestsIn(0, 1000)).toBe(0);
    expect(requestsIn(1000, 0)).toBe(0);
  });

  test('dueCount: how many are due now, regardless of how late the earlier ones are', () => {
    expect(dueCount(100, 1000, 99.9, 10)).toBe(0);
    expect(dueCount(100, 1000, 100, 10)).toBe(1);
    expect(dueCount(100, 1000, 100.999, 10)).toBe(1);
    expect(dueCount(100, 1000, 101, 10)).toBe(2);
    // 5 ms late: five more are due at once (no skipping), capped at the total.
    expect(dueCount(100, 1000, 105.5, 10)).toBe(6);
    expect(dueCount(100, 1000, 500, 10)).toBe(10);
  });

  test('decideWake: a timer only for the part of the wait beyond the spin window, in whole ms', () => {
    expect(decideWake(0.5, 2)).toEqual({ kind: 'spin' });
    expect(decideWake(2.9, 2)).toEqual({ kind: 'spin' });
    expect(decideWake(3, 2)).toEqual({ kind: 'sleep', timeoutMs: 1 });
    expect(decideWake(10.7, 2)).toEqual({ kind: 'sleep', timeoutMs: 8 });
    expect(decideWake(10.7, 0)).toEqual({ kind: 'sleep', timeoutMs: 10 });
  });
});

describe("pool size by Little's law", () => {
  test('rate × expected latency × headroom, within floor and cap', () => {
    // 1,000/s × 10 ms × 2 = 20
    expect(poolSize({ rate: 1000 })).toBe(20);
    expect(poolSize({ rate: 1000, expectedLatencyMs: 1, headroom: 4 })).toBe(8);
    expect(poolSize({ rate: 5000, expectedLatencyMs: 5, headroom: 2 })).toBe(50);
    expect(poolSize({ rate: 10 })).toBe(8);
    expect(poolSize({ rate: 100_000 })).toBe(256);
    expect(poolSize({ rate: 100_000, max: 64 })).toBe(64);
    expect(poolSize({ rate: 1, min: 1 })).toBe(1);
    // Rounded up: 1,001/s × 10 ms × 2 = 20.02 → 21
    expect(poolSize({ rate: 1001 })).toBe(21);
    // A cap below the floor is lifted to the floor.
    expect(poolSize({ rate: 1000, min: 8, max: 4 })).toBe(8);
  });
});
