/**
 * A watch that lives as long as the run, not 30 seconds. client-node 2.0.1's Watch aborts after 30 s without
 * data (src/watch.ts: an inactivity timer of requestTimeoutMs = 30000; 2.0.0 aborted even busy watches,
 * kubernetes-client/javascript#3020), and the API server itself ends every watch after --min-request-timeout
 * (a random 30–60 min) or the timeoutSeconds asked for. So: ask the server for bookmarks and a timeout below the
 * client's, and when a watch ends for any reason resume from the last resourceVersion seen; on 410 Gone (that
 * version was compacted) list again and resume from the list's version. Consumers see one unbroken stream.
 */
import * as k8s from '@kubernetes/client-node';
import type { KubeClient } from './client.ts';
import { kubeRequest } from './raw.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface ResilientWatchOptions<T extends WatchedObject> {
  /** API path of the collection, e.g. /api/v1/pods or /apis/apps/v1/namespaces/x/deployments. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Each event, in order. Objects present at start arrive as ADDED (from the initial list). */
  onEvent: (type: WatchEventType, object: T) => void;
  signal: AbortSignal;
  /** Seconds the server keeps one watch request open (below the client's inactivity limit is not needed: bookmarks). */
  serverTimeoutSeconds?: number;
  /** Called when a watch request ended and a new one starts (for diagnostics and tests). */
  onReconnect?: (why: string, resourceVersion: string) => void;
}

export interface WatchHandle {
  /** Resolves when the signal aborts and the last request is closed. */
  done: Promise<void>;
  /** How many watch requests were made (1 + reconnects). */
  requests: () => number;
}

async function listFrom<T extends WatchedObject>(client: KubeClient, o: ResilientWatchOptions<T>): Promise<{ items: T[]; resourceVersion: string }> {
  const r = await kubeRequest<{ items?: T[]; metadata?: { resourceVersion?: string } }>(client, 'GET', o.path, {
    query: { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector },
    signal: o.signal,
  });
  if (r.status >= 400) throw new Error(`list ${o.path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return { items: r.body.items ?? [], resourceVersion: r.body.metadata?.resourceVersion ?? '' };
}

export function watchResilient<T extends WatchedObject>(client: KubeClient, o: ResilientWatchOptions<T>): WatchHandle {
  const watch = new k8s.Watch(client.kc);
  const serverTimeout = o.serverTimeoutSeconds ?? 240;
  // The server sends a bookmark about once a minute; the client must outlast the server's own timeout.
  (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = (serverTimeout + 30) * 1000;
  let requests = 0;
  const done = (async () => {
    let rv = '';
    let needList = true;
    while (!o.signal.aborted) {
      if (needList) {
        const list = await listFrom(client, o).catch((err: Error) => {
          if (o.signal.aborted) return undefined;
          throw err;
        });
        if (!list) break;
        for (const item of list.items) o.onEvent('ADDED', item);
        rv = list.resourceVersion;
        needList = false;
      }
      const ended = await new Promise<{ why: string; gone: boolean }>((resolve) => {
        requests++;
        let controller: AbortController | undefined;
        const onAbort = () => controller?.abort();
        o.signal.addEventListener('abort', onAbort, { once: true });
        watch
          .watch(
            o.path,
            {
              resourceVersion: rv,
              allowWatchBookmarks: true,
              timeoutSeconds: serverTimeout,
              labelSelector: o.labelSelector,
              fieldSelector: o.fieldSelector,
            },
            (type, obj: T & { code?: number; reason?: string }) => {
              const newRv = obj?.metadata?.resourceVersion;
              if (type === 'BOOKMARK') {
                if (newRv) rv = newRv;
                return;
              }
              if (type === 'ERROR') {
                // A Status object: 410 Gone means our version was compacted away.
                if (obj.code === 410) controller?.abort(new Error('gone'));
                return;
              }
              if (newRv) rv = newRv;
              o.onEvent(type as WatchEventType, obj);
            },
            (err: unknown) => {
              o.signal.removeEventListener('abort', onAbort);
              const msg = err instanceof Error ? err.message : err ? String(err) : 'closed by the server';
              resolve({ why: msg, gone: /gone|410/i.test(msg) || (err as { statusCode?: number })?.statusCode === 410 });
            },
          )
          .then((c) => {
            controller = c;
            if (o.signal.aborted) c.abort();
          })
          .catch((err: Error) => resolve({ why: err.message, gone: false }));
      });
      if (o.signal.aborted) break;
      if (ended.gone) needList = true;
      o.onReconnect?.(ended.why, rv);
      // A short pause keeps a broken server from turning this into a busy loop.
      await new Promise((r) => setTimeout(r, ended.gone ? 0 : 200));
    }
  })();
  return { done, requests: () => requests };
}
