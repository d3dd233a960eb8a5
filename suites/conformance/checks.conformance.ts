/**
 * The conformance project: one vitest test per (check, API) of the cell the runner provides. Each test applies
 * nothing itself (the runner has deployed the check's manifests); it judges the check on the live cluster and
 * leaves its verdict and evidence in the test's metadata. A check that fails is tried once more: passing then makes
 * it `flaky`. A check that cannot even talk to the cluster is `infra-error`, not a conformance failure.
 */
import { inject, test } from 'vitest';
import { kubeClient } from '../../harness/kube/client.ts';
import { ALL_CHECKS } from '../checks/index.ts';
import type { CheckEnv } from '../checks/types.ts';
import { sendFromPod } from '../client/in-pod.ts';
import type { OracleResult } from '../oracles/evidence.ts';
import type { CheckMeta } from './cell.ts';
import './cell.ts';

const cell = inject('meshcheckCell');

for (const c of cell.checks) {
  test(`${c.id} [${c.api}]`, async (ctx) => {
    const started = performance.now();
    const meta = (m: Omit<CheckMeta, 'id' | 'api' | 'durationMs'>) => {
      ctx.task.meta.meshcheck = { id: c.id, api: c.api, durationMs: Math.round(performance.now() - started), ...m };
    };
    if (c.skip) {
      meta({ status: 'skipped', reason: c.skip, attempts: 0, evidence: [] });
      ctx.skip(c.skip);
      return;
    }
    const def = ALL_CHECKS.find((d) => d.id === c.id);
    if (!def) throw new Error(`unknown check ${c.id}`);
    const client = kubeClient({ kubeconfig: cell.kubeconfig, ...(cell.context ? { context: cell.context } : {}) });
    const env: CheckEnv = {
      setup: c.setup,
      client,
      fromClient: (namespace, requests) => sendFromPod(client, namespace, requests),
      ingress: cell.ingress,
      convergence: cell.convergence,
    };
    let attempts = 0;
    let result: OracleResult | undefined;
    let first: OracleResult | undefined;
    for (;;) {
      attempts++;
      try {
        result = await def.run(env);
      } catch (err) {
        meta({ status: 'infra-error', reason: (err as Error).message, attempts, evidence: [] });
        throw new Error(`infra-error: ${(err as Error).message}`);
      }
      if (result.verdict === 'pass' || !cell.retryFailed || attempts > 1) break;
      first = result;
    }
    const status = result.verdict === 'pass' ? (first ? 'flaky' : 'pass') : 'fail';
    meta({ status, reason: first && status === 'flaky' ? `${result.reason} (failed first: ${first.reason})` : result.reason, attempts, evidence: result.evidence, ...(result.stats ? { stats: result.stats } : {}) });
    if (status === 'fail') throw new Error(result.reason);
  });
}
