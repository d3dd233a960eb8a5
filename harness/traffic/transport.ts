/**
 * The HTTP side: one undici `Pool` per target with a fixed number of keep-alive connections, opened before the
 * measured window, and the timestamps of each request taken at the moments undici reaches them.
 *
 * Why undici (anchors-latency.md §4.3, measured on this kind of machine): ~26 µs of client CPU per request with
 * `request()`, 2.8× cheaper than node:http and 10× cheaper than `fetch`, which is never used here.
 *
 * Two ways to send (`ClientMode`), both on the same Pool:
 *  - `request`: `pool.request()` + `body.dump()`, with an interceptor whose handler stamps the times. The promise
 *    of `request()` settles a microtask or more after the headers arrive, and `body.dump()` settles on the
 *    stream's 'close', later again, so the handler stamps rather than the promises.
 *  - `dispatch` (the default): `pool.dispatch()` with one small handler per request that stamps the times and
 *    discards the body, which is what `body.dump()` does, without the Readable, the AsyncResource and the two
 *    promises. Measured here: plain `request()` + `dump()` at 1,000 req/s (no meshcheck code involved) promoted
 *    ~3 KB per request into V8's old generation (12.6 MB for 4,121 requests) against ~0.8 KB with `dispatch`, and
 *    its scavenges paused the event loop 2.3 ms at the median against 0.6 ms; those pauses are what makes
 *    requests leave late. In the bench at 18,000 req/s (setTimeout scheduler) `dispatch` cost 26.5 µs of CPU per
 *    request against 38.6 µs. In a warmed-up process at 1,000 req/s both reach lateness p99 of 1-2 µs.
 *    §7 "Transport" names dispatch for exactly this last stretch.
 * Either way the handler sees `onRequestStart` (just before the request is written to the socket),
 * `onResponseStart` (headers parsed) and `onResponseEnd` (last byte parsed).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, Pool } from 'undici';
import type { RequestTiming } from './recorder.ts';

class StampingHandler implements Dispatcher.DispatchHandler {
  #inner: Dispatcher.DispatchHandler;
  #t: RequestTiming;
  constructor(inner: Dispatcher.DispatchHandler, t: RequestTiming) {
    this.#inner = inner;
    this.#t = t;
  }
  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    // Called again if undici ever re-sends the request on another socket; the last write counts.
    this.#t.written = performance.now();
    this.#inner.onRequestStart?.(controller, context);
  }
  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, socket: import('node:stream').Duplex): void {
    this.#inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }
  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    // 1xx interim responses come first and are not the answer.
    if (statusCode >= 200 && this.#t.firstByte === 0) {
      this.#t.firstByte = performance.now();
      this.#t.status = statusCode;
    }
    this.#inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#inner.onResponseData?.(controller, chunk);
  }
  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#t.done = performance.now();
    this.#inner.onResponseEnd?.(controller, trailers);
  }
  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#t.done === 0) this.#t.done = performance.now();
    // `body.dump()` swallows body errors and resolves on 'close'; this is how a reset mid-body is still seen.
    this.#t.bodyError ??= error;
    this.#inner.onResponseError?.(controller, error);
  }
  onRequestSent(): void {
    this.#inner.onRequestSent?.();
  }
  onResponseStarted(): void {
    this.#inner.onResponseStarted?.();
  }
}

/** Requests whose `opaque` is a RequestTiming get stamped; others (the connection warm-up) pass through. */
function stamping(dispatch: Dispatcher.Dispatch): Dispatcher.Dispatch {
  return (opts, handler) => {
    const t = (opts as { opaque?: unknown }).opaque;
    return dispatch(opts, t && typeof t === 'object' && 'intended' in t ? new StampingHandler(handler, t as RequestTiming) : handler);
  };
}

