import { describe, expect, test } from 'vitest';
import { parseChallenges } from './www-authenticate.ts';

describe('WWW-Authenticate', () => {
  test("Docker Hub's bearer challenge", () => {
    expect(
      parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'),
    ).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
  });
  test('basic, and an escaped quote', () => {
    expect(parseChallenges('Basic realm="Registry \\"x\\" Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry "x" Realm' } }]);
  });
  test('a scope with several actions stays one value; empty header gives nothing', () => {
    expect(parseChallenges('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull,push"')[0]?.params.scope).toBe(
      'repository:o/r:pull,push',
    );
    expect(parseChallenges(undefined)).toEqual([]);
  });
});
