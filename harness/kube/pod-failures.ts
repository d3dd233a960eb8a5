/**
 * From a Pod as the kubelet reports it to the failures of its containers, each classified by the foundation's
 * classifier. Pure: the crash guard (I/O) feeds it pods, events and log tails; the tests feed it pods that kwok
 * failed on a real API server and pods assembled from the kubelet's formats.
 *
 * Which kubelet fields carry what (Kubernetes v1.33):
 *  - state.terminated.{exitCode, signal, reason, message}: the runtime's exit status; reason "Error" for a
 *    non-zero exit, "StartError" (exit 128) when the runtime could not start the process; message is the
 *    termination message, or the log tail with terminationMessagePolicy FallbackToLogsOnError.
 *  - state.waiting.{reason, message}: CrashLoopBackOff ("back-off … restarting failed container=…"),
 *    ImagePullBackOff / ErrImagePull (the pull error), CreateContainerError, RunContainerError.
 *  - lastState.terminated: the exit that put a restarting container into CrashLoopBackOff.
 * Exact sources are listed in harness/kube/kubelet-fields.md.
 */
import type * as k8s from '@kubernetes/client-node';
import { classifyFailure, type Classification, type FailureEvidence } from '../arch/classify.ts';

/** Waiting reasons that mean the container cannot run (as opposed to ContainerCreating / PodInitializing). */
export const FAILING_WAITING_REASONS: ReadonlySet<string> = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerError',
  'CreateContainerConfigError',
  'RunContainerError',
  'StartError',
]);

export interface ContainerFailure {
  namespace: string;
  pod: string;
  container: string;
  /** init, regular or ephemeral container. */
  role: 'init' | 'container' | 'ephemeral';
  image: string;
  imageID?: string;
  nodeName?: string;
  nodeArch?: string;
  restartCount: number;
  /** The kubelet's fields exactly as read (for evidence in reports). */
  fields: {
    waiting?: { reason?: string; message?: string };
    terminated?: { exitCode: number; signal?: number; reason?: string; message?: string };
    lastTerminated?: { exitCode: number; signal?: number; reason?: string; message?: string };
  };
  /** Event messages about this pod that name the container or its image. */
  events: string[];
  evidence: FailureEvidence;
  classification: Classification;
}

export interface PodContext {
  /** The architecture of a node (its kubernetes.io/arch label), by node name. */
  nodeArch?: (nodeName: string) => string | undefined;
  /** Events whose involvedObject is this pod. */
  events?: readonly Pick<k8s.CoreV1Event, 'reason' | 'message' | 'type' | 'involvedObject'>[];
  /** The last log lines of a container, by container name (read with previous=true for restarting ones). */
  logTail?: (container: string) => string | undefined;
}

function term(t: k8s.V1ContainerStateTerminated | undefined): ContainerFailure['fields']['terminated'] {
  if (!t) return undefined;
  return {
    exitCode: t.exitCode,
    ...(t.signal !== undefined ? { signal: t.signal } : {}),
    ...(t.reason ? { reason: t.reason } : {}),
    ...(t.message ? { message: t.message } : {}),
  };
}

/** Is this container status a failure? Running, creating and exit 0 are not. */
export function isFailing(s: k8s.V1ContainerStatus): boolean {
  const w = s.state?.waiting;
  if (w?.reason && FAILING_WAITING_REASONS.has(w.reason)) return true;
  const t = s.state?.terminated;
  return Boolean(t && (t.exitCode !== 0 || (t.reason !== undefined && t.reason !== 'Completed')));
}

/** The failures of one pod's containers (empty for a healthy pod). */
export function podFailures(pod: k8s.V1Pod, ctx: PodContext = {}): ContainerFailure[] {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const nodeName = pod.spec?.nodeName;
  const nodeArch = nodeName ? ctx.nodeArch?.(nodeName) : undefined;
  const groups: [ContainerFailure['role'], k8s.V1ContainerStatus[] | undefined][] = [
    ['init', pod.status?.initContainerStatuses],
    ['container', pod.status?.containerStatuses],
    ['ephemeral', pod.status?.ephemeralContainerStatuses],
  ];
  const out: ContainerFailure[] = [];
  for (const [role, statuses] of groups) {
    for (const s of statuses ?? []) {
      if (!isFailing(s)) continue;
      const waiting = s.state?.waiting ? { ...(s.state.waiting.reason ? { reason: s.state.waiting.reason } : {}), ...(s.state.waiting.message ? { message: s.state.waiting.message } : {}) } : undefined;
      const terminated = term(s.state?.terminated);
      const lastTerminated = term(s.lastState?.terminated);
      const events = (ctx.events ?? [])
        .filter((e) => e.involvedObject?.name === name && (!e.involvedObject.fieldPath || e.involvedObject.fieldPath.includes(`{${s.name}}`)))
        .map((e) => `${e.reason ?? ''}: ${e.message ?? ''}`.trim());
      const exit = terminated ?? lastTerminated;
      const logs = ctx.logTail?.(s.name);
      const evidence: FailureEvidence = {
        ...(waiting?.reason || exit?.reason ? { reason: waiting?.reason ?? exit?.reason } : {}),
        ...(exit ? { exitCode: exit.exitCode } : {}),
        ...(exit?.signal !== undefined ? { signal: exit.signal } : {}),
        output: [waiting?.message, terminated?.message, lastTerminated?.message, ...events, logs].filter(Boolean).join('\n'),
        ...(nodeArch ? { host: { arch: nodeArch } } : {}),
      };
      out.push({
        namespace,
        pod: name,
        container: s.name,
        role,
        image: s.image,
        ...(s.imageID ? { imageID: s.imageID } : {}),
        ...(nodeName ? { nodeName } : {}),
        ...(nodeArch ? { nodeArch } : {}),
        restartCount: s.restartCount,
        fields: { ...(waiting ? { waiting } : {}), ...(terminated ? { terminated } : {}), ...(lastTerminated ? { lastTerminated } : {}) },
        events,
        evidence,
        classification: classifyFailure(evidence),
      });
    }
  }
  return out;
}

/** One line for people: where it failed and why. */
export function describeFailure(f: ContainerFailure): string {
  return `${f.namespace}/${f.pod} container ${f.container} (${f.image}${f.nodeArch ? ` on ${f.nodeArch} node ${f.nodeName}` : f.nodeName ? ` on node ${f.nodeName}` : ''}): ${f.classification.kind} — ${f.classification.summary}`;
}
