/**
 * One HTTP exchange recorded as evidence: what was sent, what came back (status, headers, parsed JSON body) or
 * the transport error. Used from the runner (ingress through the host port mapping) and by the oracle tests.
 */
import tls from 'node:tls';
import { type Dispatcher, request } from 'undici';
import type { Exchange } from '../oracles/evidence.ts';

export interface ExchangeOptions {
  method?: string;
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
  timeoutMs?: number;
  /** ms origin for `at`. */
  t0?: number;
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export async function exchange(url: string, o: ExchangeOptions = {}): Promise<Exchange> {
  const t0 = o.t0 ?? 0;
  const started = performance.now();
  const req = { method: o.method ?? 'GET', url, ...(o.headers ? { headers: o.headers } : {}), ...(url.startsWith('https:') ? { tls: true } : {}) };
  try {
    const r = await request(url, {
      method: (o.method ?? 'GET') as Dispatcher.HttpMethod,
      ...(o.headers ? { headers: o.headers } : {}),
      ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
    const text = await r.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { request: req, response: { status: r.statusCode, headers: flatHeaders(r.headers), body }, at: Math.round(started - t0), durationMs: Math.round(performance.now() - started) };
  } catch (err) {
    // A retrying client that gave up reports the last status on its error (undici RequestRetryError.statusCode).
    const e = err as Error & { code?: string; statusCode?: number };
    return { request: req, error: `${e.code ?? e.name}: ${e.message}${e.statusCode ? ` (last status ${e.statusCode})` : ''}`, at: Math.round(started - t0), durationMs: Math.round(performance.now() - started) };
  }
}

/** The subject alt names of the certificate a TLS server presents for `servername` (e.g. ["DNS:shop.example"]). */
export async function presentedSans(host: string, port: number, servername: string, ca?: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername, ...(ca ? { ca } : { rejectUnauthorized: false }) }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve((cert.subjectaltname ?? '').split(',').map((s) => s.trim()).filter(Boolean));
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', reject);
  });
}
