/**
 * Convergence: configuration in a mesh takes effect eventually, so a check first waits for N consecutive
 * successes of its probe within a timeout (scaled by the cell's calibration factor), then judges. A probe that
 * never converges is a failure whose evidence is the last attempts.
 */
import type { Exchange } from './evidence.ts';

export interface ConvergenceOptions {
  consecutive: number;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface Converged {
  converged: boolean;
  attempts: number;
  elapsedMs: number;
  /** The last attempts (up to 2 × consecutive). */
  tail: Exchange[];
}

export async function converge(probe: () => Promise<Exchange>, ok: (e: Exchange) => boolean, o: ConvergenceOptions): Promise<Converged> {
  const now = o.now ?? (() => performance.now());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const start = now();
  let streak = 0;
  let attempts = 0;
  const tail: Exchange[] = [];
  while (now() - start < o.timeoutMs) {
    o.signal?.throwIfAborted();
    const e = await probe();
    attempts++;
    tail.push(e);
    if (tail.length > 2 * o.consecutive) tail.shift();
    streak = ok(e) ? streak + 1 : 0;
    if (streak >= o.consecutive) return { converged: true, attempts, elapsedMs: Math.round(now() - start), tail };
    await sleep(o.intervalMs ?? 500);
  }
  return { converged: false, attempts, elapsedMs: Math.round(now() - start), tail };
}
