/**
 * Server-side apply: one PATCH per object with application/apply-patch+yaml, a field manager and force, so it is
 * idempotent, needs no prior read, and works for custom resources (a strategic-merge patch does not:
 * kubernetes/kubernetes#97423). Each object gets its own result: one bad object never stops the others, and a
 * rejection carries the API server's own validation message.
 *
 * Order: CustomResourceDefinitions and Namespaces first, then everything else after the CRDs are Established,
 * because a custom resource cannot be applied before its type is served.
 */
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from './client.ts';
import { describeRef, KubeApiError, type ObjectRef } from './errors.ts';
import { asApiException, kubeRequest, objectPath } from './raw.ts';

export const FIELD_MANAGER = 'meshcheck';

export interface KubeObject extends ObjectRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ApplyResult {
  ref: string;
  object: KubeObject;
  ok: boolean;
  /** The object as the server stored it. */
  applied?: KubeObject;
  error?: KubeApiError;
}

export interface ApplyOptions {
  /** Let the API server validate and default without persisting (dryRun=All). */
  dryRun?: boolean;
  /** How long to wait for applied CRDs to become Established. */
  crdTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Parse a multi-document YAML string into objects, skipping empty documents. */
export function parseObjects(yaml: string, source = 'manifest'): KubeObject[] {
  // The yaml package, not client-node's loadAllYaml: that one fails on empty documents (`---` followed by
  // nothing), which istioctl's output has.
  const parsed = parseAllDocuments(yaml);
  const docs = parsed.map((d, i) => {
    if (d.errors.length) throw new Error(`${source}: document ${i + 1} is not valid YAML: ${d.errors[0]?.message}`);
    return d.toJS() as unknown;
  });
  const out: KubeObject[] = [];
  docs.forEach((d, i) => {
    if (d === null || d === undefined) return;
    const o = d as Partial<KubeObject>;
    if (typeof o !== 'object' || !o.apiVersion || !o.kind || !o.metadata?.name) {
      throw new Error(`${source}: document ${i + 1} is not a Kubernetes object (it needs apiVersion, kind and metadata.name)`);
    }
    if (o.kind === 'List' && Array.isArray((o as { items?: unknown[] }).items)) {
      out.push(...((o as { items: KubeObject[] }).items));
      return;
    }
    out.push(o as KubeObject);
  });
  return out;
}

const FIRST = new Set(['CustomResourceDefinition', 'Namespace']);

export async function applyOne(client: KubeClient, object: KubeObject, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const ref = describeRef(object);
  try {
    const p = await objectPath(client, object);
    if (!p) {
      const err = new KubeApiError(`apply ${ref}`, new Error(`the cluster does not serve ${object.kind} in ${object.apiVersion}`), `install the CRD that defines ${object.kind} (${object.apiVersion}) first`);
      return { ref, object, ok: false, error: err };
    }
    const r = await kubeRequest<KubeObject>(client, 'PATCH', p, {
      query: { fieldManager: FIELD_MANAGER, force: 'true', ...(opts.dryRun ? { dryRun: 'All' } : {}) },
      body: object,
      contentType: k8s.PatchStrategy.ServerSideApply,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (r.status >= 400) return { ref, object, ok: false, error: new KubeApiError(`apply ${ref}`, asApiException(r)) };
    return { ref, object, ok: true, applied: r.body };
  } catch (err) {
    return { ref, object, ok: false, error: new KubeApiError(`apply ${ref}`, err) };
  }
}

/** Apply many objects; CRDs and Namespaces first. Never throws for a rejected object: read each result. */
export async function applyAll(client: KubeClient, objects: readonly KubeObject[], opts: ApplyOptions = {}): Promise<ApplyResult[]> {
  const first = objects.filter((o) => FIRST.has(o.kind));
  const rest = objects.filter((o) => !FIRST.has(o.kind));
  const results: ApplyResult[] = [];
  for (const o of first) results.push(await applyOne(client, o, opts));
  const crds = results.filter((r) => r.ok && r.object.kind === 'CustomResourceDefinition').map((r) => r.object.metadata.name);
  if (crds.length && !opts.dryRun) await waitForCrdsEstablished(client, crds, opts.crdTimeoutMs ?? 60_000, opts.signal);
  for (const o of rest) results.push(await applyOne(client, o, opts));
  return results;
}

/** Throw one error listing every rejected object (for callers that need all-or-nothing). */
export function assertApplied(results: readonly ApplyResult[]): void {
  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    throw new Error(`${failed.length} of ${results.length} object(s) were rejected:\n${failed.map((r) => r.error?.message).join('\n')}`);
  }
}

async function waitForCrdsEstablished(client: KubeClient, names: string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const api = client.kc.makeApiClient(k8s.ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  let pending = [...names];
  while (pending.length) {
    signal?.throwIfAborted();
    const still: string[] = [];
    for (const name of pending) {
      const crd = await api.readCustomResourceDefinition({ name }).catch(() => undefined);
      const established = crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      if (!established) still.push(name);
    }
    pending = still;
    if (!pending.length) break;
    if (Date.now() > deadline) throw new Error(`CRDs not Established within ${timeoutMs / 1000} s: ${pending.join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
