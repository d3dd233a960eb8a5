/**
 * Requests sent from inside the cluster: `node` in the client pod (the echo image carries Node) runs a small
 * script with the requests as JSON and prints one JSON array of exchanges. Through client-node's Exec, whose
 * exit status arrives only on the status channel (anchors-style.md, pitfall 7): the promise resolves on it.
 * Only on a cluster with running pods (the project's GitHub workflow); the script itself is tested here.
 */
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import type { KubeClient } from '../../harness/kube/client.ts';
import type { Exchange } from '../oracles/evidence.ts';

export interface PodRequest {
  url: string;
  headers?: Record<string, string>;
  count?: number;
}

/** The script run in the pod: ES module, global fetch, no dependencies. argv[1] is the JSON of the requests. */
export const IN_POD_SCRIPT = `
const reqs = JSON.parse(process.argv[1]);
const t0 = performance.now();
const out = [];
for (const r of reqs) {
  for (let i = 0; i < (r.count ?? 1); i++) {
    const started = performance.now();
    const request = { method: 'GET', url: r.url, headers: r.headers };
    try {
      const res = await fetch(r.url, { headers: r.headers ?? {}, signal: AbortSignal.timeout(10000) });
      const text = await res.text();
      let body = text;
      try { body = JSON.parse(text); } catch {}
      out.push({ request, response: { status: res.status, headers: Object.fromEntries(res.headers), body }, at: Math.round(started - t0), durationMs: Math.round(performance.now() - started) });
    } catch (e) {
      out.push({ request, error: String(e?.cause?.code ?? e?.name) + ': ' + String(e?.cause?.message ?? e?.message), at: Math.round(started - t0), durationMs: Math.round(performance.now() - started) });
    }
  }
}
process.stdout.write(JSON.stringify(out));
`;

export function inPodCommand(requests: PodRequest[]): string[] {
  return ['node', '--input-type=module', '-e', IN_POD_SCRIPT, JSON.stringify(requests)];
}

export async function sendFromPod(client: KubeClient, namespace: string, requests: PodRequest[], container = 'echo'): Promise<Exchange[]> {
  const pods = await client.core.listNamespacedPod({ namespace, labelSelector: 'app=client' });
  const pod = pods.items.find((p) => p.status?.phase === 'Running');
  if (!pod?.metadata?.name) throw new Error(`no running client pod in ${namespace} (label app=client)`);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  stderr.on('data', (c: Buffer) => errChunks.push(c));
  const status = await new Promise<k8s.V1Status>((resolve, reject) => {
    new k8s.Exec(client.kc)
      .exec(namespace, pod.metadata!.name!, container, inPodCommand(requests), stdout, stderr, null, false, resolve)
      .then((ws) => ws.on('close', () => resolve({ status: 'Failure', message: 'the connection closed before the command reported its status' })))
      .catch((err: Error) => reject(new Error(`cannot exec into ${namespace}/${pod.metadata!.name}: ${err.message}`)));
  });
  if (status.status !== 'Success') {
    const why = [status.reason, status.message, Buffer.concat(errChunks).toString().trim().slice(-500)].filter(Boolean).join(': ') || JSON.stringify(status);
    throw new Error(`the client script in ${namespace}/${pod.metadata.name} failed (exec through the API server): ${why}`);
  }
  return JSON.parse(Buffer.concat(chunks).toString()) as Exchange[];
}
