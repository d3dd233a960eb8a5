/**
 * Every oracle judged on evidence from real exchanges with the echo workload on the test bed: echo containers
 * (amd64 natively, arm64 under QEMU), a real retrying HTTP client (undici's retry interceptor), a real TLS server
 * (the echo's TLS port) with SPIFFE URI SAN certificates this test generates, and a small routing proxy standing
 * in for the mesh's gateway (Envoy cannot run here). Each oracle must also FAIL on evidence that should fail.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent, interceptors } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerTarget, type StartedDockerTarget } from '../../clusters/docker/docker-target.ts';
import type { StartedService } from '../../clusters/docker/service-container.ts';
import { RegistryClient } from '../../harness/registry/client.ts';
import { pinToPlatform } from '../../harness/registry/pin.ts';
import { requireTestbed } from '../../harness/testing/testbed.ts';
import { exchange, presentedSans } from '../client/exchange.ts';
import { inPodCommand } from '../client/in-pod.ts';
import { runCommand } from '../../harness/process/run.ts';
import type { Exchange } from './evidence.ts';
import { judgeIngress, type IngressEvidence } from './ingress.ts';
import { judgeMtls, spiffeId } from './mtls.ts';
import { judgeRetry } from './retry.ts';
import { judgeSplit } from './split.ts';

const bed = await requireTestbed();

/** A CA, a server certificate and a client certificate with SPIFFE URI SANs (as Istio's workload certificates). */
function makeCerts(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (f: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f);
  key('ca.key');
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/O=cluster.local', '-days', '2', '-out', 'ca.crt');
  const leaf = (name: string, san: string, eku: string) => {
    key(`${name}.key`);
    ssl('req', '-new', '-key', `${name}.key`, '-subj', `/O=${name}`, '-out', `${name}.csr`);
    writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${eku}\n`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  };
  leaf('server', `DNS:echo.server.svc.cluster.local,URI:${spiffeId('server', 'echo')}`, 'serverAuth');
  leaf('client', `URI:${spiffeId('client', 'sleep')}`, 'clientAuth');
  leaf('gateway', 'DNS:shop.mesh.test', 'serverAuth');
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  return { ca: read('ca.crt'), serverCert: read('server.crt'), serverKey: read('server.key'), clientCert: read('client.crt'), clientKey: read('client.key'), gatewayCert: read('gateway.crt'), gatewayKey: read('gateway.key') };
}

describe.runIf(bed)('oracles on real exchanges with the echo workload', () => {
  let target: StartedDockerTarget;
  let v1: StartedService;
  let v2: StartedService;
  let tlsEcho: StartedService;
  let certs: ReturnType<typeof makeCerts>;
  const image = bed!.images['meshcheck/echo']!.ref;

  beforeAll(async () => {
    certs = makeCerts(mkdtempSync(path.join(os.tmpdir(), 'mc-certs-')));
    target = await new DockerTarget().start();
    // Each platform by its own manifest digest (as smoke does): a tag holds one platform at a time in the engine.
    await using registry = new RegistryClient({ insecureHosts: [bed!.registry.addr] });
    const byPlatform = {
      'linux/amd64': (await pinToPlatform(registry, image, 'linux/amd64')).pinned,
      'linux/arm64': (await pinToPlatform(registry, image, 'linux/arm64')).pinned,
    };
    const svc = (platform: 'linux/amd64' | 'linux/arm64', env: Record<string, string>, extra: Partial<Parameters<StartedDockerTarget['startService']>[0]> = {}) =>
      target.startService({ image: byPlatform[platform], platform, port: 8080, readyPath: '/readyz', env, startupTimeoutMs: 120_000, ...extra });
    [v1, v2, tlsEcho] = await Promise.all([
      svc('linux/amd64', { VERSION: 'v1', SERVICE_NAME: 'echo-a' }),
      svc('linux/arm64', { VERSION: 'v2', SERVICE_NAME: 'echo-b' }),
      svc('linux/amd64', { VERSION: 'v1', SERVICE_NAME: 'echo-tls', TLS_PORT: '8443', TLS_CERT: '/certs/server.crt', TLS_KEY: '/certs/server.key', TLS_CA: '/certs/ca.crt' }, {
        extraPorts: [8443],
        files: [
          { content: certs.serverCert, target: '/certs/server.crt' },
          { content: certs.serverKey, target: '/certs/server.key' },
          { content: certs.ca, target: '/certs/ca.crt' },
        ],
      }),
    ]);
  }, 240_000);

  afterAll(async () => {
    await target?.stop();
  });

  it('the in-pod client script runs in the echo image (as in a client pod) and returns exchanges as evidence', async () => {
    // What sendFromPod execs in a client pod, run here in the echo container with docker exec (same image, same node).
    const r = await runCommand('docker', ['exec', v2.containerId, ...inPodCommand([{ url: 'http://127.0.0.1:8080/from-pod', headers: { 'x-version': 'v2' }, count: 2 }, { url: 'http://127.0.0.1:59999/refused' }])], { timeoutMs: 60_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const ex = JSON.parse(r.stdout) as Exchange[];
    expect(ex).toHaveLength(3);
    expect(ex[0]?.response?.status).toBe(200);
    expect(ex[0]?.response?.headers['x-echo-arch']).toBe('arm64');
    expect((ex[0]?.response?.body as { headers: Record<string, string> }).headers['x-version']).toBe('v2');
    expect(ex[2]?.error).toMatch(/ECONNREFUSED/);
  });

  describe('weighted split (binomial bound)', () => {
    /** The test routes each request by weight, as the mesh would; the responses come from the real backends. */
    async function send(n: number, weightV1: number): Promise<Exchange[]> {
      const out: Exchange[] = [];
      let seed = 42;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let i = 0; i < n; i += 20) {
        out.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, () => exchange(`${rand() < weightV1 ? v1.url : v2.url}/split`)))));
      }
      return out;
    }

    it('80/20 traffic passes an 80/20 expectation; 65/35 traffic fails it; too few requests are not judged', { timeout: 180_000 }, async () => {
      const good = await send(600, 0.8);
      expect(new Set(good.map((e) => e.response?.headers['x-echo-arch']))).toEqual(new Set(['x64', 'arm64']));
      const pass = judgeSplit(good, { weights: { v1: 80, v2: 20 } });
      expect(pass.verdict, pass.reason).toBe('pass');
      const bad = await send(600, 0.65);
      const fail = judgeSplit(bad, { weights: { v1: 80, v2: 20 } });
      expect(fail.verdict).toBe('fail');
      expect(fail.reason).toMatch(/the split is off: v1: \d+\/600/);
      expect(judgeSplit(good.slice(0, 40), { weights: { v1: 80, v2: 20 } }).reason).toMatch(/only 40 successful responses/);
    });
  });

  describe('retries (server-side attempt counts, a real retrying client)', () => {
    const retrying = (maxRetries: number) =>
      new Agent().compose(interceptors.retry({ maxRetries, statusCodes: [503], methods: ['GET'], minTimeout: 10, maxTimeout: 50, timeoutFactor: 1, retryAfter: false }));
    const attemptsOf = async (base: string, uuid: string) => {
      const e = await exchange(`${base}/attempts?uuid=${uuid}`);
      return { e, counts: e.response?.body as { attempts: number; failed: number } };
    };

    it('N failures then success within the attempts; beyond the limit the 503 surfaces; a status outside retryOn is not retried', async () => {
      for (const [arch, base] of [['amd64', v1.url], ['arm64', v2.url]] as const) {
        const uuid = `ok-${arch}-${Date.now()}`;
        const e = await exchange(`${base}/retry/x?uuid=${uuid}&succeedAfter=2`, { dispatcher: retrying(3) });
        const { e: ce, counts } = await attemptsOf(base, uuid);
        const r = judgeRetry({ exchange: e, attempts: counts, countExchange: ce }, { succeedAfter: 2, retryAttempts: 3, retried: true });
        expect(r.verdict, r.reason).toBe('pass');
        expect(r.stats?.serverAttempts).toBe(3);
      }
      const over = `over-${Date.now()}`;
      const e2 = await exchange(`${v1.url}/retry/x?uuid=${over}&succeedAfter=5`, { dispatcher: retrying(2) });
      // undici's retry interceptor gives up with an error that carries the last status.
      expect(e2.response?.status ?? e2.error).toMatch(/503/);
      const c2 = await attemptsOf(v1.url, over);
      expect(judgeRetry({ exchange: e2, attempts: c2.counts }, { succeedAfter: 5, retryAttempts: 2, retried: true })).toMatchObject({ verdict: 'pass', stats: { serverAttempts: 3 } });
      const other = `other-${Date.now()}`;
      const e3 = await exchange(`${v1.url}/retry/x?uuid=${other}&succeedAfter=1&responseCode=500`, { dispatcher: retrying(3) });
      const c3 = await attemptsOf(v1.url, other);
      expect(judgeRetry({ exchange: e3, attempts: c3.counts }, { succeedAfter: 1, retryAttempts: 3, retried: false })).toMatchObject({ verdict: 'pass', stats: { serverAttempts: 1 } });
    });

    it('fails when the client did not retry although the policy says it should', async () => {
      const uuid = `noretry-${Date.now()}`;
      const e = await exchange(`${v1.url}/retry/x?uuid=${uuid}&succeedAfter=2`);
      const { counts } = await attemptsOf(v1.url, uuid);
      const r = judgeRetry({ exchange: e, attempts: counts }, { succeedAfter: 2, retryAttempts: 3, retried: true });
      expect(r.verdict).toBe('fail');
      expect(r.reason).toBe('the client got 503 instead of success; the server saw 1 attempt(s), expected 3');
    });
  });

  describe('mTLS (a real TLS server with SPIFFE certificates)', () => {
    const tlsUrl = () => `https://${tlsEcho.ports[8443]}/mtls`;
    const meshClient = () => new Agent({ connect: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, servername: 'echo.server.svc.cluster.local' } });
    const clientId = spiffeId('client', 'sleep');

    it('STRICT: plaintext to the TLS port is refused, the mesh client is served and seen as its SPIFFE identity', async () => {
      const plaintext = [await exchange(`http://${tlsEcho.ports[8443]}/mtls`)];
      expect(plaintext[0]?.error).toBeDefined();
      const mesh = [await exchange(tlsUrl(), { dispatcher: meshClient() }), await exchange(tlsUrl(), { dispatcher: meshClient() })];
      expect((mesh[0]?.response?.body as { tls: { peerIdentity: string; peerAuthorized: boolean } }).tls).toMatchObject({ peerIdentity: clientId, peerAuthorized: true });
      expect(judgeMtls('STRICT', { plaintext, mesh }, clientId)).toMatchObject({ verdict: 'pass' });
      // The same evidence with another expected identity fails.
      expect(judgeMtls('STRICT', { plaintext, mesh }, spiffeId('client', 'other')).reason).toMatch(/the server saw identity spiffe:\/\/cluster\.local\/ns\/client\/sa\/sleep, expected/);
    });

    it('STRICT fails when plaintext is served; PERMISSIVE passes on the same evidence', async () => {
      const plaintext = [await exchange(`${tlsEcho.url}/mtls`)];
      expect(plaintext[0]?.response?.status).toBe(200);
      const mesh = [await exchange(tlsUrl(), { dispatcher: meshClient() })];
      expect(judgeMtls('STRICT', { plaintext, mesh }, clientId).reason).toMatch(/a plaintext client was served \(200\) under STRICT/);
      expect(judgeMtls('PERMISSIVE', { plaintext, mesh }, clientId).verdict).toBe('pass');
    });

    it('a client without a certificate is served without identity: DISABLE passes, STRICT with an expected identity fails', async () => {
      const anon = [await exchange(tlsUrl(), { dispatcher: new Agent({ connect: { ca: certs.ca, servername: 'echo.server.svc.cluster.local' } }) })];
      expect(judgeMtls('DISABLE', { plaintext: [], mesh: anon })).toMatchObject({ verdict: 'pass' });
      expect(judgeMtls('STRICT', { plaintext: [await exchange(`http://${tlsEcho.ports[8443]}/x`)], mesh: anon }, clientId).reason).toMatch(/identity \(none\)/);
    });
  });

  describe('ingress (host and path matching, TLS termination, 404)', () => {
    let gw: http.Server;
    let gws: https.Server;
    // A routing proxy standing in for the gateway: the route table of the ingress check, forwarding to real echoes.
    const routes = (): { host: string; prefix: string; to: string }[] => [
      { host: 'shop.mesh.test', prefix: '/a', to: v1.url },
      { host: 'shop.mesh.test', prefix: '/b', to: v2.url },
    ];
    const handler = (misroute: boolean) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      const host = (req.headers.host ?? '').split(':')[0];
      const r = routes().find((x) => x.host === host && req.url?.startsWith(x.prefix));
      if (!r) {
        res.writeHead(404).end();
        return;
      }
      const to = misroute ? v1.url : r.to;
      const up = http.request(`${to}${req.url}`, { headers: { ...req.headers } }, (u) => {
        res.writeHead(u.statusCode ?? 502, u.headers);
        u.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      up.end();
    };
    let misroute = false;
    beforeAll(async () => {
      gw = http.createServer((q, s) => handler(misroute)(q, s));
      gws = https.createServer({ cert: certs.gatewayCert, key: certs.gatewayKey }, (q, s) => handler(misroute)(q, s));
      await Promise.all([new Promise<void>((r) => gw.listen(0, '127.0.0.1', r)), new Promise<void>((r) => gws.listen(0, '127.0.0.1', r))]);
    });
    afterAll(() => {
      gw?.close();
      gws?.close();
    });

    async function evidence(): Promise<IngressEvidence[]> {
      const hp = (gw.address() as AddressInfo).port;
      const sp = (gws.address() as AddressInfo).port;
      const tlsAgent = new Agent({ connect: { ca: certs.ca, servername: 'shop.mesh.test' } });
      const cases = [
        { host: 'shop.mesh.test', path: '/a/cart', expect: { service: 'echo-a' } },
        { host: 'shop.mesh.test', path: '/b/pay', expect: { service: 'echo-b' } },
        { host: 'unknown.mesh.test', path: '/a/cart', expect: { status: 404 as const } },
        { host: 'shop.mesh.test', path: '/c', expect: { status: 404 as const } },
        { host: 'shop.mesh.test', path: '/b/secure', expect: { service: 'echo-b' }, tls: true },
      ];
      return Promise.all(
        cases.map(async (c) => ({
          case: c,
          exchange: await exchange(c.tls ? `https://127.0.0.1:${sp}${c.path}` : `http://127.0.0.1:${hp}${c.path}`, { headers: { host: c.host }, ...(c.tls ? { dispatcher: tlsAgent } : {}) }),
          ...(c.tls ? { presentedSans: await presentedSans('127.0.0.1', sp, c.host, certs.ca) } : {}),
        })),
      );
    }

    it('routes by host and path, terminates TLS with the host’s certificate, 404s the rest', async () => {
      const r = judgeIngress(await evidence());
      expect(r.verdict, r.reason).toBe('pass');
      expect(r.evidence.map((e) => e.response?.status)).toEqual([200, 200, 404, 404, 200]);
    });

    it('fails when the gateway sends /b to the wrong backend', async () => {
      misroute = true;
      try {
        const r = judgeIngress(await evidence());
        expect(r.verdict).toBe('fail');
        expect(r.reason).toMatch(/http:\/\/shop\.mesh\.test\/b\/pay: answered by echo-a, expected echo-b/);
      } finally {
        misroute = false;
      }
    });
  });
});
