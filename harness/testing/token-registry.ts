/**
 * Test infrastructure: a second, real docker-registry that uses the distribution "token" auth, as Docker Hub,
 * ghcr.io and quay.io do, with the token endpoint served by the test itself. The OCI client's Bearer challenge
 * handling is tested against the registry's real challenges and its real JWT verification.
 *
 * The JWT carries the signing certificate in its `x5c` header. distribution verifies that chain against
 * `auth.token.rootcertbundle` and then checks the RS256 signature with the leaf's key (registry/auth/token/token.go:
 * VerifySigningKey → parseAndVerifyCertChain). The certificate is self-signed and is the whole bundle, so the
 * chain is the certificate alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { runChecked } from '../process/run.ts';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';
const SERVICE = 'meshcheck-token-registry';
const ISSUER = 'meshcheck-token-issuer';
const TOKEN_TTL_S = 300;

export interface TokenRequest {
  /** The Basic-auth user, or the `account` query parameter; undefined when anonymous. */
  account?: string;
  scope?: string[];
  /** False when the credentials were refused (401); anonymous requests that got a token count as authorized. */
  authorized: boolean;
}

export interface TokenAuthRegistry extends AsyncDisposable {
  /** host:port of the registry (plain http). */
  addr: string;
  /** The token endpoint, as the registry's WWW-Authenticate challenge names it. */
  realm: string;
  service: string;
  tokenRequests: TokenRequest[];
  /** The temporary directory with key, certificate, config, storage and registry.log; removed by close(). */
  dir: string;
  close(): Promise<void>;
}

export interface TokenAuthRegistryOptions {
  /** user → password accepted with Basic auth at the token endpoint; such users get pull and push. */
  users?: Record<string, string>;
  /** Whether anonymous token requests get "pull" (otherwise a token with no access at all, as Docker Hub does). */
  anonymousPull?: boolean;
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function lastLines(file: string, n = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-n).join('\n');
}

/** The status of GET /v2/, or undefined while nothing answers. */
async function probe(addr: string): Promise<number | undefined> {
  try {
    const res = await fetch(`http://${addr}/v2/`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return undefined;
  }
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** `repository:<name>:pull,push` → Access. The name sits between the first and the last colon. */
function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

function basicAuth(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString();
  const colon = decoded.indexOf(':');
  return colon < 0 ? { user: decoded, password: '' } : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export async function startTokenAuthRegistry(opts: TokenAuthRegistryOptions = {}): Promise<TokenAuthRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshcheck-token-registry-'));
  const tokenRequests: TokenRequest[] = [];
  let tokenServer: http.Server | undefined;
  let child: ChildProcess | undefined;
  let exited = false;

  const close = async () => {
    if (child && !exited) {
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    }
    if (tokenServer?.listening) {
      const server = tokenServer;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const keyFile = path.join(dir, 'token.key');
    const certFile = path.join(dir, 'token.crt');
    await runChecked('/usr/bin/openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
      '-subj', `/CN=${ISSUER}`, '-keyout', keyFile, '-out', certFile,
    ]);
    const key = createPrivateKey(await readFile(keyFile));
    const certDer = new X509Certificate(await readFile(certFile)).raw;
    const jwtHeader = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] }));

    const issue = (account: string | undefined, access: Access[]): string => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: ISSUER, sub: account ?? '', aud: SERVICE, exp: now + TOKEN_TTL_S, nbf: now, iat: now, jti: randomUUID(), access };
      const signingInput = `${jwtHeader}.${b64url(JSON.stringify(claims))}`;
      return `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), key))}`;
    };

    tokenServer = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://token');
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'GET' || url.pathname !== '/token') return reply(404, { errors: [{ code: 'NOT_FOUND', message: `${req.method} ${url.pathname}` }] });
      // A scope parameter may repeat, and one value may hold several scopes separated by spaces.
      const scope = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      const creds = basicAuth(req.headers.authorization);
      const account = creds?.user ?? url.searchParams.get('account') ?? undefined;
      const record: TokenRequest = { ...(account !== undefined ? { account } : {}), ...(scope.length ? { scope } : {}), authorized: false };
      tokenRequests.push(record);
      if (url.searchParams.has('service') && url.searchParams.get('service') !== SERVICE) {
        return reply(400, { errors: [{ code: 'INVALID_SERVICE', message: `unknown service ${url.searchParams.get('service')}` }] });
      }
      if (creds && opts.users?.[creds.user] !== creds.password) {
        return reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] }, { 'www-authenticate': `Basic realm="${ISSUER}"` });
      }
      const allowed = creds ? ['pull', 'push'] : opts.anonymousPull ? ['pull'] : [];
      const access = scope
        .map(parseScope)
        .filter((a): a is Access => a?.type === 'repository')
        .map((a) => ({ ...a, actions: a.actions.filter((x) => allowed.includes(x)) }))
        .filter((a) => a.actions.length > 0);
      record.authorized = true;
      const token = issue(creds?.user, access);
      reply(200, { token, access_token: token, expires_in: TOKEN_TTL_S, issued_at: new Date().toISOString() });
    });
    tokenServer.listen(0, '127.0.0.1');
    await once(tokenServer, 'listening');
    const realm = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;

    const addr = `127.0.0.1:${await freePort()}`;
    const config = path.join(dir, 'config.yml');
    await writeFile(
      config,
      stringify({
        version: 0.1,
        log: { level: 'info', accesslog: { disabled: true } },
        storage: { filesystem: { rootdirectory: path.join(dir, 'data') }, delete: { enabled: true } },
        http: { addr },
        auth: { token: { realm, service: SERVICE, issuer: ISSUER, rootcertbundle: certFile } },
      }),
    );
    const logFile = path.join(dir, 'registry.log');
    const log = await open(logFile, 'a');
    try {
      child = spawn(REGISTRY_BINARY, ['serve', config], { detached: false, stdio: ['ignore', log.fd, log.fd] });
    } finally {
      await log.close(); // the child holds its own copy of the descriptor
    }
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
      exited = true; // no 'exit' follows a failed spawn, and close() must not wait for one
    });
    child.once('exit', () => {
      exited = true;
    });

    const deadline = Date.now() + 20_000;
    for (;;) {
      if (spawnError) throw new Error(`could not start ${REGISTRY_BINARY}: ${spawnError.message}`);
      if (exited) throw new Error(`${REGISTRY_BINARY} exited during startup; last lines of ${logFile}:\n${await lastLines(logFile)}`);
      const status = await probe(addr);
      if (status === 401) break;
      if (status !== undefined) throw new Error(`GET http://${addr}/v2/ answered ${status}, expected 401 (is another server on that port?)`);
      if (Date.now() > deadline) {
        throw new Error(`${REGISTRY_BINARY} did not answer on ${addr} within 20 s; last lines of ${logFile}:\n${await lastLines(logFile)}`);
      }
      await sleep(100);
    }
    return { addr, realm, service: SERVICE, tokenRequests, dir, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await close();
    throw err;
  }
}
