/**
 * Mann-Whitney U test (Wilcoxon rank-sum) for "are the current release's per-run latencies larger than the
 * baseline's", without assuming a distribution. Exact p-value from the U distribution when there are no ties and
 * both samples are small (m·n ≤ 400, a dynamic programme over rank sums), otherwise the normal approximation with
 * tie correction and continuity correction (as R's wilcox.test and SciPy's mannwhitneyu do).
 */

export interface MannWhitneyResult {
  /** U of the first sample (count of pairs where x > y, ties counting ½). */
  u: number;
  /** One-sided p-value for H1: x tends to be larger than y. */
  pGreater: number;
  /** One-sided p-value for H1: x tends to be smaller than y. */
  pLess: number;
  method: 'exact' | 'normal';
}

function ranks(values: number[]): { ranks: number[]; tieTerm: number } {
  const idx = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(values.length);
  let tieTerm = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]![1]] = avg;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { ranks: r, tieTerm };
}

/** P(U <= u) for samples of size m and n without ties: counts of rank-sum arrangements. */
function exactCdf(m: number, n: number): (u: number) => number {
  // f[k][s] = number of ways to choose k of the first j items with U contribution s, built up item by item.
  const maxU = m * n;
  let f: number[][] = Array.from({ length: m + 1 }, () => new Array<number>(maxU + 1).fill(0));
  f[0]![0] = 1;
  for (let j = 1; j <= m + n; j++) {
    const g: number[][] = Array.from({ length: m + 1 }, () => new Array<number>(maxU + 1).fill(0));
    for (let k = 0; k <= Math.min(j - 1, m); k++) {
      const yBefore = j - 1 - k; // y's already placed below this item
      for (let s = 0; s <= maxU; s++) {
        const c = f[k]![s]!;
        if (!c) continue;
        if (j - 1 - k < n) g[k]![s] = g[k]![s]! + c; // this item is a y
        if (k < m && s + yBefore <= maxU) g[k + 1]![s + yBefore] = g[k + 1]![s + yBefore]! + c; // an x above yBefore y's
      }
    }
    f = g;
  }
  const counts = f[m]!;
  const total = counts.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const c of counts) cdf.push((acc += c) / total);
  return (u) => (u < 0 ? 0 : u >= maxU ? 1 : cdf[Math.floor(u)]!);
}

/** Standard normal upper tail. */
export function normalUpper(z: number): number {
  // Abramowitz–Stegun 7.1.26 via erfc, |error| < 1.5e-7.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

export function mannWhitney(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const m = x.length;
  const n = y.length;
  if (!m || !n) throw new RangeError('mannWhitney: both samples need at least one value');
  const { ranks: r, tieTerm } = ranks([...x, ...y]);
  const r1 = r.slice(0, m).reduce((a, b) => a + b, 0);
  const u = r1 - (m * (m + 1)) / 2;
  if (tieTerm === 0 && m * n <= 400) {
    const cdf = exactCdf(m, n);
    return { u, pGreater: 1 - cdf(u - 1), pLess: cdf(u), method: 'exact' };
  }
  const mean = (m * n) / 2;
  const variance = ((m * n) / 12) * (m + n + 1 - tieTerm / ((m + n) * (m + n - 1)));
  const sd = Math.sqrt(variance);
  if (sd === 0) return { u, pGreater: 1, pLess: 1, method: 'normal' };
  return { u, pGreater: normalUpper((u - mean - 0.5) / sd), pLess: 1 - normalUpper((u - mean + 0.5) / sd), method: 'normal' };
}

export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

export type Comparison = 'same' | 'regressed' | 'improved' | 'inconclusive';

export interface CompareOptions {
  /** Significance level of each one-sided test (default 0.05). */
  alpha?: number;
  /** Smallest relative change of the median that counts (default 0.10 = 10 %). */
  minEffect?: number;
  /** Fewest runs per side for any verdict (default 5). */
  minRuns?: number;
}

export interface ComparisonResult {
  verdict: Comparison;
  /** current median / baseline median − 1. */
  effect: number;
  pRegressed: number;
  pImproved: number;
  method: MannWhitneyResult['method'];
  reason: string;
}

/**
 * Per-run samples (e.g. each run's p99) of the current release against the baseline. Higher is worse.
 *  regressed / improved: significant (p < alpha, one-sided) AND the median moved by at least minEffect;
 *  same: not significant AND the median moved by less than minEffect;
 *  inconclusive: anything else (a significant but tiny shift, a large but noisy one, or too few runs).
 */
export function compareRuns(current: readonly number[], baseline: readonly number[], o: CompareOptions = {}): ComparisonResult {
  const alpha = o.alpha ?? 0.05;
  const minEffect = o.minEffect ?? 0.1;
  const minRuns = o.minRuns ?? 5;
  const effect = median(current) / median(baseline) - 1;
  if (current.length < minRuns || baseline.length < minRuns) {
    return { verdict: 'inconclusive', effect, pRegressed: 1, pImproved: 1, method: 'exact', reason: `${current.length} vs ${baseline.length} runs; at least ${minRuns} per side are needed` };
  }
  const mw = mannWhitney(current, baseline);
  const pct = `${effect >= 0 ? '+' : ''}${(100 * effect).toFixed(1)} %`;
  if (mw.pGreater < alpha && effect >= minEffect) return { verdict: 'regressed', effect, pRegressed: mw.pGreater, pImproved: mw.pLess, method: mw.method, reason: `median ${pct}, Mann-Whitney p = ${mw.pGreater.toPrecision(2)} < ${alpha}` };
  if (mw.pLess < alpha && -effect >= minEffect) return { verdict: 'improved', effect, pRegressed: mw.pGreater, pImproved: mw.pLess, method: mw.method, reason: `median ${pct}, Mann-Whitney p = ${mw.pLess.toPrecision(2)} < ${alpha}` };
  if (mw.pGreater >= alpha && mw.pLess >= alpha && Math.abs(effect) < minEffect) return { verdict: 'same', effect, pRegressed: mw.pGreater, pImproved: mw.pLess, method: mw.method, reason: `median ${pct}, no significant difference` };
  return { verdict: 'inconclusive', effect, pRegressed: mw.pGreater, pImproved: mw.pLess, method: mw.method, reason: `median ${pct}, p = ${Math.min(mw.pGreater, mw.pLess).toPrecision(2)}: significance and effect size disagree` };
}