/** `dispatch` mode: stamps, discards the body, and reports the outcome once. */
class TimedHandler implements Dispatcher.DispatchHandler {
  #t: RequestTiming;
  #settle: Settle;
  constructor(t: RequestTiming, settle: Settle) {
    this.#t = t;
    this.#settle = settle;
  }
  onRequestStart(): void {
    this.#t.written = performance.now();
  }
  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    if (statusCode >= 200 && this.#t.firstByte === 0) {
      this.#t.firstByte = performance.now();
      this.#t.status = statusCode;
    }
  }
  onResponseData(): void {}
  onResponseEnd(): void {
    if (this.#t.done !== 0) return;
    this.#t.done = performance.now();
    this.#settle(this.#t, undefined);
  }
  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#t.done !== 0) return;
    this.#t.done = performance.now();
    this.#settle(this.#t, error);
  }
}

export type ClientMode = 'dispatch' | 'request';

/** Called exactly once per request: `err` is undefined when a response was read to its end. */
export type Settle = (t: RequestTiming, err: unknown) => void;

export interface RequestShape {
  path: string;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body: string | null;
}

/** A function that sends one request and calls `settle` when it is over. */
export function sender(t: Transport, mode: ClientMode, shape: RequestShape, settle: Settle): (timing: RequestTiming) => void {
  const { path, method, headers, body } = shape;
  if (mode === 'dispatch') {
    const pool = t.pool;
    const opts = { path, method, headers, body };
    return (timing) => {
      pool.dispatch(opts, new TimedHandler(timing, settle));
    };
  }
  const dispatcher = t.dispatcher;
  const dumpOpts = { limit: Number.MAX_SAFE_INTEGER };
  return (timing) => {
    dispatcher.request({ path, method, headers, body, opaque: timing }).then(
      (res) => {
        if (timing.status === 0) timing.status = res.statusCode;
        return res.body.dump(dumpOpts).then(
          () => settle(timing, timing.bodyError),
          (e: unknown) => settle(timing, e),
        );
      },
      (err: unknown) => settle(timing, err),
    );
  };
}

export interface TransportOptions {
  connections: number;
  /** Headers and body timeout per request, ms. */
  timeoutMs: number;
  /** How long an idle connection stays open, ms; longer than any pause of the run. */
  keepAliveMs: number;
}

export interface Transport {
  origin: string;
  /** Path with query, as given in the URL. */
  path: string;
  pool: Pool;
  /** The pool with the stamping interceptor; requests go through this. */
  dispatcher: Dispatcher;
  socketsOpened(): number;
}

export function openTransport(url: string, o: TransportOptions): Transport {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RangeError(`the target must be an http:// or https:// URL, got ${url}`);
  const pool = new Pool(u.origin, {
    connections: o.connections,
    // HTTP/1.1 with one request per connection at a time, as the Istio benchmark runs fortio (§1.6) and as
    // Envoy's HTTP/1 upstreams expect; h2 would multiplex everything onto one socket.
    pipelining: 1,
    allowH2: false,
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
    connectTimeout: Math.min(o.timeoutMs, 10_000),
    keepAliveTimeout: o.keepAliveMs,
    keepAliveMaxTimeout: Math.max(o.keepAliveMs, 600_000),
  });
  let opened = 0;
  pool.on('connect', () => {
    opened++;
  });
  return {
    origin: u.origin,
    path: `${u.pathname}${u.search}`,
    pool,
    dispatcher: pool.compose(stamping),
    socketsOpened: () => opened,
  };
}

/**
 * Open all `connections` sockets before the window (§1.1: fortio does one warm-up call per connection; §7: "pre-warm
 * all sockets before t0"). Requests sent all at once make the pool open a new socket for each, up to its size;
 * rounds repeat until every socket is connected. Throws the first error if the target cannot be reached at all.
 */
export async function warmConnections(t: Transport, size: number, method: Dispatcher.HttpMethod, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let round = 0; ; round++) {
    // `size` requests at once: free connections take some, the pool opens a new socket for each of the others.
    const results = await Promise.allSettled(
      Array.from({ length: size }, () => t.pool.request({ path: t.path, method, headers }).then((r) => r.body.dump({ limit: Number.MAX_SAFE_INTEGER }))),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed && results.every((r) => r.status === 'rejected')) throw (failed as PromiseRejectedResult).reason;
    if (t.pool.stats.connected >= size || round >= 20 || performance.now() > deadline) return;
  }
}
