/**
 * Waiting for the cluster to reach a state. Readiness is decided by polling with a deadline (a watch is an
 * optimisation, not a gate: see watch.ts for why client-node's watch cannot be trusted alone), and a timeout says
 * the limit and what the object looked like last — its conditions and the states of its pods' containers.
 */
import type * as k8s from '@kubernetes/client-node';
import { MeshcheckError } from '../errors.ts';
import type { KubeClient } from './client.ts';
import { isNotFound } from './errors.ts';

export class WaitTimeoutError extends MeshcheckError {
  override name = 'WaitTimeoutError';
  constructor(what: string, limitMs: number, lastSeen: string, fix?: string) {
    super(`${what} did not happen within ${Math.round(limitMs / 1000)} s${lastSeen ? `; last seen:\n${lastSeen}` : ''}`, { category: 'infrastructure', ...(fix ? { fix } : {}) });
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

/** Poll `check` until it returns a value (not undefined) or the deadline passes; `describe` says what it saw. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, describe: () => Promise<string>, o: WaitOptions): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    o.signal?.throwIfAborted();
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) throw new WaitTimeoutError(what, o.timeoutMs, await describe().catch((e: Error) => e.message));
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 500));
  }
}

/** Pure: is this Deployment Available with its current generation rolled out? */
export function deploymentAvailable(d: k8s.V1Deployment): boolean {
  const s = d.status;
  if (!s || (d.metadata?.generation ?? 0) > (s.observedGeneration ?? 0)) return false;
  const available = s.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
  const want = d.spec?.replicas ?? 1;
  return Boolean(available) && (s.updatedReplicas ?? 0) >= want && (s.availableReplicas ?? 0) >= want;
}

/** Pure: one line per condition and per container state of the pods, for timeout messages. */
export function describePods(pods: readonly k8s.V1Pod[]): string {
  if (!pods.length) return '  no pods';
  return pods
    .map((p) => {
      const cs = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]
        .map((c) => {
          const st = c.state?.waiting
            ? `waiting ${c.state.waiting.reason ?? ''}${c.state.waiting.message ? `: ${c.state.waiting.message}` : ''}`
            : c.state?.terminated
              ? `terminated exit ${c.state.terminated.exitCode} ${c.state.terminated.reason ?? ''}`
              : c.state?.running
                ? `running${c.ready ? ', ready' : ''}`
                : 'unknown';
          return `${c.name} ${st}`;
        })
        .join('; ');
      return `  pod ${p.metadata?.name} on ${p.spec?.nodeName ?? '(unscheduled)'} ${p.status?.phase ?? ''}${cs ? ` — ${cs}` : ''}`;
    })
    .join('\n');
}

function selectorOf(d: k8s.V1Deployment): string {
  return Object.entries(d.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export async function waitForDeploymentAvailable(client: KubeClient, namespace: string, name: string, o: WaitOptions): Promise<k8s.V1Deployment> {
  let last: k8s.V1Deployment | undefined;
  return pollUntil(
    `Deployment ${namespace}/${name} becoming Available`,
    async () => {
      last = await client.apps.readNamespacedDeployment({ name, namespace }).catch((err) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      return last && deploymentAvailable(last) ? last : undefined;
    },
    async () => {
      if (!last) return `  Deployment ${namespace}/${name} does not exist`;
      const conds = (last.status?.conditions ?? []).map((c) => `  ${c.type}=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}`).join('\n');
      const pods = await client.core.listNamespacedPod({ namespace, labelSelector: selectorOf(last) });
      return `${conds}\n${describePods(pods.items)}`;
    },
    o,
  );
}

export async function waitForPodReady(client: KubeClient, namespace: string, name: string, o: WaitOptions): Promise<k8s.V1Pod> {
  let last: k8s.V1Pod | undefined;
  return pollUntil(
    `Pod ${namespace}/${name} becoming Ready`,
    async () => {
      last = await client.core.readNamespacedPod({ name, namespace }).catch((err) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      return last?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? last : undefined;
    },
    async () => (last ? describePods([last]) : `  Pod ${namespace}/${name} does not exist`),
    o,
  );
}
