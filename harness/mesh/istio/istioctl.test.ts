import { describe, expect, it } from 'vitest';
import { installArgs, parseClientVersion, uninstallArgs } from './istioctl.ts';

const t = { kubeconfig: '/tmp/kc', context: 'kind-mc' };

describe('istioctl command lines', () => {
  it('install: profile, hub, tag, per-component images and extra settings, in that order', () => {
    expect(
      installArgs(t, {
        version: '1.27.0',
        profile: 'default',
        hub: 'docker.io/istio',
        tag: '1.27.0',
        images: { pilot: 'docker.io/istio/pilot@sha256:aa', proxy: 'docker.io/istio/proxyv2@sha256:bb' },
        set: { 'values.global.logging.level': 'default:debug' },
        readinessTimeoutSeconds: 300,
      }),
    ).toEqual([
      'install', '-y', '--kubeconfig', '/tmp/kc', '--context', 'kind-mc',
      '--set', 'profile=default', '--set', 'hub=docker.io/istio', '--set', 'tag=1.27.0',
      '--set', 'values.pilot.image=docker.io/istio/pilot@sha256:aa',
      '--set', 'values.global.proxy.image=docker.io/istio/proxyv2@sha256:bb',
      '--set', 'values.global.logging.level=default:debug',
      '--readiness-timeout', '300s',
    ]);
  });

  it('refuses an unknown component and a bare image name (Istio would put it under hub)', () => {
    expect(() => installArgs(t, { version: '1', profile: 'p', images: { envoy: 'a/b' }, readinessTimeoutSeconds: 1 })).toThrow(/unknown Istio component "envoy"/);
    expect(() => installArgs(t, { version: '1', profile: 'p', images: { pilot: 'pilot@sha256:aa' }, readinessTimeoutSeconds: 1 })).toThrow(/full reference/);
  });

  it('uninstall purges every revision', () => {
    expect(uninstallArgs({ kubeconfig: '/k' })).toEqual(['uninstall', '--purge', '-y', '--kubeconfig', '/k']);
  });

  it('reads the client version from `istioctl version --remote=false -o json`', () => {
    expect(parseClientVersion('{"clientVersion":{"version":"1.27.0","revision":"7359d8be2504"}}')).toBe('1.27.0');
    expect(parseClientVersion('client version: 1.27.0')).toBeUndefined();
  });
});
