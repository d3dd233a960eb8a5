import { describe, expect, it } from 'vitest';
import { converge } from './convergence.ts';
import type { Exchange } from './evidence.ts';
import { expectedRetry } from './retry.ts';
import { judgeSplit, normalQuantile, wilsonInterval } from './split.ts';

const ex = (version: string, status = 200): Exchange => ({ request: { method: 'GET', url: '/' }, response: { status, headers: { 'x-echo-version': version } }, at: 0 });

describe('split statistics', () => {
  it('normal quantiles and Wilson intervals match published values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.0005)).toBeCloseTo(-3.290527, 5);
    // Wilson 95 % for 8/10: 0.4902–0.9433 (Newcombe 1998, table I style)
    const w = wilsonInterval(8, 10, 0.05);
    expect(w.low).toBeCloseTo(0.4902, 3);
    expect(w.high).toBeCloseTo(0.9433, 3);
  });

  it('the bound narrows with n: 78 % passes an 80 % weight at n = 1000, 70 % does not', () => {
    const make = (n: number, v1: number) => [...Array.from({ length: v1 }, () => ex('v1')), ...Array.from({ length: n - v1 }, () => ex('v2'))];
    expect(judgeSplit(make(1000, 780), { weights: { v1: 80, v2: 20 } }).verdict).toBe('pass');
    expect(judgeSplit(make(1000, 700), { weights: { v1: 80, v2: 20 } }).verdict).toBe('fail');
    expect(judgeSplit(make(100, 70), { weights: { v1: 80, v2: 20 } }).verdict).toBe('pass'); // too few to tell 70 from 80
  });

  it('a backend that should get nothing but does, fails; failed responses are not counted as a backend', () => {
    const xs = [...Array.from({ length: 500 }, () => ex('v1')), ...Array.from({ length: 20 }, () => ex('v3')), ...Array.from({ length: 30 }, () => ex('v1', 503))];
    const r = judgeSplit(xs, { weights: { v1: 100 } });
    expect(r.verdict).toBe('fail');
    expect(r.reason).toMatch(/v3: 20\/520/);
    expect(r.stats?.failed).toBe(30);
  });
});

describe('retry expectations', () => {
  it('success within the limit, failure beyond it, no retry outside retryOn', () => {
    expect(expectedRetry({ succeedAfter: 2, retryAttempts: 3, retried: true })).toEqual({ success: true, serverAttempts: 3 });
    expect(expectedRetry({ succeedAfter: 3, retryAttempts: 3, retried: true })).toEqual({ success: true, serverAttempts: 4 });
    expect(expectedRetry({ succeedAfter: 4, retryAttempts: 3, retried: true })).toEqual({ success: false, serverAttempts: 4 });
    expect(expectedRetry({ succeedAfter: 1, retryAttempts: 3, retried: false })).toEqual({ success: false, serverAttempts: 1 });
  });
});

describe('convergence', () => {
  it('needs N consecutive successes; a failure resets the streak; gives up at the timeout with the tail', async () => {
    let t = 0;
    const seq = [false, true, true, false, true, true, true];
    let i = 0;
    const probe = async () => ex(seq[i++] ? 'ok' : 'bad', seq[i - 1] ? 200 : 503);
    const r = await converge(probe, (e) => e.response?.status === 200, { consecutive: 3, timeoutMs: 1000, now: () => t, sleep: async (ms) => void (t += ms), intervalMs: 10 });
    expect(r).toMatchObject({ converged: true, attempts: 7 });
    t = 0;
    const never = await converge(async () => ex('x', 503), (e) => e.response?.status === 200, { consecutive: 2, timeoutMs: 100, now: () => t, sleep: async (ms) => void (t += ms), intervalMs: 10 });
    expect(never).toMatchObject({ converged: false, attempts: 10 });
    expect(never.tail).toHaveLength(4);
  });
});
