import { describe, expect, it } from 'vitest';
import { nextCommands, reproTargets } from './repro.ts';

const cells = [
  { id: 'kind-arm64-native-istio-1.27.0', cell: { arch: 'arm64', mode: 'native' }, istioVersion: '1.27.0', status: 'fail', checks: [{ id: 'traffic.weighted-split', status: 'fail' }, { id: 'mtls.strict', status: 'flaky' }, { id: 'retry.within-limit', status: 'pass' }] },
  { id: 'kind-amd64-native-istio-1.27.0', cell: { arch: 'amd64', mode: 'native' }, istioVersion: '1.27.0', status: 'pass', checks: [{ id: 'traffic.weighted-split', status: 'pass' }] },
  { id: 'kind-arm64-emulated-istio-1.27.0', cell: { arch: 'arm64', mode: 'emulated' }, istioVersion: '1.27.0', status: 'infra-error', checks: [] },
];

describe('repro', () => {
  it('on an amd64 host a native arm64 failure is reproduced in hybrid mode, with only the failing suites', () => {
    const [t, u] = reproTargets(cells, 'amd64');
    expect(t).toMatchObject({ cellId: 'kind-arm64-native-istio-1.27.0', arch: 'arm64', mode: 'hybrid', istioVersion: '1.27.0', suites: ['traffic', 'mtls'], checks: ['traffic.weighted-split', 'mtls.strict'] });
    expect(t?.note).toMatch(/reproduced in hybrid mode/);
    expect(u).toMatchObject({ cellId: 'kind-arm64-emulated-istio-1.27.0', mode: 'emulated' });
  });

  it('on an arm64 host it runs natively; --case picks one check', () => {
    expect(reproTargets(cells, 'arm64', 'mtls.strict')).toEqual([expect.objectContaining({ mode: 'native', checks: ['mtls.strict'], suites: ['mtls'] })]);
    expect(reproTargets(cells, 'arm64', 'nothing.here')).toEqual([]);
  });

  it('prints the next commands for the kept cluster', () => {
    expect(nextCommands('/k')).toContain('istioctl proxy-config cluster <pod>.<namespace>');
    expect(nextCommands('/k')[0]).toBe('export KUBECONFIG=/k');
  });
});
