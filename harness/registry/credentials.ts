/**
 * Registry credentials, found the way the docker CLI finds them (docker/cli: cli/config/configfile): the
 * DOCKER_AUTH_CONFIG environment variable (a config.json document, as CI systems and testcontainers use it), then
 * $DOCKER_CONFIG/config.json or ~/.docker/config.json — `auths` entries, per-registry `credHelpers` and a global
 * `credsStore`, the helpers run as `docker-credential-<name> get` with the server on stdin.
 *
 * Secrets live only inside Credential objects, which print as "[redacted]" everywhere (toString, JSON, inspect),
 * so they cannot leak into output, reports or error messages by accident.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { DOCKER_HUB } from './reference.ts';

export class Credential {
  readonly #username: string;
  readonly #secret: string;
  /** Where it came from, safe to print: "DOCKER_AUTH_CONFIG", "~/.docker/config.json auths", "helper ecr-login". */
  readonly source: string;
  constructor(username: string, secret: string, source: string) {
    this.#username = username;
    this.#secret = secret;
    this.source = source;
  }
  /** An identity (refresh) token rather than a password: helpers say so with the user name "<token>". */
  get isIdentityToken(): boolean {
    return this.#username === '<token>';
  }
  basicHeader(): string {
    return `Basic ${Buffer.from(`${this.#username}:${this.#secret}`).toString('base64')}`;
  }
  /** For the OAuth2 refresh-token grant only. */
  secret(): string {
    return this.#secret;
  }
  toString(): string {
    return `[credentials from ${this.source}: redacted]`;
  }
  toJSON(): string {
    return this.toString();
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Keys under which a registry may be stored in config.json. */
function configKeys(registry: string): string[] {
  if (registry === DOCKER_HUB) return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

export interface CredentialStoreOptions {
  env?: Record<string, string | undefined>;
  /** Run credential helpers (default true). */
  helpers?: boolean;
}

export class CredentialStore {
  readonly #env: Record<string, string | undefined>;
  readonly #helpers: boolean;
  #configs: Promise<Array<{ config: DockerConfig; name: string }>> | undefined;
  readonly #cache = new Map<string, Promise<Credential | undefined>>();
  constructor(opts: CredentialStoreOptions = {}) {
    this.#env = opts.env ?? process.env;
    this.#helpers = opts.helpers ?? true;
  }

  async #loadConfigs(): Promise<Array<{ config: DockerConfig; name: string }>> {
    const out: Array<{ config: DockerConfig; name: string }> = [];
    const inline = this.#env.DOCKER_AUTH_CONFIG;
    if (inline) {
      try {
        out.push({ config: JSON.parse(inline) as DockerConfig, name: 'DOCKER_AUTH_CONFIG' });
      } catch {
        throw new Error('DOCKER_AUTH_CONFIG is not valid JSON: it must hold a docker config.json document ({"auths": {...}})');
      }
    }
    const dir = this.#env.DOCKER_CONFIG ?? path.join(this.#env.HOME ?? os.homedir(), '.docker');
    const file = path.join(dir, 'config.json');
    try {
      out.push({ config: JSON.parse(await readFile(file, 'utf8')) as DockerConfig, name: file });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} could not be read as JSON: fix or remove it`);
    }
    return out;
  }

  /** Credentials for a registry, or undefined for anonymous access. */
  get(registry: string): Promise<Credential | undefined> {
    let hit = this.#cache.get(registry);
    if (!hit) {
      hit = this.#lookup(registry);
      this.#cache.set(registry, hit);
    }
    return hit;
  }

  async #lookup(registry: string): Promise<Credential | undefined> {
    this.#configs ??= this.#loadConfigs();
    for (const { config, name } of await this.#configs) {
      const keys = configKeys(registry);
      const helper = keys.map((k) => config.credHelpers?.[k]).find(Boolean) ?? undefined;
      if (helper && this.#helpers) return this.#fromHelper(helper, registry);
      for (const key of keys) {
        const a = config.auths?.[key];
        if (!a) continue;
        if (a.identitytoken) return new Credential('<token>', a.identitytoken, `${name} auths`);
        if (a.auth) {
          const decoded = Buffer.from(a.auth, 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          if (colon === -1) throw new Error(`${name}: auths["${key}"].auth is not base64 of "user:password"`);
          return new Credential(decoded.slice(0, colon), decoded.slice(colon + 1), `${name} auths`);
        }
        if (a.username && a.password) return new Credential(a.username, a.password, `${name} auths`);
      }
      if (config.credsStore && this.#helpers) {
        const c = await this.#fromHelper(config.credsStore, registry);
        if (c) return c;
      }
    }
    return undefined;
  }

  async #fromHelper(helper: string, registry: string): Promise<Credential | undefined> {
    const server = registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
    // Loaded here: most audits never run a helper, and execa costs start-up time.
    const { runCommand } = await import('../process/run.ts');
    const r = await runCommand(`docker-credential-${helper}`, ['get'], { input: server, timeoutMs: 30_000, env: this.#env, extendEnv: false });
    if (r.spawnError) throw new Error(`credential helper docker-credential-${helper} is configured for ${registry} but not installed`);
    // "credentials not found in native keychain" is the helpers' standard answer for "no entry".
    if (!r.ok) return undefined;
    try {
      const j = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
      return j.Secret ? new Credential(j.Username ?? '', j.Secret, `helper ${helper}`) : undefined;
    } catch {
      throw new Error(`credential helper docker-credential-${helper} printed something that is not JSON`);
    }
  }
}
