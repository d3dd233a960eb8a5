/**
 * Plain requests to the API server with the client's credentials. Used where client-node's typed layer gets in
 * the way: KubernetesObjectApi serialises an object through its model classes by kind (src/object.ts,
 * ObjectSerializer.serialize(spec, type)), which silently drops manifest keys spelled the wire way — a
 * CustomResourceDefinition loses every `x-kubernetes-int-or-string` and the API server then rejects Istio's
 * CRDs. Manifests are sent here exactly as written.
 */
import * as k8s from '@kubernetes/client-node';
import { fetch } from 'undici';
import type { KubeClient } from './client.ts';

export interface RawResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
}

export async function kubeRequest<T = unknown>(
  client: KubeClient,
  method: 'GET' | 'PATCH' | 'POST' | 'PUT' | 'DELETE',
  apiPath: string,
  o: { query?: Record<string, string | undefined>; body?: unknown; contentType?: string; signal?: AbortSignal } = {},
): Promise<RawResponse<T>> {
  const cluster = client.kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + apiPath);
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
  const ctx = new k8s.RequestContext(url.toString(), method as k8s.HttpMethod);
  await client.kc.applySecurityAuthentication(ctx);
  const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
  if (o.body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
    dispatcher: ctx.getDispatcher() as never,
    signal: o.signal ?? AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (e.g. "404 page not found"): keep the text
  }
  return { status: res.status, body: body as T, text };
}

/** Turn a non-2xx raw response into the ApiException client-node would have thrown (so one error path reads both). */
export function asApiException(r: RawResponse): k8s.ApiException<unknown> {
  return new k8s.ApiException(r.status, `HTTP ${r.status}`, r.body ?? r.text, {});
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const discoveryCache = new WeakMap<KubeClient, Map<string, ApiResource[]>>();

/** The REST resource of an apiVersion + kind, by discovery (cached per client; refreshed once on a miss). */
export async function resourceFor(client: KubeClient, apiVersion: string, kind: string): Promise<ApiResource | undefined> {
  let cache = discoveryCache.get(client);
  if (!cache) discoveryCache.set(client, (cache = new Map()));
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    let list = attempt === 0 ? cache.get(apiVersion) : undefined;
    if (!list) {
      const r = await kubeRequest<{ resources?: ApiResource[] }>(client, 'GET', base);
      if (r.status === 404) list = [];
      else if (r.status >= 400) throw asApiException(r);
      else list = (r.body.resources ?? []).filter((x) => !x.name.includes('/'));
      cache.set(apiVersion, list);
    }
    const hit = list.find((x) => x.kind === kind);
    if (hit) return hit;
  }
  return undefined;
}

/** The URL path of one object (namespaced or not), or undefined when the cluster does not serve its kind. */
export async function objectPath(client: KubeClient, o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<string | undefined> {
  const res = await resourceFor(client, o.apiVersion, o.kind);
  if (!res) return undefined;
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  const ns = res.namespaced ? `/namespaces/${encodeURIComponent(o.metadata.namespace ?? 'default')}` : '';
  return `${base}${ns}/${res.name}/${encodeURIComponent(o.metadata.name)}`;
}
