import { describe, expect, test } from 'vitest';
import { EMPTY_STATS, decode, summarize } from './histograms.ts';
import { Recorder, RequestTiming } from './recorder.ts';
import { type ResultMeta, type TrafficResult, achievedRateOf, buildResult, mergeResults } from './result.ts';
import { DEFAULT_THRESHOLDS } from './validity.ts';

/** A recorder that saw `n` requests at `rate`, each sent `lateMs` late and answered in `tookMs`. */
function run(n: number, rate: number, tookMs: (i: number) => number, lateMs = 0.002): Recorder {
  const r = new Recorder(0, 1000);
  for (let i = 0; i < n; i++) {
    const t = new RequestTiming(i, (i * 1000) / rate);
    t.sent = t.intended + lateMs;
    t.written = t.sent + 0.005;
    t.firstByte = t.written + tookMs(i) / 2;
    t.done = t.written + tookMs(i);
    t.status = 200;
    r.onSent(t);
    r.success(t);
  }
  return r;
}

const meta = (rate: number, planned: number): ResultMeta => ({
  target: 'http://127.0.0.1:1/',
  rate,
  durationMs: (planned * 1000) / rate,
  warmupMs: 0,
  connections: 8,
  socketsOpened: 8,
  planned,
  eventLoopDelay: { ...EMPTY_STATS, count: 100, max: 300 },
  thresholds: DEFAULT_THRESHOLDS,
  t0MonotonicNs: 123_456_789_000n,
  startedAt: '2026-01-01T00:00:00.000Z',
});

describe('result', () => {
  test('achieved rate: sent over the span from the first intended start to the last send plus one period', () => {
    expect(achievedRateOf(1000, 0, 999, 1000)).toBe(1000);
    // The last request left 100 ms late: 1000 requests in 1.1 s.
    expect(achievedRateOf(1000, 0, 1099, 1000)).toBeCloseTo(909.09, 1);
    expect(achievedRateOf(0, 0, 0, 1000)).toBe(0);
  });

  test('buildResult: counts, µs statistics, encoded histograms, intervals and the verdict', () => {
    const r = buildResult(run(2000, 1000, () => 1.25), meta(1000, 2000));
    expect(r).toMatchObject({ schema: 'meshcheck.traffic/v1', unit: 'us', rate: 1000, sent: 2000, completed: 2000, planned: 2000, valid: true, invalidReasons: [], merged: 1 });
    expect(r.errors).toEqual({ total: 0, byKind: {} });
    expect(r.achievedRatio).toBe(1);
    expect(r.corrected.p50).toBe(1257);
    expect(r.uncorrected.p50).toBe(1250);
    expect(r.lateness.p99).toBe(2);
    expect(r.intervals).toHaveLength(3);
    expect(decode(r.histograms.corrected).totalCount).toBe(2000);
    expect(r.schedule).toEqual({ t0MonotonicNs: '123456789000', periodUs: 1000 });
    // JSON round trip: the result is plain data.
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  test('an invalid run says why', () => {
    const r = buildResult(run(2000, 1000, () => 1, 0.3), meta(1000, 2000));
    expect(r.valid).toBe(false);
    expect(r.invalidReasons[0]).toMatch(/lateness p99 is 300 µs/);
  });

  test('merge of two processes at half the rate each: counts and rates add, histograms merge exactly', () => {
    const a = buildResult(run(1000, 500, () => 1), meta(500, 1000));
    const b = buildResult(run(1000, 500, (i) => (i % 100 === 0 ? 50 : 2)), meta(500, 1000));
    const m = mergeResults([a, b]);
    expect(m).toMatchObject({ rate: 1000, sent: 2000, completed: 2000, connections: 16, merged: 2, valid: true });
    expect(m.achievedRate).toBeCloseTo(1000, 0);
    const both = decode(a.histograms.corrected);
    both.add(decode(b.histograms.corrected));
    expect(m.corrected).toEqual(summarize(both));
    // 1 % of all requests took 50 ms: the merged p99.9 sees it, the average of the parts' p99.9 would not.
    expect(m.corrected.p999).toBeGreaterThan(49_000);
    expect(m.intervals).toHaveLength(Math.max(a.intervals.length, b.intervals.length));
    expect(m.intervals[0]!.completed).toBe(a.intervals[0]!.completed + b.intervals[0]!.completed);
    expect(decode(m.intervals[0]!.corrected).totalCount).toBe(m.intervals[0]!.completed);
  });

  test('merge: invalid parts make the whole invalid, naming the part', () => {
    const a = buildResult(run(1000, 500, () => 1), meta(500, 1000));
    const late = buildResult(run(1000, 500, () => 1, 0.5), meta(500, 1000));
    const m = mergeResults([a, late]);
    expect(m.valid).toBe(false);
    expect(m.invalidReasons[0]).toMatch(/^part 2 of 2: generator lateness/);
    expect(mergeResults([a])).toBe(a);
    expect(() => mergeResults([] as TrafficResult[])).toThrow(/nothing to merge/);
  });
});
