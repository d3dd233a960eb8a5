import { existsSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MEDIA_TYPES, pushImage, RegistryResponseError } from './oci-builder.ts';
import { requireTestbed } from './testbed.ts';
import { startTokenAuthRegistry, type TokenAuthRegistry } from './token-registry.ts';

const bed = await requireTestbed();
const REPO = 'meshcheck-test/token';
const USERS = { alice: 's3cret' };

async function token(reg: TokenAuthRegistry, scope: string, user?: [string, string]): Promise<{ status: number; token?: string; body: unknown }> {
  const url = `${reg.realm}?service=${encodeURIComponent(reg.service)}&scope=${encodeURIComponent(scope)}`;
  const headers: Record<string, string> = user ? { authorization: `Basic ${Buffer.from(user.join(':')).toString('base64')}` } : {};
  const res = await request(url, { headers });
  const body = (await res.body.json()) as { token?: string };
  return { status: res.statusCode, body, ...(body.token ? { token: body.token } : {}) };
}

function claims(jwt: string): { sub: string; aud: string; access: Array<{ type: string; name: string; actions: string[] }> } {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as ReturnType<typeof claims>;
}

describe.runIf(bed)('token-auth registry (real docker-registry, token endpoint in the test)', () => {
  let reg: TokenAuthRegistry;
  let pushedDigest: string;

  beforeAll(async () => {
    reg = await startTokenAuthRegistry({ users: USERS, anonymousPull: true });
  });

  afterAll(async () => {
    await reg?.close();
  });

  test('anonymous GET /v2/ is 401 with the Bearer challenge naming realm and service', async () => {
    const res = await request(`http://${reg.addr}/v2/`);
    await res.body.dump();
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${reg.realm}",service="${reg.service}"`);
  });

  test('a repository request is challenged with its scope', async () => {
    const res = await request(`http://${reg.addr}/v2/${REPO}/manifests/1`);
    await res.body.dump();
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${reg.realm}",service="${reg.service}",scope="repository:${REPO}:pull"`);
  });

  test('with credentials: a pull,push token; oci-builder pushes an image with it', async () => {
    const t = await token(reg, `repository:${REPO}:pull,push`, ['alice', 's3cret']);
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ access_token: t.token, expires_in: 300, issued_at: expect.any(String) });
    expect(claims(t.token!)).toMatchObject({ sub: 'alice', aud: reg.service, access: [{ type: 'repository', name: REPO, actions: ['pull', 'push'] }] });
    const pushed = await pushImage(
      reg.addr,
      REPO,
      '1',
      { architecture: 'arm64', layers: [{ files: [{ path: 'hello', content: 'hello\n' }] }] },
      { headers: { authorization: `Bearer ${t.token}` } },
    );
    pushedDigest = pushed.digest;
    expect(reg.tokenRequests.at(-1)).toEqual({ account: 'alice', scope: [`repository:${REPO}:pull,push`], authorized: true });
  });

  test('anonymously: a pull token reads the manifest', async () => {
    const t = await token(reg, `repository:${REPO}:pull`);
    expect(claims(t.token!)).toMatchObject({ sub: '', access: [{ name: REPO, actions: ['pull'] }] });
    const res = await request(`http://${reg.addr}/v2/${REPO}/manifests/1`, {
      headers: { authorization: `Bearer ${t.token}`, accept: MEDIA_TYPES.ociManifest },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['docker-content-digest']).toBe(pushedDigest);
    expect(await res.body.json()).toMatchObject({ mediaType: MEDIA_TYPES.ociManifest });
  });

  test('anonymously: asking for push yields pull only, and the registry refuses the upload with 401 insufficient_scope', async () => {
    const t = await token(reg, `repository:${REPO}:pull,push`);
    expect(t.status).toBe(200);
    expect(claims(t.token!).access).toEqual([{ type: 'repository', name: REPO, actions: ['pull'] }]);
    const err = await pushImage(
      reg.addr,
      REPO,
      'anon',
      { architecture: 'arm64', layers: [{ files: [{ path: 'anon', content: String(Date.now()) }] }] },
      { headers: { authorization: `Bearer ${t.token}` } },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryResponseError);
    expect((err as RegistryResponseError).status).toBe(401);
    expect((err as Error).message).toMatch(/^starting an upload to meshcheck-test\/token: POST .* answered 401: .*UNAUTHORIZED/);
  });

  test('a wrong password is 401 at the token endpoint, and is recorded as not authorized', async () => {
    const t = await token(reg, `repository:${REPO}:pull`, ['alice', 'wrong']);
    expect(t.status).toBe(401);
    expect(t.token).toBeUndefined();
    expect(reg.tokenRequests.at(-1)).toEqual({ account: 'alice', scope: [`repository:${REPO}:pull`], authorized: false });
  });

  test('a token signed by another key is refused by the registry (its signature check is real)', async () => {
    await using other = await startTokenAuthRegistry({ anonymousPull: true });
    const foreign = await token(other, `repository:${REPO}:pull`);
    // Same service and issuer names, different key and certificate: only the x5c chain check can tell them apart.
    const res = await request(`http://${reg.addr}/v2/${REPO}/manifests/1`, { headers: { authorization: `Bearer ${foreign.token}` } });
    await res.body.dump();
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/,error="invalid_token"$/);
  });

  test('without anonymousPull, an anonymous token grants nothing; close() stops the registry and removes its files', async () => {
    const closed = await startTokenAuthRegistry({});
    const t = await token(closed, `repository:${REPO}:pull`);
    expect(claims(t.token!).access).toEqual([]);
    const res = await request(`http://${closed.addr}/v2/${REPO}/manifests/1`, { headers: { authorization: `Bearer ${t.token}` } });
    await res.body.dump();
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/,error="insufficient_scope"$/);
    expect(existsSync(closed.dir)).toBe(true);
    await closed.close();
    await expect(fetch(`http://${closed.addr}/v2/`)).rejects.toThrow();
    await expect(fetch(closed.realm)).rejects.toThrow();
    expect(existsSync(closed.dir)).toBe(false);
  });
});
