import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { HIGHEST_US, createHistogram, decode, encode, mergeEncoded, msToRecordableUs, summarize } from './histograms.ts';

describe('histograms in microseconds', () => {
  test('ms to whole µs: rounded, never negative, clamped at 60 s', () => {
    expect(msToRecordableUs(1.2344)).toBe(1234);
    expect(msToRecordableUs(1.2346)).toBe(1235);
    expect(msToRecordableUs(0.0004)).toBe(0);
    expect(msToRecordableUs(-0.003)).toBe(0);
    expect(msToRecordableUs(Number.NaN)).toBe(0);
    expect(msToRecordableUs(120_000)).toBe(HIGHEST_US);
  });

  test('summary: 1 µs resolution below 2 ms, 0.1 % above, p ≤ max, zeros count', () => {
    const h = createHistogram();
    // 1..1000 µs once each: p50 = 500, p90 = 900, p99 = 990, p99.9 = 999.
    for (let v = 1; v <= 1000; v++) h.recordValue(v);
    const s = summarize(h);
    expect(s).toMatchObject({ count: 1000, min: 1, p50: 500, p90: 900, p99: 990, p999: 999, max: 1000, mean: 500.5 });
    const big = createHistogram();
    big.recordValue(91_234);
    const b = summarize(big);
    expect(b.max).toBe(91_234);
    expect(b.p50).toBeLessThanOrEqual(91_234);
    expect(b.p50).toBeGreaterThanOrEqual(91_234 * 0.999);
    const zeros = createHistogram();
    zeros.recordValue(0);
    zeros.recordValue(0);
    zeros.recordValue(7);
    expect(summarize(zeros)).toMatchObject({ count: 3, min: 0, p50: 0, max: 7 });
    expect(summarize(createHistogram()).count).toBe(0);
  });

  test('values beyond the range do not grow the histogram (autoResize off): they are clamped before', () => {
    const h = createHistogram();
    expect(() => h.recordValue(HIGHEST_US * 4)).toThrow();
    h.recordValue(msToRecordableUs(90_000));
    expect(summarize(h).max).toBeLessThanOrEqual(HIGHEST_US * 1.001);
  });

  test('encode → decode keeps every count', () => {
    const h = createHistogram();
    for (let i = 0; i < 10_000; i++) h.recordValue(1000 + (i % 37) * 11);
    h.recordValue(250_000);
    const d = decode(encode(h));
    expect(d.totalCount).toBe(10_001);
    const { max: decodedMax, ...decoded } = summarize(d);
    const { max, ...original } = summarize(h);
    expect(decoded).toEqual(original);
    // The encoding keeps buckets, not the exact maximum: after decoding it is the bucket's top (within 0.1 %).
    expect(max).toBe(250_000);
    expect(decodedMax).toBeGreaterThanOrEqual(250_000);
    expect(decodedMax).toBeLessThanOrEqual(250_000 * 1.001);
    expect(encode(h)).toMatch(/^HISTFAA/);
  });

  test('merge: histograms encoded by two other processes add up exactly as one histogram of all values', () => {
    // Each child records its own values and prints the encoded histogram, as a pod would.
    const child = (from: number, to: number) => {
      const script = `
        import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
        const h = build({ bitBucketSize: 32, autoResize: false, lowestDiscernibleValue: 1, highestTrackableValue: 60e6, numberOfSignificantValueDigits: 3 });
        for (let v = ${from}; v <= ${to}; v++) h.recordValue(v);
        process.stdout.write(encodeIntoCompressedBase64(h));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: import.meta.dirname });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    const a = child(1, 600);
    const b = child(601, 1000);
    const merged = mergeEncoded([a, b]);
    const all = createHistogram();
    for (let v = 1; v <= 1000; v++) all.recordValue(v);
    expect(summarize(merged)).toEqual(summarize(all));
    // Percentiles of the parts do not average to the merged one: only the merge is right.
    const pa = summarize(decode(a)).p99;
    const pb = summarize(decode(b)).p99;
    expect((pa + pb) / 2).not.toBe(summarize(merged).p99);
    expect(summarize(mergeEncoded([])).count).toBe(0);
    expect(summarize(mergeEncoded([a, '', b])).count).toBe(1000);
  });
});
