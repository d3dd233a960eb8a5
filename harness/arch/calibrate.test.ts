import { describe, expect, test } from 'vitest';
import { calibrate, median, ratio, scaleTimeout, summarizeCalibration } from './calibrate.ts';

describe('calibration statistics', () => {
  test('median: middle value, mean of the middle two, unordered input, and no values is an error', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(/at least one repetition/);
  });

  test('ratio guards a zero denominator', () => {
    expect(ratio(10, 2)).toBe(5);
    expect(Number.isFinite(ratio(10, 0))).toBe(true);
  });

  test('factors from medians; one outlier does not move them; factor is the larger ratio to one decimal', () => {
    const s = summarizeCalibration({
      native: { spinMs: [50, 51, 49, 52, 400], startMs: [2, 2.2, 1.8, 2.1, 30] },
      emulated: { spinMs: [150, 152, 149, 151, 155], startMs: [9, 8.8, 9.2, 9.1, 40] },
    });
    expect(s.native).toEqual({ spinMs: 51, startMs: 2.1 });
    expect(s.emulated).toEqual({ spinMs: 151, startMs: 9.1 });
    expect(s.cpuFactor).toBe(2.96);
    expect(s.startFactor).toBe(4.33);
    expect(s.factor).toBe(4.3);
  });

  test('the factor never goes below 1 (a timeout is never shortened)', () => {
    const s = summarizeCalibration({ native: { spinMs: [50], startMs: [3] }, emulated: { spinMs: [45], startMs: [2] } });
    expect(s.factor).toBe(1);
  });

  test('scaleTimeout: multiplied and rounded, never below the original', () => {
    expect(scaleTimeout(30_000, 4.3)).toBe(129_000);
    expect(scaleTimeout(1001, 1.5)).toBe(1502);
    expect(scaleTimeout(1000, 0.5)).toBe(1000);
    expect(scaleTimeout(1000, Number.NaN)).toBe(1000);
    expect(scaleTimeout(10.2, 1)).toBe(11);
    expect(() => scaleTimeout(-1, 2)).toThrow(/>= 0, got -1/);
  });

  test('calibrating the host against itself is a usage error that names the fix', async () => {
    await expect(calibrate({ arch: 'amd64', hostArch: 'x86_64' })).rejects.toMatchObject({
      name: 'UsageError',
      message: "calibrate: linux/amd64 is this host's own architecture",
    });
  });
});
