import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { retryAfterMs } from './client.ts';
import { CredentialStore } from './credentials.ts';

describe('registry credentials', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meshcheck-creds-'));
    await mkdir(path.join(dir, 'bin'));
    // A real credential helper program speaking the docker-credential-helpers protocol: server URL on stdin.
    const helper = path.join(dir, 'bin', 'docker-credential-meshcheck-test');
    await writeFile(
      helper,
      `#!/bin/sh\nread server\nif [ "$1" = get ] && [ "$server" = "helped.example.com" ]; then\n  printf '{"ServerURL":"%s","Username":"robot","Secret":"helper-secret"}' "$server"\nelse\n  echo "credentials not found in native keychain" >&2; exit 1\nfi\n`,
    );
    await chmod(helper, 0o755);
    await writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub-secret').toString('base64') },
          'ghcr.io': { identitytoken: 'refresh-secret' },
        },
        credHelpers: { 'helped.example.com': 'meshcheck-test', 'other.example.com': 'meshcheck-test' },
      }),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const store = () => new CredentialStore({ env: { DOCKER_CONFIG: dir, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` } });

  test('auths of the Docker config, under the docker.io key', async () => {
    const c = await store().get('docker.io');
    expect(c?.basicHeader()).toBe(`Basic ${Buffer.from('hubuser:hub-secret').toString('base64')}`);
    expect(c?.source).toBe(`${path.join(dir, 'config.json')} auths`);
  });

  test('identity tokens are recognised', async () => {
    expect((await store().get('ghcr.io'))?.isIdentityToken).toBe(true);
  });

  test('credential helpers are run; "not found" from a helper means anonymous', async () => {
    const c = await store().get('helped.example.com');
    expect(c?.source).toBe('helper meshcheck-test');
    expect(c?.basicHeader()).toBe(`Basic ${Buffer.from('robot:helper-secret').toString('base64')}`);
    expect(await store().get('other.example.com')).toBeUndefined();
    expect(await store().get('quay.io')).toBeUndefined();
  });

  test('DOCKER_AUTH_CONFIG comes first; broken JSON is a clear error', async () => {
    const env = { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'quay.io': { username: 'u', password: 'env-secret' } } }), DOCKER_CONFIG: dir };
    expect((await new CredentialStore({ env }).get('quay.io'))?.source).toBe('DOCKER_AUTH_CONFIG auths');
    await expect(new CredentialStore({ env: { DOCKER_AUTH_CONFIG: '{nope' } }).get('quay.io')).rejects.toThrow(/DOCKER_AUTH_CONFIG is not valid JSON/);
  });

  test('secrets never show when a credential is printed, serialised or inspected', async () => {
    const c = (await store().get('docker.io'))!;
    for (const shown of [String(c), JSON.stringify({ c }), inspect(c), `${c}`]) {
      expect(shown).not.toMatch(/hub-secret|hubuser/);
      expect(shown).toMatch(/redacted/);
    }
  });
});

describe('Retry-After', () => {
  test('seconds and HTTP dates', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
