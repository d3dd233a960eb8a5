/**
 * Every check's setup — namespaces, workloads, mesh policies, routes — applied to the real control plane for each
 * API it exists in (Istio's and Gateway API), validated by the real API server, and converging there: every
 * Deployment becomes Available (the controller manager, the scheduler on the arm64 node, kwok as the kubelet).
 * Judging the checks needs a data plane, which runs only in the project's GitHub workflow.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAll, assertApplied } from '../../harness/kube/apply.ts';
import { kubeClient, type KubeClient } from '../../harness/kube/client.ts';
import { deleteNamespace, ensureNamespace } from '../../harness/kube/namespaces.ts';
import { waitForDeploymentAvailable } from '../../harness/kube/wait.ts';
import { newRunId, runLabels } from '../../harness/labels.ts';
import { requireControlPlane } from '../../harness/testing/control-plane.ts';
import { gatewayApiCrds, istioCrds } from '../../harness/testing/mesh-data.ts';
import { ALL_CHECKS, selectChecks } from './index.ts';
import type { CheckSetup } from './types.ts';

const cp = await requireControlPlane();

function ingressCert(host: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-ingress-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '2', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`], { cwd: dir, stdio: 'pipe' });
  return { cert: readFileSync(path.join(dir, 'c.pem'), 'utf8'), key: readFileSync(path.join(dir, 'k.pem'), 'utf8') };
}

describe.runIf(cp)('every check’s setup on the real API server', () => {
  let client: KubeClient;
  const runId = newRunId();
  const labels = runLabels(runId);
  const namespaces: string[] = [];
  const tls = ingressCert('shop.meshcheck.test');

  beforeAll(async () => {
    client = kubeClient({ kubeconfig: cp!.kubeconfig });
    assertApplied(await applyAll(client, [...(await istioCrds(cp!)), ...(await gatewayApiCrds(cp!))]));
    await ensureNamespace(client, 'istio-system', labels).catch(() => undefined); // for the Istio ingress TLS secret
  });
  afterAll(async () => {
    await Promise.all(namespaces.map((ns) => deleteNamespace(client, ns, { timeoutMs: 180_000 }).catch(() => undefined)));
  }, 200_000);

  const pairs = selectChecks(['traffic', 'mtls', 'retry', 'ingress', 'crash'], ['istio', 'gateway-api']);

  it('declares each check once, with manifests and a test function, in the APIs it supports', () => {
    expect(new Set(ALL_CHECKS.map((c) => c.id)).size).toBe(ALL_CHECKS.length);
    expect(pairs.length).toBeGreaterThanOrEqual(16);
    expect(pairs.filter((p) => p.api === 'gateway-api').map((p) => p.check.id)).toEqual(['traffic.header-routing', 'traffic.path-routing', 'traffic.weighted-split', 'traffic.cross-namespace', 'ingress.host-path', 'crash.verdict']);
  });

  for (const [i, { check, api }] of pairs.entries()) {
    it(`${check.id} (${api}): applied, accepted by the API server, and its workloads Available`, { timeout: 180_000 }, async () => {
      const suffix = `${runId.slice(-5)}-${i}`;
      const setup: CheckSetup = {
        namespace: `mc-${suffix}`,
        clientNamespace: `mc-${suffix}-c`,
        api,
        echoImage: 'ghcr.io/meshcheck/echo:1',
        labels,
        nodeSelector: { 'kubernetes.io/arch': 'arm64' },
        ingressHost: 'shop.meshcheck.test',
        ingressTls: tls,
      };
      await ensureNamespace(client, setup.namespace, labels, { 'istio-injection': 'enabled' });
      await ensureNamespace(client, setup.clientNamespace, labels);
      namespaces.push(setup.namespace, setup.clientNamespace);
      const objects = check.manifests(setup);
      const results = await applyAll(client, objects);
      assertApplied(results);
      const deployments = objects.filter((o) => o.kind === 'Deployment');
      for (const d of deployments) {
        const got = await waitForDeploymentAvailable(client, d.metadata.namespace!, d.metadata.name, { timeoutMs: 90_000 });
        expect(got.spec?.template.spec?.nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64' });
      }
      if (check.id !== 'crash.verdict') expect(deployments.length).toBeGreaterThan(0);
    });
  }
});
