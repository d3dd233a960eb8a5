/**
 * The echo workload: the one backend every meshcheck suite talks to, on amd64 and on arm64 alike.
 *
 * It answers every request with JSON that says what arrived (method, path, query, headers, protocol, the peer's
 * certificate when it terminated TLS itself) and where it ran (pod, node, arch). Query parameters make it fail,
 * slow down or grow on demand, so routing, retry, timeout and mTLS checks need no other backend.
 *
 * This file is deliberately ONE self-contained module with no dependencies: the container image holds only the
 * official Node binary, the C libraries it links against and this file (`node /app/server.ts`; Node 24 strips the
 * types). So: erasable TypeScript only, node: imports only, no local imports.
 *
 * The retry simulation (`succeedAfter` + `uuid`, `responseCode`, `delayRetry`) follows Gateway API's conformance
 * backend echo-basic (kubernetes-sigs/gateway-api, conformance/echo-basic/echo-basic.go, retrySimulationHandler,
 * before its move to the conformance-images repository), so the upstream retry scenarios can be replayed against
 * this server. Where it differs, README.md says how and why.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import type { TLSSocket } from 'node:tls';

/** Upper bounds, so one bad query cannot pin a connection for ever or allocate without limit. */
export const MAX_DELAY_MS = 60_000;
export const MAX_SIZE_BYTES = 10 * 1024 * 1024;
/** Remembered uuids; the oldest is forgotten first. A suite uses a fresh uuid per probe, so this never bites. */
export const MAX_TRACKED_UUIDS = 100_000;
export const DEFAULT_DRAIN_MS = 20_000;
/** A connection that sends nothing is dropped after this long (kubelet TCP probes connect and close at once). */
const SNIFF_TIMEOUT_MS = 30_000;

/** The HTTP/2 connection preface (RFC 9113 §3.4): a cleartext client with prior knowledge starts with it. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type EchoProtocol = 'HTTP/1.1' | 'HTTP/1.0' | 'h2c' | 'h2' | 'https';

export interface EchoTlsOptions {
  /** PEM contents (not paths): the server certificate chain, its key, and the CA that client certificates are checked against. */
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
  /** Default 8443; 0 picks a free port. */
  port?: number;
}

export interface EchoOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 0.0.0.0. */
  host?: string;
  /** Serve HTTPS (h2 and HTTP/1.1 by ALPN) on a second port as well. */
  tls?: EchoTlsOptions;
  /** How long a graceful close waits for in-flight requests before it cuts them. Default 20 s. */
  drainMs?: number;
  /** Where the identity fields come from (POD_NAME, POD_NAMESPACE, NODE_NAME, SERVICE_NAME, VERSION). Default process.env. */
  env?: Record<string, string | undefined>;
  /** One call per log line. Default: the JSON on stdout. */
  log?: (entry: Record<string, unknown>) => void;
}

export interface EchoServer {
  port: number;
  tlsPort?: number;
  /**
   * Graceful close: stop accepting, answer /readyz with 503, let in-flight requests finish, then drop every
   * connection. Resolves when done, after at most drainMs. Calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** End the drain now: in-flight requests are cut. */
  forceClose(): void;
  readonly draining: boolean;
}

export interface EchoTlsInfo {
  version: string | null;
  alpn: string | null;
  sni: string | null;
  cipher: string | null;
  /** The client certificate's first spiffe:// URI SAN (else its first URI SAN); null without a client certificate. */
  peerIdentity: string | null;
  peerUris: string[];
  /** The client certificate's subject, e.g. "O=demo,CN=client". */
  peerSubject: string | null;
  /** Whether the client certificate chains to the configured CA (requestCert without rejecting: the answer says, the server still serves). */
  peerAuthorized: boolean;
  peerAuthorizationError: string | null;
}

