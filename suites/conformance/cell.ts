/** What the runner gives the conformance project through vitest's provide/inject: serialisable data only. */
import type { CheckSetup, MeshApi } from '../checks/types.ts';

export interface ConformanceCell {
  cellId: string;
  kubeconfig: string;
  context?: string;
  ingress: { http: string; https: string };
  convergence: { consecutive: number; timeoutMs: number };
  /** Retry a failing check once; a pass on the retry is `flaky`. */
  retryFailed: boolean;
  checks: { id: string; api: MeshApi; setup: CheckSetup; skip?: string }[];
}

/** The per-test metadata a check leaves for the runner (evidence and attempts). */
export interface CheckMeta {
  id: string;
  api: MeshApi;
  status: 'pass' | 'fail' | 'flaky' | 'infra-error' | 'skipped';
  reason: string;
  attempts: number;
  durationMs: number;
  evidence: unknown[];
  stats?: Record<string, number | string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    meshcheckCell: ConformanceCell;
  }
  export interface TaskMeta {
    meshcheck?: CheckMeta;
  }
}
