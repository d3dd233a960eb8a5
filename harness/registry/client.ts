/**
 * An OCI distribution client on undici (distribution spec: /v2/<name>/manifests/<ref>, /v2/<name>/blobs/<digest>).
 * - Auth: anonymous first; on 401 it answers the WWW-Authenticate challenge — Bearer tokens from the realm
 *   (anonymous or with credentials, GET with Basic or the OAuth2 refresh-token POST for identity tokens) or Basic.
 * - Retries with exponential backoff on 429 and 5xx and dropped connections, honouring Retry-After.
 * - Limits: manifest and config size, header and body timeouts, a concurrency cap.
 * - Plain HTTP only for hosts listed as insecure; blobs follow redirects to storage, without our Authorization
 *   header when the redirect leaves the registry's origin.
 * Credentials are held in Credential objects and never put into messages.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { Agent, request, type Dispatcher } from 'undici';
import { Credential, CredentialStore } from './credentials.ts';
import { MANIFEST_ACCEPT, ManifestError, parseManifest, type ImageIndex, type ImageManifest } from './manifest.ts';
import { apiHost, type ImageReference } from './reference.ts';
import { parseChallenges } from './www-authenticate.ts';

export type RegistryErrorKind =
  | 'not-found'
  | 'unauthorized'
  | 'unreachable'
  | 'rate-limited'
  | 'server-error'
  | 'too-large'
  | 'malformed'
  | 'unsupported'
  | 'insecure';

export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly kind: RegistryErrorKind;
  readonly status: number | undefined;
  constructor(kind: RegistryErrorKind, message: string, status?: number) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

export interface RegistryClientOptions {
  /** Hosts (host or host:port) spoken to over plain HTTP. Everything else is HTTPS only. */
  insecureHosts?: string[];
  credentials?: CredentialStore;
  /** Per request: time to response headers, and between body chunks. */
  timeoutMs?: number;
  maxManifestBytes?: number;
  /** Retries after the first attempt, for 429, 5xx and dropped connections. */
  retries?: number;
  /** First backoff; doubles each retry (with jitter), capped at maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Requests in flight at once, across all registries. */
  concurrency?: number;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  /** Observe retries (for progress output and tests). */
  onRetry?: (info: { url: string; attempt: number; delayMs: number; reason: string }) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface FetchedManifest {
  manifest: ImageIndex | ImageManifest;
  digest: string;
  mediaType: string;
  size: number;
}

export interface BlobStream {
  stream: Readable;
  size: number | undefined;
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
const DEFAULT_MAX_MANIFEST = 4 * 1024 * 1024; // containerd's limit for manifests and indexes

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });

/** Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code;
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number, what: string, declared?: number): Promise<Buffer> {
  if (declared !== undefined && declared > limit) {
    await body.dump().catch(() => undefined);
    throw new RegistryError('too-large', `${what} is ${declared} bytes, over the ${limit}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      body.destroy();
      throw new RegistryError('too-large', `${what} is over the ${limit}-byte limit`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

interface Auth {
  header?: string;
}

export class RegistryClient {
  readonly #opts: Required<Pick<RegistryClientOptions, 'timeoutMs' | 'maxManifestBytes' | 'retries' | 'backoffMs' | 'maxBackoffMs'>> &
    RegistryClientOptions;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #limit: ReturnType<typeof pLimit>;
  readonly #credentials: CredentialStore;
  /** Authorization per host and repository scope, learned from challenges. */
  readonly #auth = new Map<string, Promise<Auth>>();
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Content-addressed reads (manifests by digest, configs) never change: asked once per client. */
  readonly #byDigest = new Map<string, Promise<unknown>>();

  constructor(opts: RegistryClientOptions = {}) {
    this.#opts = { timeoutMs: 30_000, maxManifestBytes: DEFAULT_MAX_MANIFEST, retries: 4, backoffMs: 500, maxBackoffMs: 15_000, ...opts };
    this.#ownsDispatcher = !opts.dispatcher;
    this.#dispatcher = opts.dispatcher ?? new Agent({ connections: 16, headersTimeout: this.#opts.timeoutMs, bodyTimeout: this.#opts.timeoutMs });
    this.#limit = pLimit(opts.concurrency ?? 8);
    this.#credentials = opts.credentials ?? new CredentialStore();
    this.#sleep = opts.sleep ?? defaultSleep;
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #base(registry: string): string {
    const host = apiHost(registry);
    const insecure = this.#opts.insecureHosts?.includes(registry) || this.#opts.insecureHosts?.includes(host);
    return `${insecure ? 'http' : 'https'}://${host}`;
  }

  #cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    let hit = this.#byDigest.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = load();
      this.#byDigest.set(key, hit);
      // Failures are not remembered: a later ask may succeed.
      hit.catch(() => this.#byDigest.delete(key));
      if (this.#byDigest.size > 512) this.#byDigest.delete(this.#byDigest.keys().next().value as string);
    }
    return hit;
  }

  /** Fetch and parse a manifest (by tag or digest). Verifies the digest when one was asked for. */
  getManifest(ref: ImageReference, reference: string): Promise<FetchedManifest> {
    if (!reference.includes(':')) return this.#getManifest(ref, reference);
    return this.#cached(`${ref.registry}/${ref.repository}@${reference}`, () => this.#getManifest(ref, reference));
  }

  async #getManifest(ref: ImageReference, reference: string): Promise<FetchedManifest> {
    const url = `${this.#base(ref.registry)}/v2/${ref.repository}/manifests/${reference}`;
    const what = `manifest ${ref.registry}/${ref.repository}:${reference}`;
    return this.#limit(async () => {
      const res = await this.#send(ref, url, { accept: MANIFEST_ACCEPT }, what);
      const declared = Number(header(res.headers, 'content-length'));
      const bytes = await readLimited(res.body, this.#opts.maxManifestBytes, what, Number.isFinite(declared) ? declared : undefined);
      const digest = sha256Digest(bytes);
      if (reference.includes(':') && reference !== digest) {
        throw new RegistryError('malformed', `${what}: content digest ${digest} does not match the digest asked for`);
      }
      const contentType = header(res.headers, 'content-type');
      let manifest: ImageIndex | ImageManifest;
      try {
        manifest = parseManifest(bytes, contentType);
      } catch (err) {
        if (err instanceof ManifestError) {
          const kind = /schema 1/.test(err.message) ? 'unsupported' : 'malformed';
          throw new RegistryError(kind, `${what}: ${err.message}`);
        }
        throw err;
      }
      return { manifest, digest, mediaType: contentType?.split(';')[0]?.trim() || manifest.mediaType || '', size: bytes.length };
    });
  }

  /** A small blob (an image config) read whole, bounded, digest verified. */
  getBlob(ref: ImageReference, digest: string, maxBytes = this.#opts.maxManifestBytes): Promise<Buffer> {
    return this.#cached(`${ref.registry}/${ref.repository}@${digest}`, () => this.#getBlob(ref, digest, maxBytes));
  }

  async #getBlob(ref: ImageReference, digest: string, maxBytes: number): Promise<Buffer> {
    return this.#limit(async () => {
      const { body, size } = await this.#openBlob(ref, digest);
      const what = `blob ${digest.slice(0, 19)} of ${ref.registry}/${ref.repository}`;
      const bytes = await readLimited(body, maxBytes, what, size);
      if (digest.startsWith('sha256:') && sha256Digest(bytes) !== digest) throw new RegistryError('malformed', `${what}: content does not match its digest`);
      return bytes;
    });
  }

  /** A layer as a stream; the caller may stop reading early (destroy the stream). */
  async openBlob(ref: ImageReference, digest: string): Promise<BlobStream> {
    const { body, size } = await this.#limit(() => this.#openBlob(ref, digest));
    return { stream: body, size };
  }

  async #openBlob(ref: ImageReference, digest: string): Promise<{ body: Dispatcher.ResponseData['body']; size: number | undefined }> {
    let url = `${this.#base(ref.registry)}/v2/${ref.repository}/blobs/${digest}`;
    const what = `blob ${digest.slice(0, 19)} of ${ref.registry}/${ref.repository}`;
    const origin = new URL(url).origin;
    for (let hop = 0; hop < 5; hop++) {
      const sameOrigin = new URL(url).origin === origin;
      const res = await this.#send(ref, url, {}, what, { withAuth: sameOrigin, allowRedirect: true });
      if (res.statusCode >= 300 && res.statusCode < 400) {
        const location = header(res.headers, 'location');
        await res.body.dump();
        if (!location) throw new RegistryError('malformed', `${what}: redirect without a Location`);
        url = new URL(location, url).toString();
        if (new URL(url).protocol === 'http:' && !this.#opts.insecureHosts?.includes(new URL(url).host)) {
          throw new RegistryError('insecure', `${what}: the registry redirected to plain HTTP (${new URL(url).host}); list it with --insecure-registry if that is intended`);
        }
        continue;
      }
      const len = Number(header(res.headers, 'content-length'));
      return { body: res.body, size: Number.isFinite(len) ? len : undefined };
    }
    throw new RegistryError('malformed', `${what}: more than 5 redirects`);
  }

  /** One logical request: auth challenge handling and retries. Returns a 2xx (or 3xx when allowed) response. */
  async #send(
    ref: ImageReference,
    url: string,
    headers: Record<string, string>,
    what: string,
    opts: { withAuth?: boolean; allowRedirect?: boolean } = {},
  ): Promise<Dispatcher.ResponseData> {
    const host = new URL(url).host;
    const scope = `repository:${ref.repository}:pull`;
    const authKey = `${host} ${scope}`;
    let triedChallenge = false;
    for (let attempt = 0; ; attempt++) {
      const auth = opts.withAuth === false ? {} : await (this.#auth.get(authKey) ?? Promise.resolve<Auth>({}));
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method: 'GET',
          headers: { 'user-agent': 'meshcheck', ...headers, ...(auth.header ? { authorization: auth.header } : {}) },
          dispatcher: this.#dispatcher,
          signal: this.#opts.signal,
        });
      } catch (err) {
        const code = errorCode(err);
        if (this.#opts.signal?.aborted) throw err;
        const reason = `${code ?? 'error'}: ${(err as Error).message}`;
        if (code && TRANSIENT_CODES.has(code) && attempt < this.#opts.retries) {
          await this.#backoff(url, attempt, reason);
          continue;
        }
        const tlsHint = /SSL|EPROTO|TLS/i.test(reason) && url.startsWith('https:') ? `; if ${host} speaks plain HTTP, list it with --insecure-registry ${host}` : '';
        throw new RegistryError('unreachable', `${what}: cannot reach ${host} (${reason})${tlsHint}`);
      }
      const status = res.statusCode;
      if (status === 401 && !triedChallenge && opts.withAuth !== false) {
        triedChallenge = true;
        const challenge = header(res.headers, 'www-authenticate');
        await res.body.dump();
        this.#auth.set(authKey, this.#authorize(ref.registry, host, scope, challenge, what));
        await this.#auth.get(authKey);
        attempt--; // answering a challenge is not a retry
        continue;
      }
      if (status >= 200 && status < 300) return res;
      if (opts.allowRedirect && status >= 300 && status < 400) return res;
      const body = await readLimited(res.body, 64 * 1024, what).catch(() => Buffer.alloc(0));
      if (RETRY_STATUS.has(status) && attempt < this.#opts.retries) {
        await this.#backoff(url, attempt, `HTTP ${status}`, retryAfterMs(res.headers['retry-after']));
        continue;
      }
      throw this.#statusError(status, what, body, host);
    }
  }

  async #backoff(url: string, attempt: number, reason: string, retryAfter?: number): Promise<void> {
    const exp = Math.min(this.#opts.maxBackoffMs, this.#opts.backoffMs * 2 ** attempt);
    const delayMs = retryAfter !== undefined ? Math.min(retryAfter, 60_000) : Math.round(exp / 2 + Math.random() * (exp / 2));
    this.#opts.onRetry?.({ url, attempt: attempt + 1, delayMs, reason });
    await this.#sleep(delayMs, this.#opts.signal);
  }

  #statusError(status: number, what: string, body: Buffer, host: string): RegistryError {
    let detail = '';
    try {
      const j = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
      detail = j.errors?.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ') ?? '';
    } catch {
      detail = body.toString('utf8').slice(0, 200).replace(/\s+/g, ' ').trim();
    }
    const suffix = detail ? ` (${detail})` : '';
    if (status === 404) return new RegistryError('not-found', `${what}: not found on ${host}${suffix}`, status);
    if (status === 401 || status === 403) {
      return new RegistryError('unauthorized', `${what}: access denied by ${host} (HTTP ${status})${suffix}; log in with \`docker login ${host}\` or set DOCKER_AUTH_CONFIG`, status);
    }
    if (status === 429) return new RegistryError('rate-limited', `${what}: ${host} kept answering 429 Too Many Requests${suffix}`, status);
    if (status >= 500) return new RegistryError('server-error', `${what}: ${host} answered HTTP ${status}${suffix}`, status);
    return new RegistryError('unreachable', `${what}: ${host} answered HTTP ${status}${suffix}`, status);
  }

  /** Turn a challenge into an Authorization header value. */
  async #authorize(registry: string, host: string, scope: string, challengeHeader: string | undefined, what: string): Promise<Auth> {
    const challenges = parseChallenges(challengeHeader);
    const credential = await this.#credentials.get(registry).catch((err: Error) => {
      throw new RegistryError('unauthorized', `${what}: ${err.message}`);
    });
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer?.params.realm) return { header: `Bearer ${await this.#token(bearer.params, scope, credential, host, what)}` };
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!credential) throw new RegistryError('unauthorized', `${what}: ${host} wants a user name and password; log in with \`docker login ${host}\` or set DOCKER_AUTH_CONFIG`, 401);
      return { header: credential.basicHeader() };
    }
    throw new RegistryError('unauthorized', `${what}: ${host} answered 401 without a usable WWW-Authenticate challenge`, 401);
  }

  async #token(params: Record<string, string>, scope: string, credential: Credential | undefined, host: string, what: string): Promise<string> {
    const realm = new URL(params.realm ?? '');
    if (realm.protocol === 'http:' && !this.#opts.insecureHosts?.includes(realm.host) && !this.#opts.insecureHosts?.includes(host)) {
      throw new RegistryError('insecure', `${what}: the token service ${realm.host} is plain HTTP; list it with --insecure-registry if that is intended`);
    }
    const scopes = params.scope ? [params.scope] : [scope];
    let res: Dispatcher.ResponseData;
    try {
      if (credential?.isIdentityToken) {
        // OAuth2 refresh-token grant (distribution docs/spec/auth/oauth.md).
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.secret(), service: params.service ?? '', client_id: 'meshcheck' });
        for (const s of scopes) form.append('scope', s);
        res = await request(realm, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), dispatcher: this.#dispatcher, signal: this.#opts.signal });
      } else {
        if (params.service) realm.searchParams.set('service', params.service);
        for (const s of scopes) realm.searchParams.append('scope', s);
        res = await request(realm, {
          method: 'GET',
          headers: credential ? { authorization: credential.basicHeader() } : {},
          dispatcher: this.#dispatcher,
          signal: this.#opts.signal,
        });
      }
    } catch (err) {
      throw new RegistryError('unreachable', `${what}: cannot reach the token service ${realm.host} (${errorCode(err) ?? (err as Error).message})`);
    }
    const body = await readLimited(res.body, 1024 * 1024, `token from ${realm.host}`);
    if (res.statusCode !== 200) {
      const who = credential ? `with credentials from ${credential.source}` : 'anonymously';
      throw new RegistryError('unauthorized', `${what}: the token service ${realm.host} refused a token ${who} (HTTP ${res.statusCode}); check \`docker login ${host}\``, res.statusCode);
    }
    try {
      const j = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string };
      const token = j.token ?? j.access_token;
      if (!token) throw new Error('no token');
      return token;
    } catch {
      throw new RegistryError('unauthorized', `${what}: the token service ${realm.host} answered without a token`);
    }
  }
}