export interface EchoAnswer {
  method: string;
  /** The request target as received, query included. */
  url: string;
  path: string;
  /** Query parameters; a repeated parameter becomes an array. */
  query: Record<string, string | string[]>;
  /** All request headers, lower-case names; repeated headers joined with ", " (cookies with "; "). HTTP/2 pseudo-headers are left out. */
  headers: Record<string, string>;
  host: string | null;
  protocol: EchoProtocol;
  remoteAddress: string | null;
  bodyBytes: number;
  pod: string;
  namespace: string | null;
  node: string | null;
  service: string | null;
  version: string;
  arch: string;
  platform: string;
  /** Present when the request carried `uuid`: which attempt of that uuid this was (1-based). */
  uuid?: string;
  attempt?: number;
  /** Present on a failure that succeedAfter asked for. */
  simulatedFailure?: boolean;
  /** Envoy's x-forwarded-client-cert, parsed: one entry per proxy, keys lower-case (by, hash, uri, subject, dns, cert, chain). */
  forwardedClientCert?: Array<Record<string, string>>;
  /** Present only when this server terminated TLS itself. */
  tls?: EchoTlsInfo;
  /** Filler that brings the body to the requested `size`. */
  padding?: string;
}

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** The part of the two response classes (HTTP/1 and the HTTP/2 compatibility API) this server uses. */
interface Reply {
  statusCode: number;
  headersSent: boolean;
  setHeader(name: string, value: string | number): unknown;
  end(body?: string): unknown;
}

class BadRequest extends Error {
  override name = 'BadRequest';
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as Go's time.ParseDuration reads it ("150ms", "2s", "1m30s", "1.5s"), in milliseconds. echo-basic
 * parses its delay parameters with Go, so the same strings must mean the same here. As in Go, a bare number
 * other than 0 is an error: "delay=100" would otherwise be ambiguous.
 */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new BadRequest(`"${text}" is not a duration (examples: 150ms, 2s, 1m30s)`);
    ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    at = re.lastIndex;
  }
  if (text.length === 0) throw new BadRequest('empty duration');
  return ms;
}

