/**
 * What went wrong with one request, as a short kind. Errors are counted by kind and timed in their own histogram,
 * never in the latency histograms (anchors-latency.md §7: fortio keeps `ErrorsDurationHistogram` apart; a fast
 * 503 mixed into the latency would make a failing mesh look quick).
 */

export type ErrorKind =
  | 'http-1xx'
  | 'http-3xx'
  | 'http-4xx'
  | 'http-5xx'
  | 'http-other'
  | 'timeout'
  | 'connect-timeout'
  | 'connection-reset'
  | 'connection-refused'
  | 'dns'
  | 'aborted'
  | 'other';

/** Success is a 2xx; every other final status is an error of its class. */
export function statusKind(status: number): ErrorKind | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status >= 100 && status < 200) return 'http-1xx';
  if (status >= 300 && status < 400) return 'http-3xx';
  if (status >= 400 && status < 500) return 'http-4xx';
  if (status >= 500 && status < 600) return 'http-5xx';
  return 'http-other';
}

/** From undici's and Node's error codes (undici's `lib/core/errors.js`, libuv's errno names). */
export function errorKind(err: unknown): ErrorKind {
  const e = err as { code?: unknown; name?: unknown; cause?: unknown } | null | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'connect-timeout';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'connection-reset';
    case 'ECONNREFUSED':
      return 'connection-refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'aborted';
  }
  if (e?.name === 'AbortError') return 'aborted';
  // undici wraps socket errors (`SocketError`, "other side closed") and connect errors; the cause has the code.
  if (e?.cause && e.cause !== err) {
    const inner = errorKind(e.cause);
    if (inner !== 'other') return inner;
  }
  return 'other';
}
