/**
 * The real istioctl of the pinned version installs Istio into the test control plane; kwok plays the kubelet, so
 * istiod and the ingress gateway become Available and `istioctl install` finishes as it would on a cluster.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { requireControlPlane } from '../../testing/control-plane.ts';
import { LABEL_MANAGED, newRunId, runLabels } from '../../labels.ts';
import { applyOne } from '../../kube/apply.ts';
import { kubeClient } from '../../kube/client.ts';
import { readNamespace } from '../../kube/namespaces.ts';
import { IstioAdapter, istioctlVersion } from './istio-adapter.ts';

const cp = await requireControlPlane();

describe.runIf(cp)('Istio through the real istioctl on the test control plane', () => {
  const runId = newRunId();
  const target = { kubeconfig: cp!.kubeconfig };
  const log: string[] = [];
  const ctx = { target, log: (l: string) => log.push(l) };
  const adapter = new IstioAdapter({ istioctl: cp!.binaries.istioctl, runLabels: runLabels(runId) });
  const client = kubeClient(target);

  // A failed test must not leave Istio (and its injection webhook) behind for the files after this one.
  afterAll(async () => {
    if ((await adapter.status(ctx).catch(() => [])).length) await adapter.uninstall(ctx);
  }, 300_000);

  it('the istioctl is the pinned version', async () => {
    expect(await istioctlVersion(cp!.binaries.istioctl)).toBe(cp!.versions.istio);
  });

  it('refuses to install another version than its own, saying which istioctl to use', async () => {
    const err = await adapter.install(ctx, { version: '1.99.0', profile: 'minimal', readinessTimeoutSeconds: 30 }).catch((e: Error & { fix?: string }) => e);
    expect((err as Error).message).toMatch(new RegExp(`is version ${cp!.versions.istio.replaceAll('.', '\\.')}, but Istio 1\\.99\\.0 was asked for`));
    expect((err as { fix?: string }).fix).toMatch(/use istioctl 1\.99\.0/);
  });

  it('installs the default profile (istiod and the ingress gateway Available), then uninstalls it', { timeout: 300_000 }, async () => {
    const result = await adapter.install(ctx, { version: cp!.versions.istio, profile: 'default', readinessTimeoutSeconds: 120 });
    expect(result.output).toMatch(/Installation complete/);
    expect(result.components.map((c) => c.deployment).sort()).toEqual(['istio-ingressgateway', 'istiod']);
    expect(result.components.every((c) => c.available)).toBe(true);
    expect(result.components.find((c) => c.deployment === 'istiod')?.images).toEqual([`docker.io/istio/pilot:${cp!.versions.istio}`]);
    // meshcheck made istio-system, so it is labelled as meshcheck's.
    expect((await readNamespace(client, 'istio-system'))?.metadata?.labels?.[LABEL_MANAGED]).toBe('true');
    // Istio's CRDs are served: a VirtualService applies.
    const vs = await applyOne(client, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'after-install', namespace: 'istio-system' },
      spec: { hosts: ['x'], http: [{ route: [{ destination: { host: 'x' } }] }] },
    });
    expect(vs.error?.message).toBeUndefined();

    await adapter.uninstall(ctx);
    expect(await readNamespace(client, 'istio-system')).toBeUndefined();
    const crds = await client.kc.makeApiClient((await import('@kubernetes/client-node')).ApiextensionsV1Api).listCustomResourceDefinition();
    expect(crds.items.filter((c) => c.spec.group.endsWith('istio.io'))).toEqual([]);
  });

  it('pins a component image by digest (hybrid mode) and istioctl uses it verbatim', { timeout: 300_000 }, async () => {
    const digest = `docker.io/istio/pilot@sha256:${'ab'.repeat(32)}`;
    const result = await adapter.install(ctx, { version: cp!.versions.istio, profile: 'minimal', images: { pilot: digest }, readinessTimeoutSeconds: 120 });
    expect(result.components.map((c) => c.images)).toEqual([[digest]]);
    await adapter.uninstall(ctx);
  });

  it('hybrid: gateways get their own (arm64) proxy image while sidecars keep theirs; the rollout completes', { timeout: 300_000 }, async () => {
    const gw = `docker.io/istio/proxyv2@sha256:${'cd'.repeat(32)}`;
    const result = await adapter.install(ctx, { version: cp!.versions.istio, profile: 'default', gatewayImage: gw, readinessTimeoutSeconds: 120 });
    const by = Object.fromEntries(result.components.map((c) => [c.deployment, c]));
    expect(by['istio-ingressgateway']).toMatchObject({ images: [gw], available: true });
    expect(by.istiod?.images).toEqual([`docker.io/istio/pilot:${cp!.versions.istio}`]);
    // The injector's sidecar image is untouched.
    const cm = await client.core.readNamespacedConfigMap({ name: 'istio-sidecar-injector', namespace: 'istio-system' });
    const values = JSON.parse(cm.data?.values ?? '{}') as { global?: { tag?: string; proxy?: { image?: string } } };
    expect(values.global?.tag).toBe(cp!.versions.istio);
    expect(values.global?.proxy?.image).toBe('proxyv2');
    expect(cm.data?.values).not.toContain(gw);
    await adapter.uninstall(ctx);
  });

  it('plans every command without running it (dry run)', () => {
    const plan = adapter.planInstall(ctx, { version: '1.27.0', profile: 'ambient', hub: 'registry.example/istio', tag: '1.27.0', readinessTimeoutSeconds: 60 });
    expect(plan.at(-1)?.args).toEqual([
      'install', '-y', '--kubeconfig', cp!.kubeconfig,
      '--set', 'profile=ambient', '--set', 'hub=registry.example/istio', '--set', 'tag=1.27.0',
      '--readiness-timeout', '60s',
    ]);
  });
});
