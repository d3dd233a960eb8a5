/**
 * Pods that kwok fails on the real API server, exactly as a kubelet reports the failure (see kubelet-fields.md),
 * reach meshcheck's classifier: exit code 132, a segfault, exec format error (StartError), CrashLoopBackOff and
 * ImagePullBackOff with containerd's platform error. Healthy pods and healthy containers beside a failing one
 * are not reported.
 */
import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_BINARY, FAULT_CONTAINER, FAULT_LABEL, FAULT_LOG, type Fault } from '../../scripts/control-plane/kwok.ts';
import { requireControlPlane } from '../testing/control-plane.ts';
import { newRunId, runLabels } from '../labels.ts';
import { applyOne, assertApplied } from './apply.ts';
import { kubeClient, type KubeClient } from './client.ts';
import { deleteNamespace, ensureNamespace } from './namespaces.ts';
import { podFailures } from './pod-failures.ts';
import { pollUntil } from './wait.ts';

const cp = await requireControlPlane();

describe.runIf(cp)('pods failed by kwok reach the classifier with the kubelet fields', () => {
  let client: KubeClient;
  const runId = newRunId();
  const labels = runLabels(runId);
  const ns = `mc-faults-${runId.slice(-6)}`;
  let arch: Map<string, string>;

  beforeAll(async () => {
    client = kubeClient({ kubeconfig: cp!.kubeconfig });
    await ensureNamespace(client, ns, labels);
    const nodes = await client.core.listNode();
    arch = new Map(nodes.items.map((n) => [n.metadata!.name!, n.metadata!.labels!['kubernetes.io/arch']!]));
  });
  afterAll(async () => {
    if (client) await deleteNamespace(client, ns, { timeoutMs: 120_000 });
  });

  interface PodSpec {
    name: string;
    fault?: Fault;
    container?: string;
    log?: string;
    binary?: string;
    restartPolicy?: 'Always' | 'Never';
    arch?: 'amd64' | 'arm64';
    containers?: { name: string; image: string; terminationMessagePolicy?: string }[];
  }

  async function runPod(p: PodSpec): Promise<k8s.V1Pod> {
    const annotations: Record<string, string> = {};
    if (p.container) annotations[FAULT_CONTAINER] = p.container;
    if (p.log) annotations[FAULT_LOG] = p.log;
    if (p.binary) annotations[FAULT_BINARY] = p.binary;
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: ns, labels: { ...labels, ...(p.fault ? { [FAULT_LABEL]: p.fault } : {}) }, annotations },
      spec: {
        restartPolicy: p.restartPolicy ?? 'Always',
        nodeSelector: { 'kubernetes.io/arch': p.arch ?? 'arm64' },
        containers: p.containers ?? [{ name: 'app', image: 'docker.io/istio/pilot:1.27.0' }],
      },
    };
    assertApplied([await applyOne(client, pod)]);
    return pollUntil(
      `pod ${p.name} getting a status from kwok`,
      async () => {
        const got = await client.core.readNamespacedPod({ name: p.name, namespace: ns });
        return got.status?.podIP && got.status.containerStatuses?.length ? got : undefined;
      },
      async () => '',
      { timeoutMs: 60_000 },
    );
  }

  const ctx = () => ({ nodeArch: (n: string) => arch.get(n) });

  it('exit code 132 with the log tail as termination message (FallbackToLogsOnError, restartPolicy Never)', async () => {
    const pod = await runPod({
      name: 'sigill-once',
      fault: 'exit-132',
      restartPolicy: 'Never',
      log: 'qemu: uncaught target signal 4 (Illegal instruction) - core dumped',
      containers: [{ name: 'app', image: 'docker.io/istio/pilot:1.27.0', terminationMessagePolicy: 'FallbackToLogsOnError' }],
    });
    expect(pod.status?.phase).toBe('Failed');
    const [f, ...more] = podFailures(pod, ctx());
    expect(more).toHaveLength(0);
    expect(f?.fields.terminated).toEqual({ exitCode: 132, reason: 'Error', message: 'qemu: uncaught target signal 4 (Illegal instruction) - core dumped' });
    expect(f).toMatchObject({ pod: 'sigill-once', container: 'app', image: 'docker.io/istio/pilot:1.27.0', nodeName: 'meshcheck-arm64-1', nodeArch: 'arm64' });
    expect(f?.classification.kind).toBe('illegal-instruction');
    expect(f?.classification.emulated).toBe(true);
  });

  it('exit code 132 without a message (policy File) is still an illegal instruction, by the exit code', async () => {
    const pod = await runPod({ name: 'sigill-file', fault: 'exit-132', restartPolicy: 'Never', log: 'ignored: policy is File' });
    const [f] = podFailures(pod, ctx());
    expect(f?.fields.terminated).toEqual({ exitCode: 132, reason: 'Error' });
    expect(f?.classification.kind).toBe('illegal-instruction');
    expect(f?.classification.signal).toBe(4);
  });

  it('CrashLoopBackOff (restartPolicy Always): waiting reason and message, the exit in lastState', async () => {
    const pod = await runPod({ name: 'crashloop', fault: 'segfault' });
    expect(pod.status?.phase).toBe('Running');
    const [f] = podFailures(pod, ctx());
    expect(f?.fields.waiting?.reason).toBe('CrashLoopBackOff');
    expect(f?.fields.waiting?.message).toBe(`back-off 40s restarting failed container=app pod=crashloop_${ns}(${pod.metadata?.uid})`);
    expect(f?.fields.lastTerminated).toMatchObject({ exitCode: 139, reason: 'Error' });
    expect(f?.restartCount).toBe(3);
    expect(f?.classification.kind).toBe('segfault');
  });

  it("exec format error of one container (StartError) — the other container is healthy and not reported", async () => {
    const pod = await runPod({
      name: 'wrong-arch-sidecar',
      fault: 'exec-format-error',
      container: 'istio-proxy',
      binary: '/usr/local/bin/pilot-agent',
      containers: [
        { name: 'app', image: 'registry.example/echo:1' },
        { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.27.0' },
      ],
    });
    const failures = podFailures(pod, ctx());
    expect(failures.map((f) => f.container)).toEqual(['istio-proxy']);
    const [f] = failures;
    expect(f?.fields.waiting?.reason).toBe('CrashLoopBackOff');
    expect(f?.fields.lastTerminated).toEqual({
      exitCode: 128,
      reason: 'StartError',
      message:
        'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec /usr/local/bin/pilot-agent: exec format error: unknown',
    });
    expect(f?.classification.kind).toBe('exec-format-error');
    expect(f?.image).toBe('docker.io/istio/proxyv2:1.27.0');
    expect(pod.status?.containerStatuses?.find((c) => c.name === 'app')?.ready).toBe(true);
  });

  it('ImagePullBackOff with containerd\'s "no match for platform in manifest"', async () => {
    const pullError = 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/istio/pilot:1.27.0": no match for platform in manifest: not found';
    const pod = await runPod({ name: 'no-arm64-image', fault: 'image-pull', log: pullError });
    expect(pod.status?.phase).toBe('Pending');
    const [f] = podFailures(pod, ctx());
    expect(f?.fields.waiting).toEqual({ reason: 'ImagePullBackOff', message: `Back-off pulling image "docker.io/istio/pilot:1.27.0": ErrImagePull: ${pullError}` });
    expect(f?.classification.kind).toBe('missing-platform');
    expect(f?.nodeArch).toBe('arm64');
  });

  it('a healthy pod has no failures', async () => {
    const pod = await runPod({ name: 'healthy', arch: 'amd64' });
    expect(pod.status?.containerStatuses?.[0]?.ready).toBe(true);
    expect(podFailures(pod, ctx())).toEqual([]);
  });
});
