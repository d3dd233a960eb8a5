/**
 * Smoke verdicts: the audit's vocabulary plus what a run shows (exec-format-error, illegal-instruction, segfault,
 * bus-error, page-size, emulator-crash, timeout). Pure.
 */
import type { Classification } from '../arch/classify.ts';
import type { AuditVerdict } from '../audit/vocabulary.ts';

export const RUN_VERDICTS = ['exec-format-error', 'illegal-instruction', 'segfault', 'bus-error', 'page-size', 'emulator-crash', 'timeout'] as const;
export type RunVerdict = (typeof RUN_VERDICTS)[number];
export type SmokeVerdict = AuditVerdict | RunVerdict;

const PRECEDENCE: readonly SmokeVerdict[] = [
  'not-found',
  'unreachable',
  'missing-platform',
  'exec-format-error',
  'illegal-instruction',
  'page-size',
  'segfault',
  'bus-error',
  'emulator-crash',
  'timeout',
  'config-mismatch',
  'binary-mismatch',
  'page-size-risk',
  'ok',
];

export function worst(verdicts: readonly SmokeVerdict[]): SmokeVerdict {
  return [...verdicts].sort((a, b) => PRECEDENCE.indexOf(a) - PRECEDENCE.indexOf(b))[0] ?? 'ok';
}

export interface RunJudgement {
  verdict: SmokeVerdict;
  reason: string;
}

/**
 * One run: the classifier's kind, then what the registry knows about the binary. A process that started and exited
 * on its own (any exit code) proves the binary runs here; "other" is therefore ok, with the exit code noted.
 */
export function judgeRun(c: Classification, run: { exitCode?: number; startError?: string; output?: string }, binaryMismatch?: string): RunJudgement {
  if (run.startError && c.kind !== 'missing-platform' && c.kind !== 'exec-format-error') {
    return { verdict: 'unreachable', reason: `the container could not be started: ${run.startError}` };
  }
  const output = run.output ?? '';
  if (c.kind === 'other' && run.exitCode === 127 && /no such file or directory|executable file not found|not found/i.test(output)) {
    // The runtime could not find the command: nothing ran, so nothing about the architecture is known.
    const line = output.trim().split('\n').find((l) => /no such file|not found/i.test(l)) ?? '';
    return { verdict: 'not-found', reason: `the command is not in the image: ${line.trim()}` };
  }
  switch (c.kind) {
    case 'ok':
    case 'other': {
      if (binaryMismatch) return { verdict: 'binary-mismatch', reason: `it ran here, but ${binaryMismatch}` };
      const how = c.kind === 'ok' ? 'it started and exited 0' : `it started and exited with code ${run.exitCode} (not an architecture failure)`;
      return { verdict: 'ok', reason: how };
    }
    case 'missing-platform':
    case 'exec-format-error':
    case 'illegal-instruction':
    case 'segfault':
    case 'bus-error':
    case 'page-size':
    case 'emulator-crash':
    case 'timeout':
      return { verdict: c.kind, reason: c.evidence ? `${c.summary}: ${c.evidence}` : c.summary };
  }
}
