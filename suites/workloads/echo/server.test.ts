/**
 * The echo server in-process, over real sockets: HTTP/1.1 (undici), h2c (node:http2 with prior knowledge) and TLS
 * with client certificates that openssl makes here (h2 and HTTP/1.1 by ALPN).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent, Client, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runChecked } from '../../../harness/process/run.ts';
import { type EchoAnswer, type EchoServer, MAX_SIZE_BYTES, parseDuration, parseXfcc, startEcho, uriSans } from './server.ts';

const CLIENT_ID = 'spiffe://cluster.local/ns/demo/sa/client';

interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a CA the server does not trust. */
  rogueCert: string;
  rogueKey: string;
}

/** A CA, a server certificate for 127.0.0.1/localhost and client certificates, made by the real openssl. */
async function makePki(dir: string): Promise<Pki> {
  const ssl = (args: string[]) => runChecked('openssl', args, { cwd: dir, timeoutMs: 30_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = async (name: string) =>
    ssl(['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/O=meshcheck/CN=${name}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const leaf = async (name: string, issuer: string, subject: string, ext: string) => {
    await writeFile(path.join(dir, `${name}.ext`), `${ext}\n`);
    await ssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    await ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  };
  await ca('ca');
  await ca('rogue-ca');
  await leaf('server', 'ca', '/CN=echo', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  await leaf('client', 'ca', '/O=demo/CN=client', `subjectAltName=URI:${CLIENT_ID}\nextendedKeyUsage=clientAuth`);
  await leaf('rogue', 'rogue-ca', '/CN=rogue', 'subjectAltName=URI:spiffe://evil.example/ns/x/sa/y\nextendedKeyUsage=clientAuth');
  const read = (f: string) => readFile(path.join(dir, f), 'utf8');
  return {
    ca: await read('ca.crt'),
    serverCert: await read('server.crt'),
    serverKey: await read('server.key'),
    clientCert: await read('client.crt'),
    clientKey: await read('client.key'),
    rogueCert: await read('rogue.crt'),
    rogueKey: await read('rogue.key'),
  };
}

const quiet = () => {};

async function get(port: number, pathAndQuery: string, headers: Record<string, string> = {}) {
  const res = await request(`http://127.0.0.1:${port}${pathAndQuery}`, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as EchoAnswer & Record<string, unknown> };
}

/** One request over an HTTP/2 session; resolves with status, headers and body. */
function h2get(session: http2.ClientHttp2Session, pathAndQuery: string, headers: http2.OutgoingHttpHeaders = {}) {
  return new Promise<{ status: number; headers: http2.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const stream = session.request({ ':path': pathAndQuery, ...headers });
    let text = '';
    let head: http2.IncomingHttpHeaders = {};
    stream.setEncoding('utf8');
    stream.on('response', (h) => (head = h));
    stream.on('data', (c: string) => (text += c));
    stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, text }));
    stream.on('error', reject);
    stream.end();
  });
}

