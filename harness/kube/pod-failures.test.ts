import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { describeFailure, isFailing, podFailures } from './pod-failures.ts';

function pod(statuses: Partial<k8s.V1ContainerStatus>[], extra: Partial<k8s.V1PodStatus> = {}, nodeName = 'n-arm'): k8s.V1Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: { nodeName, containers: [] },
    status: {
      containerStatuses: statuses.map((s, i) => ({ name: `c${i}`, image: `img${i}`, imageID: '', ready: false, restartCount: 0, ...s })),
      ...extra,
    },
  };
}
const arch = { nodeArch: (n: string) => (n === 'n-arm' ? 'arm64' : undefined) };

describe('podFailures', () => {
  it('reports nothing for running, creating and completed containers', () => {
    const p = pod([
      { state: { running: { startedAt: new Date() } }, ready: true },
      { state: { waiting: { reason: 'ContainerCreating' } } },
      { state: { terminated: { exitCode: 0, reason: 'Completed' } } },
    ]);
    expect(podFailures(p, arch)).toEqual([]);
  });

  it('classifies OOMKilled (exit 137) as other, not an architecture failure', () => {
    const [f] = podFailures(pod([{ state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }]), arch);
    expect(f?.classification.kind).toBe('other');
    expect(f?.classification.summary).toMatch(/signal 9/);
  });

  it('takes the exit from lastState when the container is in CrashLoopBackOff', () => {
    const [f] = podFailures(
      pod([{ restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=c0 pod=p_ns(u1)' } }, lastState: { terminated: { exitCode: 135, reason: 'Error' } } }]),
      arch,
    );
    expect(f?.evidence).toMatchObject({ reason: 'CrashLoopBackOff', exitCode: 135 });
    expect(f?.classification.kind).toBe('bus-error');
    expect(f?.nodeArch).toBe('arm64');
    expect(describeFailure(f!)).toBe('ns/p container c0 (img0 on arm64 node n-arm): bus-error — the process crashed with a bus error (SIGBUS)');
  });

  it('uses events and log tails about the container as evidence', () => {
    const events = [
      { reason: 'Failed', message: 'Error: ErrImagePull', involvedObject: { name: 'p', fieldPath: 'spec.containers{c0}' } },
      { reason: 'Failed', message: 'unrelated', involvedObject: { name: 'p', fieldPath: 'spec.containers{c9}' } },
    ];
    const [f] = podFailures(pod([{ state: { waiting: { reason: 'CreateContainerError', message: 'x' } } }]), {
      ...arch,
      events,
      logTail: () => 'exec /app: exec format error',
    });
    expect(f?.events).toEqual(['Failed: Error: ErrImagePull']);
    expect(f?.classification.kind).toBe('exec-format-error');
  });

  it('sees failing init containers', () => {
    const p = pod([], { initContainerStatuses: [{ name: 'istio-init', image: 'proxyv2', imageID: '', ready: false, restartCount: 1, state: { terminated: { exitCode: 1, reason: 'Error', message: 'iptables-restore: line 3 failed' } } }] });
    const [f] = podFailures(p, arch);
    expect(f).toMatchObject({ role: 'init', container: 'istio-init', classification: { kind: 'other' } });
  });

  it('isFailing: a terminated container with a non-Completed reason fails even at exit 0', () => {
    expect(isFailing({ name: 'x', image: 'y', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'StartError' } } })).toBe(true);
  });
});
