/**
 * The conformance project through vitest's programmatic API, on the real control plane: the runner deploys a
 * check's manifests (kwok makes the pods Running), provides the cell to vitest, and reads each check's verdict
 * back from the test metadata. No data plane runs here: the in-pod client cannot exec into a kwok pod, so the
 * checks must come back as infra-error (not fail, not pass), and a check skipped by the plan as skipped.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/schema.ts';
import { applyAll, assertApplied } from '../kube/apply.ts';
import { kubeClient } from '../kube/client.ts';
import { gatewayApiCrds, istioCrds } from '../testing/mesh-data.ts';
import { deleteNamespace } from '../kube/namespaces.ts';
import { newRunId } from '../labels.ts';
import { requireControlPlane } from '../testing/control-plane.ts';
import { prepareChecks } from './cluster-cell.ts';
import { runConformance } from './conformance.ts';
import { planCell } from './plan.ts';

const cp = await requireControlPlane();

describe.runIf(cp)('the conformance project through vitest on the control plane', () => {
  const runId = newRunId();
  const client = cp ? kubeClient({ kubeconfig: cp.kubeconfig }) : undefined;
  const created: string[] = [];
  afterAll(async () => {
    await Promise.all(created.map((ns) => deleteNamespace(client!, ns, { timeoutMs: 180_000 }).catch(() => undefined)));
  }, 200_000);

  it('deploys, runs through vitest, and reads verdicts from test metadata', { timeout: 240_000 }, async () => {
    // Other files install and purge Istio: bring the CRDs the checks need (idempotent server-side apply).
    assertApplied(await applyAll(client!, [...(await istioCrds(cp!)), ...(await gatewayApiCrds(cp!))]));
    const config = parseConfig({ cells: [{ arch: 'amd64', mode: 'native' }], suites: ['traffic'], mesh: { apis: ['istio'] }, timeouts: { convergenceMs: 2_000 } });
    const plan = planCell(config, config.cells[0]!, '1.27.0', { arch: 'amd64', stateDir: '/tmp', runId });
    plan.target = { kubeconfig: cp!.kubeconfig };
    plan.checks = plan.checks.filter((c) => c.id === 'traffic.header-routing' || c.id === 'traffic.subsets');
    plan.checks[1] = { ...plan.checks[1]!, skip: 'skipped by the plan (test)' };
    const cell = await prepareChecks(client!, plan, config, { runId }, { echoImage: 'ghcr.io/meshcheck/echo:1', ingress: { http: 'http://127.0.0.1:1', https: 'https://127.0.0.1:1' }, timeoutMs: 90_000 });
    created.push(...cell.checks.flatMap((c) => [c.setup.namespace, c.setup.clientNamespace]));
    const pods = await client!.core.listNamespacedPod({ namespace: cell.checks[0]!.setup.namespace, labelSelector: 'app=client' });
    expect(pods.items[0]?.status?.phase).toBe('Running');
    const run = await runConformance(cell, { testTimeoutMs: 60_000 });
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['traffic.header-routing', 'infra-error'],
      ['traffic.subsets', 'skipped'],
    ]);
    expect(run.results[0]?.reason).toMatch(/./);
    expect(run.results[1]?.reason).toBe('skipped by the plan (test)');
    console.log(`conformance via vitest: ${run.results.map((r) => `${r.id} ${r.status}: ${r.reason.slice(0, 160)}`).join(' | ')}`);
  });
});
