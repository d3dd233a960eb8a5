import { describe, expect, test } from 'vitest';
import { createHistogram, encode } from '../traffic/histograms.ts';
import type { TrafficResult } from '../traffic/result.ts';
import { emulationRatios, interleave, summarizeCell } from './summary.ts';

function fakeResult(valuesUs: number[], valid = true): TrafficResult {
  const h = createHistogram();
  for (const v of valuesUs) h.recordValue(v);
  const stats = { count: valuesUs.length, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, stddev: 0 };
  return {
    histograms: { corrected: encode(h), uncorrected: encode(h), lateness: '', errors: '' },
    corrected: stats,
    uncorrected: stats,
    lateness: stats,
    achievedRatio: 1,
    errors: { total: 0, byKind: {} },
    valid,
    invalidReasons: valid ? [] : ['achieved 90% of the target rate'],
  } as unknown as TrafficResult;
}

describe('latency summary', () => {
  test('repetitions are merged by histogram, not by averaging percentiles', () => {
    // rep 1: all 1 ms; rep 2: 99 at 1 ms and 1 at 100 ms. Averaged p99s would be ~1 ms; merged p99 is 1 ms and
    // p99.9 is the 100 ms outlier.
    const a = fakeResult(Array(100).fill(1000));
    const b = fakeResult([...Array(99).fill(1000), 100_000]);
    const cell = summarizeCell('linux/amd64', 'native', 100, [a, b]);
    expect(cell.corrected.count).toBe(200);
    expect(cell.corrected.p50).toBe(1000);
    expect(cell.corrected.p999).toBeGreaterThanOrEqual(99_000);
    expect(cell.valid).toBe(true);
  });

  test('one invalid repetition makes the cell invalid, naming the rep', () => {
    const cell = summarizeCell('linux/arm64', 'emulated', 100, [fakeResult([1000]), fakeResult([1000], false)]);
    expect(cell.valid).toBe(false);
    expect(cell.invalidReasons).toEqual(['rep 2: achieved 90% of the target rate']);
  });

  test('emulation ratio per rate', () => {
    const native = summarizeCell('linux/amd64', 'native', 200, [fakeResult(Array(100).fill(1000))]);
    const emulated = summarizeCell('linux/arm64', 'emulated', 200, [fakeResult(Array(100).fill(3000))]);
    expect(emulationRatios([native, emulated])).toEqual([{ rate: 200, emulated: 'linux/arm64', native: 'linux/amd64', p50: 3, p90: 3, p99: 3, p999: 3 }]);
  });

  test('interleaving alternates the platform order each repetition', () => {
    expect(interleave(['a', 'b'], [100], 3).map((x) => x.platform)).toEqual(['a', 'b', 'b', 'a', 'a', 'b']);
  });
});
