/** Exit codes, documented in the README and in `meshcheck --help`. The only place numbers are chosen. */
import type { ErrorCategory } from '../errors.ts';

export const EXIT = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  infrastructure: 3,
} as const;

export function exitCodeFor(category: ErrorCategory): number {
  switch (category) {
    case 'check-failed':
      return EXIT.checkFailed;
    case 'usage':
      return EXIT.usage;
    case 'infrastructure':
      return EXIT.infrastructure;
  }
}

export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  a check failed (a verdict you asked meshcheck to enforce did not hold)
  2  usage or configuration error
  3  infrastructure error (Docker, registry, cluster or a tool missing or broken)`;