function h2connect(url: string, opts: http2.SecureClientSessionOptions = {}) {
  return new Promise<http2.ClientHttp2Session>((resolve, reject) => {
    const session = http2.connect(url, opts);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

describe('parsing', () => {
  test('durations read as Go reads them', () => {
    expect(parseDuration('150ms')).toBe(150);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('300us')).toBeCloseTo(0.3);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('100')).toThrow(/not a duration/);
    expect(() => parseDuration('2x')).toThrow(/not a duration/);
    expect(() => parseDuration('')).toThrow();
  });

  test('URI SANs, quoted ones included', () => {
    expect(uriSans(`URI:${CLIENT_ID}, DNS:client.demo`)).toEqual([CLIENT_ID]);
    expect(uriSans('DNS:a, URI:"spiffe://x/a,b", URI:spiffe://y')).toEqual(['spiffe://x/a,b', 'spiffe://y']);
    expect(uriSans(undefined)).toEqual([]);
  });

  test("Envoy's x-forwarded-client-cert: one element per hop, quoted values", () => {
    expect(parseXfcc('By=spiffe://cluster.local/ns/a/sa/srv;Hash=abc;Subject="";URI=spiffe://cluster.local/ns/b/sa/cli')).toEqual([
      { by: 'spiffe://cluster.local/ns/a/sa/srv', hash: 'abc', subject: '', uri: 'spiffe://cluster.local/ns/b/sa/cli' },
    ]);
    expect(parseXfcc('By=a;URI=b,By=c;Subject="CN=x,O=\\"y\\";z";URI=d')).toEqual([
      { by: 'a', uri: 'b' },
      { by: 'c', subject: 'CN=x,O="y";z', uri: 'd' },
    ]);
  });
});

describe('the echo server over cleartext (HTTP/1.1 and h2c on one port)', () => {
  let server: EchoServer;
  const logs: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    server = await startEcho({
      port: 0,
      host: '127.0.0.1',
      log: (e) => logs.push(e),
      env: { POD_NAME: 'echo-v2-abc', POD_NAMESPACE: 'demo', NODE_NAME: 'worker-arm64', SERVICE_NAME: 'echo', VERSION: 'v2' },
    });
  });
  afterAll(() => server.close());

  test('one JSON log line at start says arch, port and version', () => {
    expect(logs[0]).toMatchObject({ msg: 'echo listening', port: server.port, version: 'v2', arch: process.arch });
  });

  test('HTTP/1.1: the answer says what arrived and where it ran', async () => {
    const r = await get(server.port, '/some/path?a=1&a=2&b=x', { 'x-custom': 'yes', 'x-forwarded-client-cert': `By=spiffe://cluster.local/ns/demo/sa/echo;URI=${CLIENT_ID}` });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-echo-pod']).toBe('echo-v2-abc');
    const a = r.json();
    expect(a).toMatchObject({
      method: 'GET',
      url: '/some/path?a=1&a=2&b=x',
      path: '/some/path',
      query: { a: ['1', '2'], b: 'x' },
      host: `127.0.0.1:${server.port}`,
      protocol: 'HTTP/1.1',
      pod: 'echo-v2-abc',
      namespace: 'demo',
      node: 'worker-arm64',
      service: 'echo',
      version: 'v2',
      arch: process.arch,
      platform: process.platform,
      bodyBytes: 0,
      forwardedClientCert: [{ by: 'spiffe://cluster.local/ns/demo/sa/echo', uri: CLIENT_ID }],
    });
    expect(a.headers).toMatchObject({ 'x-custom': 'yes', 'x-forwarded-client-cert': `By=spiffe://cluster.local/ns/demo/sa/echo;URI=${CLIENT_ID}` });
    expect(a.tls).toBeUndefined();
  });

  test('the request body is read and counted', async () => {
    const res = await request(`http://127.0.0.1:${server.port}/upload`, { method: 'POST', body: 'z'.repeat(12_345) });
    const a = (await res.body.json()) as EchoAnswer;
    expect(a).toMatchObject({ method: 'POST', bodyBytes: 12_345 });
  });

  test('h2c with prior knowledge on the same port', async () => {
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    try {
      const [one, two] = await Promise.all([h2get(session, '/h2?x=1', { 'x-trace': 't1' }), h2get(session, '/h2?x=2')]);
      expect(one.status).toBe(200);
      const a = JSON.parse(one.text) as EchoAnswer;
      expect(a).toMatchObject({ protocol: 'h2c', path: '/h2', query: { x: '1' }, host: `127.0.0.1:${server.port}`, pod: 'echo-v2-abc' });
      expect(a.headers['x-trace']).toBe('t1');
      expect(Object.keys(a.headers).some((h) => h.startsWith(':'))).toBe(false);
      expect((JSON.parse(two.text) as EchoAnswer).query).toEqual({ x: '2' });
    } finally {
      session.close();
    }
  });

  test('an HTTP/1.1 request that starts like the h2 preface ("P…") and arrives byte by byte is still HTTP/1.1', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (reply += c));
    socket.write('P');
    await new Promise((r) => setTimeout(r, 50));
    socket.write('OST /split HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    await new Promise((r) => socket.once('close', r));
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    expect(reply).toContain('"path":"/split"');
    expect(reply).toContain('"method":"POST"');
  });

  test('status=CODE and /status/NNN answer with that code', async () => {
    expect((await get(server.port, '/?status=418')).status).toBe(418);
    expect((await get(server.port, '/status/503')).status).toBe(503);
    expect((await get(server.port, '/status/503?status=201')).status).toBe(201);
    const bad = await get(server.port, '/?status=99');
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ error: expect.stringMatching(/status must be between 200 and 599/) });
  });

  test('delay=DURATION waits, and is bounded', async () => {
    const t0 = performance.now();
    expect((await get(server.port, '/?delay=150ms')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
    expect((await get(server.port, '/?delay=61s')).status).toBe(400);
    expect((await get(server.port, '/?delay=soon')).status).toBe(400);
  });

  test('size=BYTES pads the body to exactly that size, and is bounded', async () => {
    for (const size of [5000, 1]) {
      const r = await get(server.port, `/?size=${size}`);
      expect(JSON.parse(r.text)).toMatchObject({ path: '/' });
      if (size === 1) expect(Buffer.byteLength(r.text)).toBeGreaterThan(1); // cannot shrink
      else expect(Buffer.byteLength(r.text)).toBe(size);
    }
    // Just above the natural size there is no room for the padding field: spaces fill the gap, exactly.
    const natural = Buffer.byteLength((await get(server.port, '/?size=00000')).text);
    const near = await get(server.port, `/?size=${String(natural + 5).padStart(5, '0')}`);
    expect(Buffer.byteLength(near.text)).toBe(natural + 5);
    expect(() => JSON.parse(near.text)).not.toThrow();
    expect((await get(server.port, `/?size=${MAX_SIZE_BYTES + 1}`)).status).toBe(400);
  });

  test('X-Echo-Set-Header sets response headers (as echo-basic does)', async () => {
    const r = await get(server.port, '/', { 'x-echo-set-header': 'X-One: 1, X-Two: two' });
    expect(r.headers['x-one']).toBe('1');
    expect(r.headers['x-two']).toBe('two');
  });

  test('succeedAfter=N&uuid=ID: N failures with 503, then 200; /attempts counts', async () => {
    const seq: number[] = [];
    for (let i = 0; i < 4; i++) seq.push((await get(server.port, '/retry/x?succeedAfter=2&uuid=seq-a')).status);
    expect(seq).toEqual([503, 503, 200, 200]);
    const failure = await get(server.port, '/?succeedAfter=1&uuid=seq-f');
    expect(failure.json()).toMatchObject({ simulatedFailure: true, uuid: 'seq-f', attempt: 1, pod: 'echo-v2-abc' });
    expect((await get(server.port, '/attempts?uuid=seq-a')).json()).toEqual({ uuid: 'seq-a', attempts: 4, failed: 2 });
    expect((await get(server.port, '/attempts?uuid=never-seen')).json()).toEqual({ uuid: 'never-seen', attempts: 0, failed: 0 });
    expect((await get(server.port, '/attempts')).status).toBe(400);
  });

  test('separate uuids are independent, even interleaved', async () => {
    const a1 = await get(server.port, '/?succeedAfter=1&uuid=ind-a');
    const b1 = await get(server.port, '/?succeedAfter=2&uuid=ind-b');
    const a2 = await get(server.port, '/?succeedAfter=1&uuid=ind-a');
    const b2 = await get(server.port, '/?succeedAfter=2&uuid=ind-b');
    const b3 = await get(server.port, '/?succeedAfter=2&uuid=ind-b');
    expect([a1, a2].map((r) => r.status)).toEqual([503, 200]);
    expect([b1, b2, b3].map((r) => r.status)).toEqual([503, 503, 200]);
    expect(b3.json()).toMatchObject({ uuid: 'ind-b', attempt: 3 });
  });

  test('the failing status: responseCode (echo-basic) or status, default 503; succeedAfter=0 never fails', async () => {
    expect((await get(server.port, '/?succeedAfter=1&uuid=rc-1&responseCode=500')).status).toBe(500);
    expect((await get(server.port, '/?succeedAfter=1&uuid=rc-1&responseCode=500')).status).toBe(200);
    expect((await get(server.port, '/?succeedAfter=1&uuid=rc-2&status=502')).status).toBe(502);
    expect((await get(server.port, '/?succeedAfter=0&uuid=rc-3')).status).toBe(200);
  });

  test('concurrent attempts of one uuid never take more failures than succeedAfter', async () => {
    const statuses = await Promise.all(Array.from({ length: 10 }, () => get(server.port, '/?succeedAfter=3&uuid=conc').then((r) => r.status)));
    expect(statuses.filter((s) => s === 503)).toHaveLength(3);
    expect(statuses.filter((s) => s === 200)).toHaveLength(7);
  });

  test('delayRetry delays only the failing attempts; delay only the success', async () => {
    let t0 = performance.now();
    expect((await get(server.port, '/?succeedAfter=1&uuid=dr&delayRetry=200ms&delay=0')).status).toBe(503);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
    t0 = performance.now();
    expect((await get(server.port, '/?succeedAfter=1&uuid=dr&delayRetry=200ms')).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(190);
  });

  test('failure=reset: the failing attempt is a connection reset (echo-basic\'s TCP failure mode)', async () => {
    await expect(get(server.port, '/?succeedAfter=1&uuid=reset-1&failure=reset')).rejects.toThrow();
    expect((await get(server.port, '/?succeedAfter=1&uuid=reset-1&failure=reset')).status).toBe(200);
    // Over h2 only the stream is reset; the session carries on.
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    try {
      await expect(h2get(session, '/?succeedAfter=1&uuid=reset-2&failure=reset')).rejects.toThrow(/RST_STREAM|NGHTTP2_INTERNAL_ERROR|Stream closed/);
      expect((await h2get(session, '/?succeedAfter=1&uuid=reset-2&failure=reset')).status).toBe(200);
    } finally {
      session.close();
    }
  });

  test('a request without uuid on /retry/, or with succeedAfter but no uuid, is a 400 and counts nothing', async () => {
    expect((await get(server.port, '/retry/x?succeedAfter=1')).status).toBe(400);
    expect((await get(server.port, '/?succeedAfter=1')).status).toBe(400);
    expect((await get(server.port, '/retry/x?uuid=bad-1')).status).toBe(400);
    expect((await get(server.port, '/?uuid=bad-2&delay=nope')).status).toBe(400);
    expect((await get(server.port, '/attempts?uuid=bad-2')).json()).toMatchObject({ attempts: 0 });
  });

  test('every request with a uuid is an attempt: a proxy that retries a plain status=503 shows up in /attempts', async () => {
    for (let i = 0; i < 3; i++) expect((await get(server.port, '/?status=503&uuid=plain')).status).toBe(503);
    expect((await get(server.port, '/attempts?uuid=plain')).json()).toEqual({ uuid: 'plain', attempts: 3, failed: 0 });
  });

  test('/healthz and /readyz', async () => {
    expect((await get(server.port, '/healthz')).json()).toEqual({ status: 'ok' });
    expect((await get(server.port, '/readyz')).json()).toEqual({ ready: true });
  });
});

describe('the echo server over TLS (h2 and HTTP/1.1 by ALPN, client certificates)', () => {
  let dir: string;
  let pki: Pki;
  let server: EchoServer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meshcheck-echo-pki-'));
    pki = await makePki(dir);
    server = await startEcho({ port: 0, host: '127.0.0.1', log: quiet, tls: { port: 0, cert: pki.serverCert, key: pki.serverKey, ca: pki.ca } });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('h2 with a client certificate: the answer names the SPIFFE identity and subject', async () => {
    const session = await h2connect(`https://127.0.0.1:${server.tlsPort}`, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    try {
      const r = await h2get(session, '/tls?x=1');
      expect(r.status).toBe(200);
      const a = JSON.parse(r.text) as EchoAnswer;
      expect(a.protocol).toBe('h2');
      expect(a.tls).toMatchObject({ alpn: 'h2', peerIdentity: CLIENT_ID, peerUris: [CLIENT_ID], peerSubject: 'O=demo,CN=client', peerAuthorized: true, peerAuthorizationError: null });
      expect(a.tls?.version).toMatch(/^TLSv1\.[23]$/);
    } finally {
      session.close();
    }
  });

  test('HTTP/1.1 over TLS (undici): protocol "https", same identity', async () => {
    // undici 8 offers h2 by ALPN unless told not to.
    const dispatcher = new Agent({ allowH2: false, connect: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
    try {
      const res = await request(`https://127.0.0.1:${server.tlsPort}/tls`, { dispatcher });
      const a = (await res.body.json()) as EchoAnswer;
      expect(a.protocol).toBe('https');
      expect(a.tls).toMatchObject({ alpn: 'http/1.1', peerIdentity: CLIENT_ID, peerSubject: 'O=demo,CN=client', peerAuthorized: true });
    } finally {
      await dispatcher.close();
    }
  });

  test('no client certificate, or one from an untrusted CA: still served, and the answer says so', async () => {
    const bare = await h2connect(`https://127.0.0.1:${server.tlsPort}`, { ca: pki.ca });
    const rogue = await h2connect(`https://127.0.0.1:${server.tlsPort}`, { ca: pki.ca, cert: pki.rogueCert, key: pki.rogueKey });
    try {
      const a = JSON.parse((await h2get(bare, '/')).text) as EchoAnswer;
      expect(a.tls).toMatchObject({ peerIdentity: null, peerUris: [], peerSubject: null, peerAuthorized: false });
      const b = JSON.parse((await h2get(rogue, '/')).text) as EchoAnswer;
      expect(b.tls).toMatchObject({ peerIdentity: 'spiffe://evil.example/ns/x/sa/y', peerAuthorized: false });
      expect(b.tls?.peerAuthorizationError).toBeTruthy();
    } finally {
      bare.close();
      rogue.close();
    }
  });

  test('the cleartext port still answers next to the TLS one', async () => {
    expect((await get(server.port, '/')).json()).toMatchObject({ protocol: 'HTTP/1.1' });
  });
});

describe('graceful shutdown', () => {
  test('in-flight requests finish, new connections are refused, /readyz is 503 on a kept-alive connection', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const server = await startEcho({ port: 0, host: '127.0.0.1', drainMs: 10_000, log: (e) => logs.push(e) });
    const origin = `http://127.0.0.1:${server.port}`;
    const busy = new Client(origin);
    const idle = new Client(origin);
    const h2 = await h2connect(origin);
    try {
      expect((await idle.request({ path: '/readyz', method: 'GET' })).statusCode).toBe(200); // opens the keep-alive connection
      const slow = busy.request({ path: '/?delay=800ms&uuid=inflight', method: 'GET' });
      const slowH2 = h2get(h2, '/?delay=800ms&uuid=inflight-h2');
      // Wait until both requests are inside the server (counted as attempts), not merely sent.
      for (;;) {
        const one = (await (await idle.request({ path: '/attempts?uuid=inflight', method: 'GET' })).body.json()) as { attempts: number };
        const two = (await (await idle.request({ path: '/attempts?uuid=inflight-h2', method: 'GET' })).body.json()) as { attempts: number };
        if (one.attempts && two.attempts) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const t0 = performance.now();
      const closed = server.close();
      expect(server.draining).toBe(true);

      const ready = await idle.request({ path: '/readyz', method: 'GET' });
      expect(ready.statusCode).toBe(503);
      expect(ready.headers.connection).toBe('close');
      expect(await ready.body.json()).toEqual({ ready: false, reason: 'draining' });

      const fresh = new Agent();
      await expect(request(`${origin}/`, { dispatcher: fresh })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await fresh.destroy();

      const done = await slow;
      expect(done.statusCode).toBe(200);
      expect(((await done.body.json()) as EchoAnswer).uuid).toBe('inflight');
      expect((await slowH2).status).toBe(200);
      await closed;
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(logs.at(-1)).toMatchObject({ msg: 'drained', forced: false, abandoned: 0 });
    } finally {
      h2.destroy();
      await busy.destroy();
      await idle.destroy();
      server.forceClose();
    }
  });

  test('the drain is bounded: a request longer than drainMs is cut', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const server = await startEcho({ port: 0, host: '127.0.0.1', drainMs: 300, log: (e) => logs.push(e) });
    const agent = new Agent();
    const slow = request(`http://127.0.0.1:${server.port}/?delay=10s&uuid=cut`, { dispatcher: agent });
    for (;;) {
      const r = await get(server.port, '/attempts?uuid=cut');
      if (r.json().attempts) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    const t0 = performance.now();
    await server.close();
    expect(performance.now() - t0).toBeLessThan(2_000);
    await expect(slow).rejects.toThrow();
    expect(logs.at(-1)).toMatchObject({ msg: 'drained', forced: true, abandoned: 1 });
    await agent.destroy();
  });

  test('close() with nothing in flight ends at once, and twice is the same promise', async () => {
    const server = await startEcho({ port: 0, host: '127.0.0.1', log: quiet });
    const t0 = performance.now();
    const a = server.close();
    expect(server.close()).toBe(a);
    await a;
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
