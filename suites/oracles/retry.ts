/**
 * Retries, proven with the echo workload's succeedAfter/uuid: the server counts every attempt of a uuid
 * (GET /attempts?uuid=), so "the proxy retried" is a fact read from the server, not inferred from latency.
 *  - within the limit: N failures then success — the client sees success and the server saw exactly N + 1
 *    attempts;
 *  - beyond the limit: the client sees the failure status and the server saw exactly 1 + attempts (the first try
 *    plus each retry);
 *  - a status outside retryOn is not retried: exactly 1 attempt.
 */
import type { Exchange, OracleResult } from './evidence.ts';

export interface RetryEvidence {
  /** The client's request (with uuid and succeedAfter) and what it finally got. */
  exchange: Exchange;
  /** The server's count for the uuid (from /attempts). */
  attempts: { attempts: number; failed: number };
  /** The /attempts exchange itself. */
  countExchange?: Exchange;
}

export interface RetryExpectation {
  /** Failures the server injects before it succeeds. */
  succeedAfter: number;
  /** Retries the policy allows (retries.attempts). */
  retryAttempts: number;
  /** Is the injected failure status one the policy retries on? */
  retried: boolean;
}

/** Pure: what must happen. */
export function expectedRetry(x: RetryExpectation): { success: boolean; serverAttempts: number } {
  if (!x.retried) return { success: x.succeedAfter === 0, serverAttempts: 1 };
  const maxTries = 1 + x.retryAttempts;
  if (x.succeedAfter < maxTries) return { success: true, serverAttempts: x.succeedAfter + 1 };
  return { success: false, serverAttempts: maxTries };
}

export function judgeRetry(ev: RetryEvidence, x: RetryExpectation): OracleResult {
  const want = expectedRetry(x);
  const status = ev.exchange.response?.status;
  const success = status !== undefined && status < 400;
  const evidence = [ev.exchange, ...(ev.countExchange ? [ev.countExchange] : [])];
  const stats = { succeedAfter: x.succeedAfter, retryAttempts: x.retryAttempts, serverAttempts: ev.attempts.attempts, serverFailed: ev.attempts.failed, clientStatus: status ?? ev.exchange.error ?? 'none' };
  const problems: string[] = [];
  if (success !== want.success) problems.push(want.success ? `the client got ${status ?? ev.exchange.error} instead of success` : `the client got ${status} although every allowed attempt should have failed`);
  if (ev.attempts.attempts !== want.serverAttempts) problems.push(`the server saw ${ev.attempts.attempts} attempt(s), expected ${want.serverAttempts}`);
  if (problems.length) return { verdict: 'fail', reason: problems.join('; '), evidence, stats };
  return {
    verdict: 'pass',
    reason: want.success
      ? `${x.succeedAfter} failure(s) then success: the server saw ${ev.attempts.attempts} attempt(s)`
      : `the failure surfaced (${status}) after ${ev.attempts.attempts} attempt(s), the policy's limit`,
    evidence,
    stats,
  };
}
