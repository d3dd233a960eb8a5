import { describe, expect, test } from 'vitest';
import { decode, summarize } from './histograms.ts';
import { Recorder, RequestTiming } from './recorder.ts';

/** A request intended at `intended` ms, sent `late` ms after, written `queue` ms after that, done `took` ms later. */
function timing(index: number, intended: number, late: number, queue: number, took: number): RequestTiming {
  const t = new RequestTiming(index, intended);
  t.sent = intended + late;
  t.written = t.sent + queue;
  t.firstByte = t.written + took / 2;
  t.done = t.written + took;
  t.status = 200;
  return t;
}

describe('Recorder', () => {
  test('corrected = done − intended, uncorrected = done − written, lateness = sent − intended, queue = written − sent', () => {
    const r = new Recorder(1000);
    const t = timing(0, 1000, 0.05, 0.2, 1.5);
    r.onSent(t);
    r.success(t);
    expect(summarize(r.corrected).max).toBe(1750);
    expect(summarize(r.uncorrected).max).toBe(1500);
    expect(summarize(r.lateness).max).toBe(50);
    expect(summarize(r.queue).max).toBe(200);
    expect(summarize(r.firstByte).max).toBe(1000);
    expect(r.sent).toBe(1);
    expect(r.completed).toBe(1);
    expect(r.lastSent).toBeCloseTo(1000.05);
  });

  test('a stall: requests queued behind it show it in corrected, not in uncorrected (coordinated omission)', () => {
    // 1,000/s for 1 s on one connection; the target stalls 200 ms at t = 100 ms. Requests due during the stall
    // wait in the pool and are written when it ends, each then answered in 1 ms.
    const r = new Recorder(0);
    let free = 0;
    for (let i = 0; i < 1000; i++) {
      const intended = i;
      const t = new RequestTiming(i, intended);
      t.sent = intended;
      t.written = Math.max(intended, free);
      const service = t.written >= 100 && t.written < 300 ? 300 - t.written + 1 : 1;
      t.done = t.written + service;
      free = t.done;
      r.onSent(t);
      r.success(t);
    }
    const corrected = summarize(r.corrected);
    const uncorrected = summarize(r.uncorrected);
    expect(corrected.p99).toBeGreaterThan(150_000);
    expect(uncorrected.p99).toBeLessThan(2_000);
    expect(uncorrected.max).toBeGreaterThan(190_000);
    expect(summarize(r.lateness).max).toBe(0);
  });

  test('errors are counted by kind and timed in their own histogram, never in the latency ones', () => {
    const r = new Recorder(0);
    const ok = timing(0, 0, 0, 0, 1);
    const bad = timing(1, 1, 0, 0, 0.2);
    bad.status = 503;
    const reset = timing(2, 2, 0, 0, 5);
    r.success(ok);
    r.failure('http-5xx', bad);
    r.failure('connection-reset', reset);
    expect(r.completed).toBe(1);
    expect(r.failed).toBe(2);
    expect(Object.fromEntries(r.errorsByKind)).toEqual({ 'http-5xx': 1, 'connection-reset': 1 });
    expect(r.corrected.totalCount).toBe(1);
    expect(r.uncorrected.totalCount).toBe(1);
    expect(r.errors.totalCount).toBe(2);
    expect(summarize(r.errors).max).toBe(5000);
    // Lateness is the generator's, so failed requests count there too.
    expect(r.lateness.totalCount).toBe(3);
  });

  test('intervals by completion time, encoded, with empty intervals kept across a long stall', () => {
    const r = new Recorder(0, 1000);
    r.success(timing(0, 0, 0, 0, 1));
    r.success(timing(1, 500, 0, 0, 1));
    // Next completion 3.2 s later: intervals 1 and 2 are empty.
    r.success(timing(2, 1000, 0, 0, 2200));
    r.failure('timeout', timing(3, 3300, 0, 0, 10));
    expect(r.pendingIntervals).toBe(3);
    expect(r.encodeOne()).toBe(true);
    expect(r.pendingIntervals).toBe(2);
    const iv = r.finish();
    expect(iv.map((x) => [x.startMs, x.completed, x.errors])).toEqual([
      [0, 2, 0],
      [1000, 0, 0],
      [2000, 0, 0],
      [3000, 1, 1],
    ]);
    expect(decode(iv[0]!.corrected).totalCount).toBe(2);
    expect(decode(iv[1]!.corrected).totalCount).toBe(0);
    expect(summarize(decode(iv[3]!.corrected)).max).toBeGreaterThanOrEqual(2_200_000);
    expect(r.encodeOne()).toBe(false);
  });

  test('encodeStep: one histogram at a time, three steps per interval, in order', () => {
    const r = new Recorder(0, 1000);
    r.success(timing(0, 0, 0, 0, 1));
    r.success(timing(1, 1000, 0.003, 0, 2));
    expect(r.pendingIntervals).toBe(1);
    expect(r.encodeStep()).toBe(true);
    expect(r.encodeStep()).toBe(true);
    expect(r.pendingIntervals).toBe(1);
    expect(r.encodeStep()).toBe(true);
    expect(r.pendingIntervals).toBe(0);
    expect(r.encodeStep()).toBe(false);
    const [first, second] = r.finish();
    expect(summarize(decode(first!.corrected)).max).toBe(1000);
    expect(summarize(decode(first!.lateness)).max).toBe(0);
    expect(summarize(decode(second!.lateness)).max).toBe(3);
  });

  test('a first completion after the first interval still yields intervals from 0', () => {
    const r = new Recorder(0, 500);
    r.success(timing(0, 0, 0, 0, 1200));
    expect(r.finish().map((x) => [x.startMs, x.completed])).toEqual([
      [0, 0],
      [500, 0],
      [1000, 1],
    ]);
  });

  test('the interval must be positive', () => {
    expect(() => new Recorder(0, 0)).toThrow(/interval must be > 0/);
  });
});
