/**
 * Evidence: the requests and responses that decided a verdict. Every oracle takes exchanges and returns a verdict
 * with the exchanges it used, so a report shows why a check passed or failed.
 */
export interface Exchange {
  /** What was sent. */
  request: { method: string; url: string; headers?: Record<string, string>; tls?: boolean };
  /** What came back; absent when the request failed before an answer. */
  response?: { status: number; headers: Record<string, string>; body?: unknown };
  /** A transport error instead of a response (reset, refused, TLS failure, timeout). */
  error?: string;
  /** ms since the check started. */
  at: number;
  durationMs?: number;
}

export type Verdict = 'pass' | 'fail';

export interface OracleResult {
  verdict: Verdict;
  /** One sentence: why. */
  reason: string;
  /** The exchanges that decided it (a sample when there are many). */
  evidence: Exchange[];
  /** Numbers behind the verdict (counts, bounds, p-values). */
  stats?: Record<string, number | string>;
}

export function bodyField(e: Exchange, field: string): unknown {
  const b = e.response?.body;
  return b && typeof b === 'object' ? (b as Record<string, unknown>)[field] : undefined;
}

/** A few exchanges for the report: the first, the last, and every failing one up to `max`. */
export function sampleEvidence(ex: readonly Exchange[], isBad: (e: Exchange) => boolean, max = 8): Exchange[] {
  const bad = ex.filter(isBad).slice(0, max);
  const picked = new Set<Exchange>([...(ex[0] ? [ex[0]] : []), ...bad, ...(ex.at(-1) ? [ex.at(-1) as Exchange] : [])]);
  return [...picked].slice(0, max);
}
