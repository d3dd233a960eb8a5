/**
 * harness/kube against the real API server of the test control plane (kube-apiserver + etcd + controller
 * manager + scheduler, kwok nodes): server-side apply of Istio's and Gateway API's CRDs and objects, the API
 * server's own validation, namespaces, a watch held past client-node's 30 s limit, and a Deployment made
 * Available by the controller manager, the scheduler and kwok.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayApiCrds, istioCrds } from '../testing/mesh-data.ts';
import { requireControlPlane } from '../testing/control-plane.ts';
import { LABEL_MANAGED, LABEL_RUN, newRunId, runLabels } from '../labels.ts';
import { applyAll, applyOne, assertApplied, type KubeObject } from './apply.ts';
import { kubeClient, type KubeClient, serverVersion } from './client.ts';
import { deleteNamespace, ensureNamespace, NotOursError, readNamespace } from './namespaces.ts';
import { deploymentAvailable, waitForDeploymentAvailable } from './wait.ts';
import { watchResilient } from './watch.ts';

const cp = await requireControlPlane();

describe.runIf(cp)('harness/kube on the real API server', () => {
  let client: KubeClient;
  const runId = newRunId();
  const labels = runLabels(runId);
  const ns = `mc-kube-${runId.slice(-6)}`;

  beforeAll(async () => {
    client = kubeClient({ kubeconfig: cp!.kubeconfig });
    await ensureNamespace(client, ns, labels);
  });
  afterAll(async () => {
    if (client) await deleteNamespace(client, ns, { timeoutMs: 120_000 });
  });

  it('talks to the Kubernetes version the control plane was built at', async () => {
    const v = await serverVersion(client);
    expect(v.gitVersion).toBe(`v${cp!.versions.kubernetes}`);
  });

  it("applies Istio's CRDs (from the real istioctl) and Gateway API's CRDs (from the module) server-side, twice", async () => {
    const crds = [...(await istioCrds(cp!)), ...(await gatewayApiCrds(cp!))];
    expect(crds.length).toBeGreaterThan(15);
    for (let round = 0; round < 2; round++) {
      const results = await applyAll(client, crds);
      assertApplied(results);
    }
    const names = crds.map((c) => c.metadata.name);
    expect(names).toContain('virtualservices.networking.istio.io');
    expect(names).toContain('httproutes.gateway.networking.k8s.io');
  });

  const mesh = (kind: string, name: string, spec: Record<string, unknown>, apiVersion = 'networking.istio.io/v1'): KubeObject => ({
    apiVersion,
    kind,
    metadata: { name, namespace: ns, labels },
    spec,
  });

  it('server-side applies VirtualService, DestinationRule, PeerAuthentication, Gateway and HTTPRoute objects', async () => {
    const objects: KubeObject[] = [
      mesh('VirtualService', 'echo', {
        hosts: ['echo'],
        http: [
          { match: [{ headers: { 'x-version': { exact: 'v2' } } }], route: [{ destination: { host: 'echo', subset: 'v2' } }] },
          { route: [{ destination: { host: 'echo', subset: 'v1' }, weight: 80 }, { destination: { host: 'echo', subset: 'v2' }, weight: 20 }], retries: { attempts: 3, retryOn: '5xx' } },
        ],
      }),
      mesh('DestinationRule', 'echo', { host: 'echo', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] }),
      mesh('PeerAuthentication', 'strict', { mtls: { mode: 'STRICT' } }, 'security.istio.io/v1'),
      mesh('Gateway', 'ingress', { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['echo.example.com'] }] }),
      mesh('HTTPRoute', 'echo', { parentRefs: [{ name: 'mesh-gw' }], hostnames: ['echo.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], backendRefs: [{ name: 'echo', port: 80 }] }] }, 'gateway.networking.k8s.io/v1'),
    ];
    const results = await applyAll(client, objects);
    assertApplied(results);
    // Idempotent: the same apply again changes nothing and succeeds.
    const again = await applyAll(client, objects);
    assertApplied(again);
    expect(again.map((r) => r.applied?.metadata.resourceVersion)).toEqual(results.map((r) => r.applied?.metadata.resourceVersion));
    // The manager of the fields is meshcheck.
    const managers = (results[0]?.applied?.metadata.managedFields as { manager: string; operation: string }[]) ?? [];
    expect(managers.some((m) => m.manager === 'meshcheck' && m.operation === 'Apply')).toBe(true);
  });

  it("rejects malformed objects with the API server's own validation message, and the good ones still apply", async () => {
    // A string where the CRD's schema says integer: server-side apply's typed conversion refuses it (as a 500).
    const wrongType = mesh('VirtualService', 'bad-retries', { hosts: ['echo'], http: [{ route: [{ destination: { host: 'echo' } }], retries: { attempts: 'three' } }] });
    // A duration Istio's CEL rule refuses: the API server's validation (422 Invalid).
    const badRule = mesh('VirtualService', 'bad-timeout', { hosts: ['echo'], http: [{ route: [{ destination: { host: 'echo' } }], retries: { attempts: 2, perTryTimeout: 'soon' } }] });
    // A value outside Gateway API's enum.
    const badRoute = mesh('HTTPRoute', 'bad-path', { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'Glob', value: '/x' } }] }] }, 'gateway.networking.k8s.io/v1');
    const good = mesh('DestinationRule', 'still-fine', { host: 'other' });
    const results = await applyAll(client, [wrongType, badRule, badRoute, good]);
    expect(results.map((r) => r.ok)).toEqual([false, false, false, true]);
    const [vs, rule, route] = results;
    for (const r of [vs, rule, route]) expect(r?.error?.invalid).toBe(true);
    // What a person sees: the object, the server's verdict and the field — no response headers, no stack.
    expect(vs?.error?.message).toMatch(/^apply VirtualService mc-kube-\w+\/bad-retries: the API server answered 500: failed to create typed patch object/);
    expect(vs?.error?.message).toContain('.spec.http[0].retries.attempts: expected numeric (int or float), got string');
    expect(vs?.error?.fix).toMatch(/correct the types of the fields/);
    expect(rule?.error?.code).toBe(422);
    expect(rule?.error?.status?.reason).toBe('Invalid');
    expect(rule?.error?.message).toMatch(/spec\.http\[0\]\.retries\.perTryTimeout: Invalid value/);
    expect(rule?.error?.fix).toMatch(/correct the fields/);
    expect(route?.error?.message).toMatch(/spec\.rules\[0\]\.matches\[0\]\.path\.type: Unsupported value: "Glob"/);
    for (const r of [vs, rule, route]) expect(r?.error?.message).not.toMatch(/content-type|Unknown API Status|\bat \w+ \(/i);
  });

  it('names a resource type the cluster does not serve', async () => {
    const r = await applyOne(client, { apiVersion: 'example.meshcheck.dev/v1', kind: 'Nothing', metadata: { name: 'x', namespace: ns } });
    expect(r.ok).toBe(false);
    expect(r.error?.message).toMatch(/apply Nothing .*x/);
  });

  it('creates namespaces with labels, refuses ones it did not create, deletes its own and waits until gone', async () => {
    const mine = `${ns}-life`;
    const created = await ensureNamespace(client, mine, labels, { 'istio-injection': 'enabled' });
    expect(created.metadata?.labels).toMatchObject({ [LABEL_MANAGED]: 'true', [LABEL_RUN]: runId, 'istio-injection': 'enabled' });
    // A namespace somebody else made (no meshcheck label) is never changed or deleted.
    const foreign = `${ns}-theirs`;
    await client.core.createNamespace({ body: { metadata: { name: foreign, labels: { team: 'someone-else' } } } });
    try {
      await expect(ensureNamespace(client, foreign, labels)).rejects.toBeInstanceOf(NotOursError);
      await expect(deleteNamespace(client, foreign, { timeoutMs: 5_000 })).rejects.toThrow(/not created by meshcheck/);
      expect((await readNamespace(client, foreign))?.metadata?.labels).toEqual(expect.objectContaining({ team: 'someone-else' }));
      expect((await readNamespace(client, foreign))?.metadata?.labels?.[LABEL_MANAGED]).toBeUndefined();
    } finally {
      await client.core.deleteNamespace({ name: foreign });
    }
    await deleteNamespace(client, mine, { timeoutMs: 120_000 });
    expect(await readNamespace(client, mine)).toBeUndefined();
  });

  it('makes a Deployment Available through the controller manager, the scheduler (by arch) and kwok', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'echo-arm64', namespace: ns, labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'echo-arm64' } },
        template: {
          metadata: { labels: { app: 'echo-arm64' } },
          spec: { nodeSelector: { 'kubernetes.io/arch': 'arm64' }, containers: [{ name: 'echo', image: 'registry.invalid/echo:1' }] },
        },
      },
    };
    assertApplied([await applyOne(client, deployment)]);
    const d = await waitForDeploymentAvailable(client, ns, 'echo-arm64', { timeoutMs: 90_000 });
    expect(deploymentAvailable(d)).toBe(true);
    const pods = await client.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=echo-arm64' });
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items) expect(p.spec?.nodeName).toBe('meshcheck-arm64-1');
  });

  it('says the limit and what it saw when a Deployment never becomes Available', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'nowhere', namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'nowhere' } },
        template: { metadata: { labels: { app: 'nowhere' } }, spec: { nodeSelector: { 'kubernetes.io/arch': 's390x' }, containers: [{ name: 'c', image: 'x' }] } },
      },
    };
    assertApplied([await applyOne(client, deployment)]);
    const err = await waitForDeploymentAvailable(client, ns, 'nowhere', { timeoutMs: 4_000 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/Deployment mc-kube-\w+\/nowhere becoming Available did not happen within 4 s/);
    expect((err as Error).message).toMatch(/pod nowhere-\S+ on \(unscheduled\) Pending/);
  });

  it('holds a watch well beyond 30 seconds and still delivers events', { timeout: 120_000 }, async () => {
    const controller = new AbortController();
    const seen: { type: string; name: string; at: number }[] = [];
    const reconnects: string[] = [];
    const started = Date.now();
    const handle = watchResilient<{ metadata?: { name?: string } }>(client, {
      path: `/api/v1/namespaces/${ns}/configmaps`,
      onEvent: (type, o) => seen.push({ type, name: o.metadata?.name ?? '', at: Date.now() - started }),
      onReconnect: (why) => reconnects.push(why),
      signal: controller.signal,
    });
    const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data: { at: String(Date.now()) } });
    await new Promise((r) => setTimeout(r, 2_000));
    assertApplied([await applyOne(client, cm('early'))]);
    // Quiet for longer than client-node's 30 s inactivity limit, then more events.
    await new Promise((r) => setTimeout(r, 40_000));
    assertApplied([await applyOne(client, cm('late'))]);
    await new Promise((r) => setTimeout(r, 3_000));
    assertApplied([await applyOne(client, { ...cm('late'), data: { changed: 'yes' } })]);
    await new Promise((r) => setTimeout(r, 3_000));
    controller.abort();
    await handle.done;
    const late = seen.filter((e) => e.name === 'late');
    expect(seen.find((e) => e.name === 'early')?.type).toBe('ADDED');
    expect(late.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED']);
    expect(late[0]!.at).toBeGreaterThan(40_000);
    // Nothing was delivered twice across reconnects.
    expect(seen.filter((e) => e.name === 'early')).toHaveLength(1);
    console.log(`watch: ${handle.requests()} request(s) over ${Math.round((Date.now() - started) / 1000)} s; reconnects: ${reconnects.join(' | ') || 'none'}`);
  });
});
