import { describe, expect, test } from 'vitest';
import { apiHost, parseReference, ReferenceError } from './reference.ts';

const D = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  test.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['istio/pilot:1.28.0', 'docker.io/istio/pilot:1.28.0'],
    ['docker.io/istio/proxyv2:1.28.0', 'docker.io/istio/proxyv2:1.28.0'],
    ['index.docker.io/library/alpine', 'docker.io/library/alpine:latest'],
    ['ghcr.io/org/team/app:v1', 'ghcr.io/org/team/app:v1'],
    ['127.0.0.1:5000/meshcheck-test/probe:1', '127.0.0.1:5000/meshcheck-test/probe:1'],
    ['localhost/app', 'localhost/app:latest'],
    [`gcr.io/istio-release/pilot@${D}`, `gcr.io/istio-release/pilot@${D}`],
    [`quay.io/x/y:1.0@${D}`, `quay.io/x/y:1.0@${D}`],
  ])('%s → %s', (text, canonical) => expect(parseReference(text).canonical).toBe(canonical));

  test('parts', () => {
    expect(parseReference('127.0.0.1:5000/a/b:2')).toMatchObject({ registry: '127.0.0.1:5000', repository: 'a/b', tag: '2' });
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
  });

  test.each([
    ['', /empty/],
    ['Istio/Pilot:1', /must be lowercase/],
    ['istio/pilot:bad tag', /whitespace/],
    ['istio/pilot@sha256:xyz', /not a digest/],
    ['istio/pilot:-x', /not a valid tag/],
    ['a//b', /not a valid repository path component/],
  ])('refuses %j', (text, message) => {
    expect(() => parseReference(text)).toThrow(ReferenceError);
    expect(() => parseReference(text)).toThrow(message);
  });
});