function intParam(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new BadRequest(`${name} must be a whole number, not "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new BadRequest(`${name} must be between ${min} and ${max}, not ${n}`);
  return n;
}

function statusParam(name: string, value: string): number {
  return intParam(name, value, 200, 599);
}

function delayParam(name: string, value: string): number {
  const ms = parseDuration(value);
  if (ms > MAX_DELAY_MS) throw new BadRequest(`${name} must be at most ${MAX_DELAY_MS / 1000}s, not ${value}`);
  return ms;
}

/** Node prints SANs as "URI:a, DNS:b"; a value with a comma or quote is printed as a JSON string. */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  const re = /(?:^|, )URI:("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const m of subjectAltName.matchAll(re)) {
    const raw = m[1]!;
    out.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return out;
}

/**
 * Envoy's x-forwarded-client-cert: elements separated by "," (one per proxy hop), pairs by ";", values optionally
 * quoted (a quoted value may hold , ; and escaped quotes). Istio's sidecar sets By, Hash, Subject and URI.
 */
export function parseXfcc(header: string): Array<Record<string, string>> {
  const elements: Array<Record<string, string>> = [];
  let current: Record<string, string> = {};
  let i = 0;
  const flush = () => {
    if (Object.keys(current).length) elements.push(current);
    current = {};
  };
  while (i < header.length) {
    const eq = header.indexOf('=', i);
    if (eq < 0) break;
    const key = header.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    let value = '';
    if (header[j] === '"') {
      j++;
      while (j < header.length && header[j] !== '"') {
        if (header[j] === '\\' && j + 1 < header.length) j++;
        value += header[j];
        j++;
      }
      j++; // closing quote
    } else {
      while (j < header.length && header[j] !== ';' && header[j] !== ',') value += header[j++];
    }
    current[key] = value;
    const sep = header[j];
    i = j + 1;
    if (sep === ',') flush();
  }
  flush();
  return elements;
}

function tlsInfoOf(socket: TLSSocket): EchoTlsInfo {
  const cert = socket.getPeerCertificate();
  const hasPeer = Boolean(cert && cert.raw);
  let subject: string | null = null;
  let uris: string[] = [];
  if (hasPeer) {
    const x509 = new X509Certificate(cert.raw);
    subject = x509.subject.split('\n').join(',');
    uris = uriSans(x509.subjectAltName);
  }
  const authError = socket.authorizationError as unknown;
  return {
    version: socket.getProtocol() ?? null,
    alpn: socket.alpnProtocol || null,
    sni: (socket as TLSSocket & { servername?: string | false }).servername || null,
    cipher: socket.getCipher()?.name ?? null,
    peerIdentity: uris.find((u) => u.startsWith('spiffe://')) ?? uris[0] ?? null,
    peerUris: uris,
    peerSubject: subject,
    peerAuthorized: hasPeer && socket.authorized,
    peerAuthorizationError: hasPeer && authError ? String(authError) : null,
  };
}

/**
 * The body, brought to exactly `size` bytes: a `padding` field when there is room for one, trailing spaces
 * (still valid JSON) for the last few bytes. A size below the natural length leaves the body as it is.
 */
function padTo(body: string, answer: EchoAnswer, size: number): string {
  const natural = Buffer.byteLength(body);
  if (size <= natural) return body;
  const framed = JSON.stringify({ ...answer, padding: '' });
  const room = size - Buffer.byteLength(framed);
  if (room < 0) return body + ' '.repeat(size - natural);
  return JSON.stringify({ ...answer, padding: 'x'.repeat(room) });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface AttemptRecord {
  attempts: number;
  failed: number;
}

/** Start the echo server. Resolves once every port listens. */
export async function startEcho(opts: EchoOptions = {}): Promise<EchoServer> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((entry: Record<string, unknown>) => console.log(JSON.stringify(entry)));
  const drainMs = opts.drainMs ?? DEFAULT_DRAIN_MS;
  const identity = {
    pod: env.POD_NAME || os.hostname(),
    namespace: env.POD_NAMESPACE || null,
    node: env.NODE_NAME || null,
    service: env.SERVICE_NAME || null,
    version: env.VERSION || 'v1',
  };

  const attempts = new Map<string, AttemptRecord>();
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  let inflight = 0;
  let draining = false;
  let closed: Promise<void> | undefined;
  let finishDrain: ((forced: boolean) => void) | undefined;

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const trackSession = (session: http2.Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // A client that goes away mid-stream makes the session emit 'error'; that is the client's business, not a crash.
    session.on('error', () => {});
    if (draining) session.close();
  };

  function send(res: Res, req: Req, status: number, body: string, extraHeaders: Record<string, string> = {}): void {
    const r = res as unknown as Reply;
    // The client may have gone while we slept (delay): then there is nobody to answer.
    if (r.headersSent || ('stream' in res ? res.stream.destroyed : res.destroyed)) return;
    r.statusCode = status;
    r.setHeader('content-type', 'application/json');
    r.setHeader('x-content-type-options', 'nosniff');
    r.setHeader('x-echo-pod', identity.pod);
    r.setHeader('x-echo-version', identity.version);
    r.setHeader('x-echo-arch', process.arch);
    for (const [k, v] of Object.entries(extraHeaders)) r.setHeader(k, v);
    // HTTP/1 has no GOAWAY: while draining, this is how a keep-alive client learns not to send here again.
    // (An HTTP/2 response must not carry connection-specific headers; its session got a GOAWAY instead.)
    if (draining && req.httpVersionMajor === 1) r.setHeader('connection', 'close');
    r.end(body);
  }

  /** echo-basic's X-Echo-Set-Header: "Name: value, Other: value" asks for those response headers. */
  function echoSetHeaders(req: Req): Record<string, string> {
    const raw = req.headers['x-echo-set-header'];
    const out: Record<string, string> = {};
    for (const list of Array.isArray(raw) ? raw : raw ? [raw] : []) {
      for (const kv of list.split(',')) {
        const colon = kv.indexOf(':');
        if (colon <= 0) continue;
        const name = kv.slice(0, colon).trim();
        const value = kv.slice(colon + 1).trim();
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) continue;
        out[name] = out[name] === undefined ? value : `${out[name]},${value}`;
      }
    }
    return out;
  }

  function headersOf(req: Req): Record<string, string> {
    // rawHeaders (both protocols have it) keeps every occurrence; req.headers drops repeats of some names.
    const out: Record<string, string> = {};
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (name.startsWith(':')) continue;
      const prior = out[name];
      out[name] = prior === undefined ? raw[i + 1]! : `${prior}${name === 'cookie' ? '; ' : ', '}${raw[i + 1]!}`;
    }
    return out;
  }

  function queryOf(url: URL): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prior = out[k];
      out[k] = prior === undefined ? v : Array.isArray(prior) ? [...prior, v] : [prior, v];
    }
    return out;
  }

  function protocolOf(req: Req, tls: boolean): EchoProtocol {
    if (req.httpVersionMajor === 2) return tls ? 'h2' : 'h2c';
    if (tls) return 'https';
    return req.httpVersion === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
  }

  function tlsSocketOf(req: Req): TLSSocket | undefined {
    // HTTP/1 over TLS: the request's socket. HTTP/2: the session's socket, a proxy whose methods are bound to the
    // TLSSocket underneath (so getPeerCertificate works through it).
    return ('stream' in req ? req.stream.session?.socket : req.socket) as TLSSocket | undefined;
  }

  async function handle(req: Req, res: Res, tls: boolean): Promise<void> {
    let bodyBytes = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) bodyBytes += chunk.length;
    const target = req.url ?? '/';
    const url = new URL(target, 'http://echo.invalid');
    const path = url.pathname;
    const q = url.searchParams;

    if (path === '/healthz') return send(res, req, 200, JSON.stringify({ status: 'ok' }));
    if (path === '/readyz') {
      return draining ? send(res, req, 503, JSON.stringify({ ready: false, reason: 'draining' })) : send(res, req, 200, JSON.stringify({ ready: true }));
    }
    if (path === '/attempts') {
      const uuid = q.get('uuid');
      if (!uuid) throw new BadRequest('uuid is required');
      const rec = attempts.get(uuid);
      return send(res, req, 200, JSON.stringify({ uuid, attempts: rec?.attempts ?? 0, failed: rec?.failed ?? 0 }));
    }

    // Validate every control before anything is counted, so a malformed request is not an attempt.
    const statusText = q.get('status');
    let status = statusText === null ? undefined : statusParam('status', statusText);
    const statusPath = /^\/status\/(\d{3})$/.exec(path); // echo-basic's /status/NNN
    if (statusPath && status === undefined) status = statusParam('status', statusPath[1]!);
    const delayText = q.get('delay');
    const delay = delayText === null ? 0 : delayParam('delay', delayText);
    const delayRetryText = q.get('delayRetry');
    const delayRetry = delayRetryText === null ? 0 : delayParam('delayRetry', delayRetryText);
    const sizeText = q.get('size');
    const size = sizeText === null ? 0 : intParam('size', sizeText, 0, MAX_SIZE_BYTES);
    const responseCodeText = q.get('responseCode');
    const responseCode = responseCodeText === null ? undefined : statusParam('responseCode', responseCodeText);
    const failure = q.get('failure') ?? 'status';
    if (failure !== 'status' && failure !== 'reset') throw new BadRequest(`failure must be "status" or "reset", not "${failure}"`);
    const succeedAfterText = q.get('succeedAfter');
    const succeedAfter = succeedAfterText === null ? undefined : intParam('succeedAfter', succeedAfterText, 0, 1_000_000);
    const uuid = q.get('uuid') ?? undefined;
    // echo-basic answers 400 on /retry/ without these two; so does this server, and on any path with succeedAfter.
    if ((succeedAfter !== undefined || path.startsWith('/retry/')) && !uuid) throw new BadRequest('uuid is required');
    if (path.startsWith('/retry/') && succeedAfter === undefined) throw new BadRequest('succeedAfter is required');

    // Every request that carries a uuid is an attempt, with or without succeedAfter: /attempts then says how
    // many times a proxy sent it (a mesh retry policy at work), even for a plain status=503.
    let attempt: number | undefined;
    let failing = false;
    if (uuid !== undefined) {
      let rec = attempts.get(uuid);
      if (!rec) {
        if (attempts.size >= MAX_TRACKED_UUIDS) attempts.delete(attempts.keys().next().value!);
        rec = { attempts: 0, failed: 0 };
        attempts.set(uuid, rec);
      }
      rec.attempts++;
      attempt = rec.attempts;
      // echo-basic: fail while fewer than succeedAfter attempts have failed, then echo. Decided and counted in one
      // step (one thread), so concurrent attempts of one uuid cannot both take the last failure.
      if (succeedAfter !== undefined && rec.failed < succeedAfter) {
        rec.failed++;
        failing = true;
      }
    }

    const tlsSocket = tls ? tlsSocketOf(req) : undefined;
    const xfcc = req.headers['x-forwarded-client-cert'];
    const answer: EchoAnswer = {
      method: req.method ?? 'GET',
      url: target,
      path,
      query: queryOf(url),
      headers: headersOf(req),
      host: (req.headers.host ?? req.headers[':authority'] ?? null) as string | null,
      protocol: protocolOf(req, tls),
      remoteAddress: req.socket?.remoteAddress ?? null,
      bodyBytes,
      ...identity,
      arch: process.arch,
      platform: process.platform,
      ...(uuid !== undefined ? { uuid, attempt: attempt! } : {}),
      ...(failing ? { simulatedFailure: true } : {}),
      ...(typeof xfcc === 'string' ? { forwardedClientCert: parseXfcc(xfcc) } : {}),
      ...(tlsSocket ? { tls: tlsInfoOf(tlsSocket) } : {}),
    };

    if (failing) {
      if (delayRetry) await sleep(delayRetry);
      if (responseCode === undefined && failure === 'reset') return resetRequest(req);
      return send(res, req, responseCode ?? status ?? 503, padTo(JSON.stringify(answer), answer, size), echoSetHeaders(req));
    }
    if (delay) await sleep(delay);
    send(res, req, status ?? 200, padTo(JSON.stringify(answer), answer, size), echoSetHeaders(req));
  }

  /** echo-basic's TCP failure mode: abort with a reset, so the client sees no HTTP answer at all. */
  function resetRequest(req: Req): void {
    if ('stream' in req) {
      // HTTP/2: reset this stream only (RST_STREAM); other requests multiplexed on the connection are unharmed.
      req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    } else {
      req.socket.resetAndDestroy();
    }
  }

  function onRequest(tls: boolean) {
    return (req: Req, res: Res) => {
      inflight++;
      let done = false;
      const finished = () => {
        if (done) return;
        done = true;
        inflight--;
        if (draining && inflight === 0) finishDrain?.(false);
      };
      res.once('finish', finished);
      res.once('close', finished);
      handle(req, res, tls).catch((err: unknown) => {
        if (err instanceof BadRequest) send(res, req, 400, JSON.stringify({ error: err.message }));
        else if (req.destroyed) {
          // The client went away while its body was being read: nothing to answer, nothing to report.
        } else {
          log({ msg: 'request failed', error: String(err) });
          send(res, req, 500, JSON.stringify({ error: String(err) }));
        }
      });
    };
  }

  const h1 = http.createServer(onRequest(false));
  // Node's 5 s default closes idle keep-alive connections so soon that a proxy's pooled connection can be closed
  // just as the proxy reuses it: a 503 the mesh would be blamed for. Outlast the usual proxy/LB idle timeouts.
  h1.keepAliveTimeout = 65_000;
  const h2c = http2.createServer(onRequest(false));
  h2c.on('session', trackSession);

  // One cleartext port for both HTTP/1.1 and prior-knowledge h2c: look at the first bytes of each connection.
  const plain = net.createServer((socket) => {
    track(socket);
    const idle = () => socket.destroy();
    socket.setTimeout(SNIFF_TIMEOUT_MS);
    socket.once('timeout', idle);
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      const isH2 = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && seen.length < H2_PREFACE.length) return; // could still be the preface: wait for more
      socket.removeListener('data', onData);
      socket.setTimeout(0);
      socket.off('timeout', idle);
      socket.pause();
      socket.unshift(seen);
      if (isH2) {
        // The HTTP/2 session reads what is already buffered on the socket itself, then takes over the handle.
        h2c.emit('connection', socket);
      } else {
        h1.emit('connection', socket);
        socket.resume(); // the HTTP/1 parser reads through 'data' events: let the buffered request flow
      }
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  });

  let secure: http2.Http2SecureServer | undefined;
  if (opts.tls) {
    secure = http2.createSecureServer(
      {
        cert: opts.tls.cert,
        key: opts.tls.key,
        ...(opts.tls.ca ? { ca: opts.tls.ca } : {}),
        allowHTTP1: true, // ALPN offers h2 and http/1.1
        requestCert: true, // ask for a client certificate, to report its identity…
        rejectUnauthorized: false, // …but serve clients without one, or with one the CA does not sign
      },
      onRequest(true),
    );
    secure.on('connection', track);
    secure.on('session', trackSession);
    secure.on('tlsClientError', () => {});
  }

  const listen = (server: net.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, opts.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });

  const port = await listen(plain, opts.port ?? 8080);
  const tlsPort = secure ? await listen(secure, opts.tls?.port ?? 8443) : undefined;

  log({ msg: 'echo listening', port, ...(tlsPort !== undefined ? { tlsPort } : {}), version: identity.version, arch: process.arch, platform: process.platform, node: process.version, pod: identity.pod, drainMs });

  let drainTimer: NodeJS.Timeout | undefined;
  const server: EchoServer = {
    port,
    ...(tlsPort !== undefined ? { tlsPort } : {}),
    get draining() {
      return draining;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        draining = true;
        const started = Date.now();
        log({ msg: 'draining', inflight, drainMs });
        finishDrain = (forced) => {
          finishDrain = undefined;
          clearTimeout(drainTimer);
          const abandoned = inflight;
          for (const s of sockets) s.destroy();
          for (const s of sessions) s.destroy();
          h1.close();
          h2c.close();
          log({ msg: 'drained', forced, abandoned, ms: Date.now() - started });
          resolve();
        };
        // New connections are refused from here on; the ones already open are served until the drain ends.
        plain.close();
        secure?.close();
        for (const s of sessions) s.close(); // GOAWAY: streams already open finish, new ones go elsewhere
        drainTimer = setTimeout(() => finishDrain?.(true), drainMs);
        if (inflight === 0) finishDrain(false);
      });
      return closed;
    },
    forceClose() {
      if (!closed) void server.close();
      finishDrain?.(true);
    },
  };
  return server;
}

/** The container's entry point: configuration from the environment, graceful exit on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const env = process.env;
  const num = (name: string, fallback: number) => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    if (!/^\d+$/.test(v)) throw new Error(`${name} must be a whole number, not "${v}"`);
    return Number(v);
  };
  const tlsPort = env.TLS_PORT ? num('TLS_PORT', 8443) : undefined;
  if (tlsPort !== undefined && (!env.TLS_CERT || !env.TLS_KEY)) throw new Error('TLS_PORT is set: TLS_CERT and TLS_KEY must name the certificate and key files');
  const server = await startEcho({
    port: num('PORT', 8080),
    host: env.HOST || '0.0.0.0',
    drainMs: num('DRAIN_MS', DEFAULT_DRAIN_MS),
    ...(tlsPort !== undefined
      ? { tls: { port: tlsPort, cert: readFileSync(env.TLS_CERT!), key: readFileSync(env.TLS_KEY!), ...(env.TLS_CA ? { ca: readFileSync(env.TLS_CA) } : {}) } }
      : {}),
  });
  // Registering handlers matters beyond draining: as PID 1 without an init, Node would otherwise ignore SIGTERM.
  const onSignal = (signal: string) => {
    if (server.draining) {
      server.forceClose(); // a second signal: stop waiting
      return;
    }
    console.log(JSON.stringify({ msg: 'signal', signal }));
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(JSON.stringify({ msg: 'echo failed to start', error: err instanceof Error ? err.message : String(err) }));
    process.exit(1);
  });
}
