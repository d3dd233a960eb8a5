import { describe, expect, it } from 'vitest';
import { compareRuns, mannWhitney, median, normalUpper } from './mann-whitney.ts';

/** Deterministic PRNG (mulberry32) and a log-normal sampler: per-run p99s with run-to-run noise. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function lognormal(r: () => number, median: number, sigma: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return median * Math.exp(sigma * z);
}

describe('Mann-Whitney U', () => {
  it('matches textbook values (exact and normal)', () => {
    // x entirely above y (n = 5 each): U = 25, exact one-sided p = 1/C(10,5) = 1/252.
    const r = mannWhitney([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]);
    expect(r).toMatchObject({ u: 25, method: 'exact' });
    expect(r.pGreater).toBeCloseTo(1 / 252, 10);
    // Interleaved: U = 12.5-ish symmetric, p near 0.5.
    expect(mannWhitney([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]).pGreater).toBeGreaterThan(0.5);
    // Ties force the normal approximation.
    expect(mannWhitney([1, 1, 2, 2, 3], [1, 2, 2, 3, 3]).method).toBe('normal');
    expect(normalUpper(1.959964)).toBeCloseTo(0.025, 6);
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });

  it('the gate’s verdicts: same, regressed, improved, inconclusive', () => {
    const base = [100, 102, 98, 101, 99, 103, 97, 100, 101, 99];
    expect(compareRuns(base.map((v) => v + 0.5), base).verdict).toBe('same');
    expect(compareRuns(base.map((v) => v * 1.3), base).verdict).toBe('regressed');
    expect(compareRuns(base.map((v) => v * 0.7), base).verdict).toBe('improved');
    expect(compareRuns(base.map((v) => v * 1.03 + 3), base).verdict).toBe('inconclusive'); // significant, below the 10 % floor
    expect(compareRuns(base.slice(0, 3), base).reason).toMatch(/at least 5 per side/);
  });

  it('over 2000 seeds: identical distributions say "regressed" in at most 5 %; a 20 % p99 shift with 10 runs per side is detected in most', () => {
    const seeds = 2000;
    let falseRegressed = 0;
    let detected = 0;
    for (let s = 0; s < seeds; s++) {
      const r = rng(s + 1);
      const base = Array.from({ length: 10 }, () => lognormal(r, 10, 0.1));
      const same = Array.from({ length: 10 }, () => lognormal(r, 10, 0.1));
      const shifted = Array.from({ length: 10 }, () => lognormal(r, 12, 0.1));
      if (compareRuns(same, base).verdict === 'regressed') falseRegressed++;
      if (compareRuns(shifted, base).verdict === 'regressed') detected++;
    }
    const falseRate = falseRegressed / seeds;
    const power = detected / seeds;
    console.log(`gate statistics over ${seeds} seeds (10 runs per side, 10 % run-to-run noise): false "regressed" ${(100 * falseRate).toFixed(2)} %, 20 % shift detected ${(100 * power).toFixed(1)} %`);
    expect(falseRate).toBeLessThanOrEqual(0.05);
    expect(power).toBeGreaterThan(0.5);
  });
});
