/**
 * Test infrastructure: an HTTP proxy in front of a real registry that answers chosen requests with a fault (429,
 * 5xx, a malformed or huge body) and forwards everything else unchanged. The OCI client's retry, size-limit and
 * malformed-response handling is tested against the real registry behind it, not against a mock of the API.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultRule {
  /** Tested against `${method} ${path}`, where path includes the query, e.g. 'GET /v2/x/manifests/1'. */
  match: RegExp;
  /** How many matching requests get the fault; default Infinity. After that they pass through. */
  times?: number;
  respond: { status: number; headers?: Record<string, string>; body?: string | Uint8Array };
}

export interface ProxiedRequest {
  method: string;
  path: string;
  faulted: boolean;
}

export interface FaultProxy extends AsyncDisposable {
  /** host:port of the proxy, to use in place of the upstream's. */
  addr: string;
  /** Every request the proxy received, in arrival order. */
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection; Node sets its own for each side.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

export async function startFaultProxy(upstream: string, rules: FaultRule[]): Promise<FaultProxy> {
  const [upstreamHost, upstreamPort] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.slice(upstream.lastIndexOf(':') + 1))];
  if (!upstreamHost || !Number.isInteger(upstreamPort)) throw new Error(`fault proxy: upstream must be host:port, got ${JSON.stringify(upstream)}`);
  const remaining = rules.map((r) => r.times ?? Number.POSITIVE_INFINITY);
  const requests: ProxiedRequest[] = [];
  let addr = '';

  function pickRule(key: string): FaultRule | undefined {
    for (const [i, rule] of rules.entries()) {
      rule.match.lastIndex = 0; // a /g or /y regex keeps state between test() calls
      if (remaining[i]! > 0 && rule.match.test(key)) {
        remaining[i]!--;
        return rule;
      }
    }
    return undefined;
  }

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const rule = pickRule(`${method} ${path}`);
    requests.push({ method, path, faulted: rule !== undefined });

    if (rule) {
      // Read the request body to its end so the client is not left writing into a closed socket.
      req.resume();
      req.on('end', () => {
        const body = rule.respond.body === undefined ? undefined : Buffer.from(rule.respond.body);
        res.writeHead(rule.respond.status, {
          ...(body ? { 'content-length': String(body.length) } : {}),
          ...rule.respond.headers,
        });
        res.end(method === 'HEAD' ? undefined : body);
      });
      return;
    }

    // The registry builds absolute Location URLs from the Host header, so it must see its own address; the
    // Location is then rewritten to the proxy, keeping upload PUTs and redirects going through here.
    const upstreamReq = http.request({
      host: upstreamHost,
      port: upstreamPort,
      method,
      path,
      headers: { ...withoutHopByHop(req.headers), host: upstream },
    });
    upstreamReq.on('response', (upstreamRes) => {
      const headers = withoutHopByHop(upstreamRes.headers);
      const location = upstreamRes.headers.location;
      if (location?.startsWith(`http://${upstream}/`)) headers.location = `http://${addr}${location.slice(`http://${upstream}`.length)}`;
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
      upstreamRes.pipe(res);
      upstreamRes.on('error', () => res.destroy());
    });
    upstreamReq.on('error', (err) => {
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault proxy: upstream ${upstream} failed: ${err.message}`);
    });
    req.on('error', (err) => upstreamReq.destroy(err));
    req.pipe(upstreamReq);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Keep-alive connections would hold close() open until they time out.
      server.closeAllConnections();
    });
    return closed;
  };
  return { addr, requests, close, [Symbol.asyncDispose]: close };
}
