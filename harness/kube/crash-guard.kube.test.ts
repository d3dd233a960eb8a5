/**
 * The crash guard against the real API server: kwok fails pods exactly as a kubelet reports it, and the guard
 * names each failure (pod, container, image, node arch, the image's platforms from the test bed's real registry)
 * while staying silent on healthy pods.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_BINARY, FAULT_CONTAINER, FAULT_LABEL, FAULT_LOG } from '../../scripts/control-plane/kwok.ts';
import { requireControlPlane } from '../testing/control-plane.ts';
import { requireTestbed } from '../testing/testbed.ts';
import { newRunId, runLabels } from '../labels.ts';
import { RegistryClient } from '../registry/client.ts';
import { imagePlatforms } from '../registry/pin.ts';
import { applyOne, assertApplied } from './apply.ts';
import { kubeClient, type KubeClient } from './client.ts';
import { CrashGuard, renderVerdict } from './crash-guard.ts';
import { deleteNamespace, ensureNamespace } from './namespaces.ts';
import { pollUntil, waitForDeploymentAvailable } from './wait.ts';

const cp = await requireControlPlane();
const bed = await requireTestbed();

describe.runIf(cp && bed)('the crash guard on the test control plane', () => {
  let client: KubeClient;
  const runId = newRunId();
  const labels = runLabels(runId);
  const ns = `mc-guard-${runId.slice(-6)}`;
  const quiet = `mc-quiet-${runId.slice(-6)}`;
  const registry = new RegistryClient({ insecureHosts: [bed!.registry.addr] });
  const multi = bed!.images['meshcheck/echo']!.ref;
  const amd64Only = bed!.images['meshcheck-test/amd64-only']!.ref;

  beforeAll(async () => {
    client = kubeClient({ kubeconfig: cp!.kubeconfig });
    await ensureNamespace(client, ns, labels);
    await ensureNamespace(client, quiet, labels);
  });
  afterAll(async () => {
    await registry.close();
    if (client) {
      await deleteNamespace(client, ns, { timeoutMs: 120_000 });
      await deleteNamespace(client, quiet, { timeoutMs: 120_000 });
    }
  });

  const pod = (name: string, image: string, fault?: string, annotations: Record<string, string> = {}, containers?: object[]) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { ...labels, ...(fault ? { [FAULT_LABEL]: fault } : {}) }, annotations },
    spec: { nodeSelector: { 'kubernetes.io/arch': 'arm64' }, containers: containers ?? [{ name: 'app', image }] },
  });

  it('catches every failure kwok injects, names it, and ignores the healthy pods', { timeout: 180_000 }, async () => {
    const guard = await new CrashGuard(client, { namespaces: [ns], imagePlatforms: (image) => imagePlatforms(registry, image) }).start();
    const seen: string[] = [];
    guard.onFailure((f) => seen.push(`${f.pod}/${f.container}`));
    const pullError = `rpc error: code = NotFound desc = failed to pull and unpack image "${amd64Only}": no match for platform in manifest: not found`;
    for (const p of [
      pod('sigill', multi, 'exit-132'),
      pod('segv', multi, 'segfault'),
      pod('execfmt', amd64Only, 'exec-format-error', { [FAULT_BINARY]: '/bin/echo-server' }),
      pod('nopull', amd64Only, 'image-pull', { [FAULT_LOG]: pullError }),
      pod('sidecar', multi, 'exec-format-error', { [FAULT_CONTAINER]: 'istio-proxy' }, [
        { name: 'app', image: multi },
        { name: 'istio-proxy', image: amd64Only },
      ]),
      pod('fine', multi),
    ]) {
      assertApplied([await applyOne(client, p)]);
    }
    // A healthy Deployment rolled out meanwhile.
    assertApplied([
      await applyOne(client, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'healthy', namespace: ns, labels },
        spec: { replicas: 2, selector: { matchLabels: { app: 'healthy' } }, template: { metadata: { labels: { app: 'healthy' } }, spec: { containers: [{ name: 'c', image: multi }] } } },
      }),
    ]);
    await waitForDeploymentAvailable(client, ns, 'healthy', { timeoutMs: 60_000 });
    await pollUntil('the guard seeing all five failures', async () => (guard.failures().length >= 5 ? true : undefined), async () => seen.join(', '), { timeoutMs: 60_000 });
    const verdict = await guard.stop();
    console.log(renderVerdict(verdict));
    expect(verdict.ok).toBe(false);
    const by = Object.fromEntries(verdict.failures.map((f) => [`${f.pod}/${f.container}`, f]));
    expect(Object.keys(by).sort()).toEqual(['execfmt/app', 'nopull/app', 'segv/app', 'sidecar/istio-proxy', 'sigill/app']);
    expect(by['sigill/app']?.classification.kind).toBe('illegal-instruction');
    expect(by['segv/app']?.classification.kind).toBe('segfault');
    expect(by['execfmt/app']?.classification.kind).toBe('exec-format-error');
    expect(by['sidecar/istio-proxy']?.classification.kind).toBe('exec-format-error');
    expect(by['nopull/app']?.classification.kind).toBe('missing-platform');
    for (const f of verdict.failures) {
      expect(f.fatal).toBe(true);
      expect(f.nodeArch).toBe('arm64');
      expect(f.nodeName).toBe('meshcheck-arm64-1');
    }
    // The image's platforms come from the real registry, as the audit reads them.
    expect(by['nopull/app']?.imagePlatforms).toEqual(['linux/amd64']);
    expect(by['sigill/app']?.imagePlatforms).toEqual(['linux/amd64', 'linux/arm64']);
    expect(by['execfmt/app']?.image).toBe(amd64Only);
    expect(renderVerdict(verdict)).toMatch(new RegExp(`FAIL ${ns}/nopull container app image ${amd64Only.replaceAll('.', '\\.')} \\[linux/amd64\\] on arm64 node meshcheck-arm64-1: missing-platform`));
    expect(verdict.podsSeen).toBeGreaterThanOrEqual(8);
  });

  it('stays silent when every pod is healthy', { timeout: 120_000 }, async () => {
    const guard = await new CrashGuard(client, { namespaces: [quiet] }).start();
    assertApplied([
      await applyOne(client, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'calm', namespace: quiet, labels },
        spec: { replicas: 3, selector: { matchLabels: { app: 'calm' } }, template: { metadata: { labels: { app: 'calm' } }, spec: { containers: [{ name: 'c', image: multi }] } } },
      }),
    ]);
    await waitForDeploymentAvailable(client, quiet, 'calm', { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 2_000));
    const verdict = await guard.stop();
    expect(verdict).toMatchObject({ ok: true, failures: [] });
    expect(verdict.podsSeen).toBe(3);
    expect(renderVerdict(verdict)).toBe('crash guard: no container failed (3 pods watched)');
  });
});
