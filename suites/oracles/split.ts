/**
 * Weighted split, judged with a binomial confidence bound instead of a fixed ±%: for each backend, the expected
 * weight must lie within the Wilson score interval of the observed share (confidence 1 − alpha, Bonferroni-
 * corrected over the backends). The bound tightens with the number of requests: at n = 1000 and alpha 0.001 an
 * 80/20 split accepts observed shares of roughly 75.5–84 %, and a 70/30 result fails; below `minRequests` the
 * oracle refuses to judge instead of guessing.
 */
import { type Exchange, type OracleResult, sampleEvidence } from './evidence.ts';

/** Inverse of the standard normal CDF (Acklam's rational approximation; |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Wilson score interval for k successes in n trials at confidence 1 − alpha. */
export function wilsonInterval(k: number, n: number, alpha: number): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const z = normalQuantile(1 - alpha / 2);
  const p = k / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface SplitExpectation {
  /** Backend (e.g. the echo `version`) → weight; weights are normalised. */
  weights: Record<string, number>;
  /** Overall false-failure rate (default 0.001). */
  alpha?: number;
  /** Fewest requests for a verdict (default 100). */
  minRequests?: number;
}

/** The backend of an exchange: the echo's x-echo-version header (or body.version). */
export function backendOf(e: Exchange): string | undefined {
  return e.response?.headers['x-echo-version'] ?? ((e.response?.body as { version?: string } | undefined)?.version);
}

export function judgeSplit(exchanges: readonly Exchange[], x: SplitExpectation): OracleResult {
  const ok = exchanges.filter((e) => e.response && e.response.status < 400);
  const n = ok.length;
  const total = Object.values(x.weights).reduce((s, w) => s + w, 0);
  const minRequests = x.minRequests ?? 100;
  const failed = exchanges.length - n;
  if (n < minRequests) {
    return { verdict: 'fail', reason: `only ${n} successful responses (${failed} failed); a split needs at least ${minRequests}`, evidence: sampleEvidence(exchanges, (e) => !e.response || e.response.status >= 400), stats: { n, failed } };
  }
  const counts: Record<string, number> = {};
  for (const e of ok) {
    const b = backendOf(e) ?? '(unknown)';
    counts[b] = (counts[b] ?? 0) + 1;
  }
  const names = [...new Set([...Object.keys(x.weights), ...Object.keys(counts)])];
  const alpha = (x.alpha ?? 0.001) / names.length; // Bonferroni over the backends
  const stats: Record<string, number | string> = { n, failed, alphaPerBackend: alpha };
  const off: string[] = [];
  for (const name of names) {
    const k = counts[name] ?? 0;
    const expected = (x.weights[name] ?? 0) / total;
    const { low, high } = wilsonInterval(k, n, alpha);
    stats[`${name}.observed`] = Number((k / n).toFixed(4));
    stats[`${name}.expected`] = Number(expected.toFixed(4));
    stats[`${name}.interval`] = `${low.toFixed(4)}–${high.toFixed(4)}`;
    if (expected < low || expected > high) off.push(`${name}: ${k}/${n} = ${((100 * k) / n).toFixed(1)} %, expected ${(100 * expected).toFixed(1)} % (outside ${(100 * low).toFixed(1)}–${(100 * high).toFixed(1)} %)`);
  }
  const bad = (e: Exchange) => !e.response || e.response.status >= 400;
  if (off.length) return { verdict: 'fail', reason: `the split is off: ${off.join('; ')}`, evidence: sampleEvidence(exchanges, bad), stats };
  return {
    verdict: 'pass',
    reason: `every backend's share is consistent with its weight (${names.map((nm) => `${nm} ${counts[nm] ?? 0}/${n}`).join(', ')}; ${(100 * (1 - (x.alpha ?? 0.001))).toFixed(1)} % Wilson bounds)`,
    evidence: sampleEvidence(exchanges, bad),
    stats,
  };
}
