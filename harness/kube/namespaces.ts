/**
 * Namespaces meshcheck creates carry its labels (harness/labels.ts), so it deletes only what it made: a namespace
 * without `meshcheck.managed=true` is never deleted or changed, whatever the user asks.
 */
import type * as k8s from '@kubernetes/client-node';
import { MeshcheckError } from '../errors.ts';
import { LABEL_MANAGED, LABEL_RUN } from '../labels.ts';
import { applyOne } from './apply.ts';
import type { KubeClient } from './client.ts';
import { isNotFound, KubeApiError } from './errors.ts';
import { pollUntil } from './wait.ts';

export class NotOursError extends MeshcheckError {
  override name = 'NotOursError';
  constructor(message: string) {
    super(message, { category: 'usage', fix: 'meshcheck only changes namespaces it created (label meshcheck.managed=true); pick another name' });
  }
}

export async function readNamespace(client: KubeClient, name: string): Promise<k8s.V1Namespace | undefined> {
  return client.core.readNamespace({ name }).catch((err) => {
    if (isNotFound(err)) return undefined;
    throw new KubeApiError(`read Namespace ${name}`, err);
  });
}

export function isOurs(ns: k8s.V1Namespace | undefined): boolean {
  return ns?.metadata?.labels?.[LABEL_MANAGED] === 'true';
}

/**
 * Create (or update) a namespace of this run with the run's labels plus `labels` (e.g. istio-injection=enabled).
 * Refuses a namespace that exists and is not meshcheck's.
 */
export async function ensureNamespace(client: KubeClient, name: string, runLabels: Record<string, string>, labels: Record<string, string> = {}): Promise<k8s.V1Namespace> {
  const existing = await readNamespace(client, name);
  if (existing && !isOurs(existing)) throw new NotOursError(`namespace ${name} exists and was not created by meshcheck (no ${LABEL_MANAGED}=true label)`);
  const r = await applyOne(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...runLabels, ...labels } } });
  if (!r.ok) throw r.error;
  return r.applied as unknown as k8s.V1Namespace;
}

/** Delete a namespace meshcheck created and wait until it is gone. Refuses one it did not create. */
export async function deleteNamespace(client: KubeClient, name: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  const ns = await readNamespace(client, name);
  if (!ns) return;
  if (!isOurs(ns)) throw new NotOursError(`namespace ${name} was not created by meshcheck (no ${LABEL_MANAGED}=true label); it is left alone`);
  await client.core.deleteNamespace({ name }).catch((err) => {
    if (!isNotFound(err)) throw new KubeApiError(`delete Namespace ${name}`, err);
  });
  await pollUntil(
    `Namespace ${name} being deleted`,
    async () => ((await readNamespace(client, name)) ? undefined : true),
    async () => {
      const n = await readNamespace(client, name);
      return (n?.status?.conditions ?? []).map((c) => `  ${c.type}=${c.status}: ${c.message ?? ''}`).join('\n');
    },
    { timeoutMs: o.timeoutMs, signal: o.signal, intervalMs: 500 },
  );
}

/** Namespaces of one run (or of every run when runId is undefined). */
export async function listOurNamespaces(client: KubeClient, runId?: string): Promise<k8s.V1Namespace[]> {
  const selector = runId ? `${LABEL_MANAGED}=true,${LABEL_RUN}=${runId}` : `${LABEL_MANAGED}=true`;
  return (await client.core.listNamespace({ labelSelector: selector })).items;
}
