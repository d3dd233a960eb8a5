/** mtls: STRICT, PERMISSIVE and DISABLE by PeerAuthentication, and the client's SPIFFE identity at the server. */
import type { KubeObject } from '../../harness/kube/apply.ts';
import { converge } from '../oracles/convergence.ts';
import { judgeMtls, type MtlsMode, served, spiffeId } from '../oracles/mtls.ts';
import type { CheckDefinition, CheckSetup } from './types.ts';
import { clientWorkload, echoWorkload } from './workloads.ts';

export function peerAuthentication(s: CheckSetup, mode: MtlsMode): KubeObject {
  return { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: s.namespace, labels: s.labels }, spec: { mtls: { mode } } };
}

function check(mode: MtlsMode): CheckDefinition {
  return {
    id: `mtls.${mode.toLowerCase()}`,
    suite: 'mtls',
    title: `PeerAuthentication ${mode}: ${mode === 'STRICT' ? 'plaintext refused, mesh clients served with their identity' : mode === 'PERMISSIVE' ? 'plaintext and mesh clients served' : 'mesh clients served without mTLS'}`,
    features: ['sidecar', 'mtls-policy'],
    apis: ['istio'],
    // The mesh client lives beside the server (injected); the plaintext client lives in clientNamespace, which
    // is created without injection.
    manifests: (s) => [...echoWorkload(s), ...clientWorkload(s, s.namespace), ...clientWorkload(s, s.clientNamespace), peerAuthentication(s, mode)],
    run: async (env) => {
      const url = `http://echo.${env.setup.namespace}.svc.cluster.local/mtls`;
      const want = (e: Parameters<typeof served>[0]) => (mode === 'STRICT' ? !served(e) : served(e));
      const c = await converge(async () => (await env.fromClient(env.setup.clientNamespace, [{ url }]))[0]!, want, env.convergence);
      const plaintext = [...c.tail.slice(-3), ...(await env.fromClient(env.setup.clientNamespace, [{ url, count: 5 }]))];
      const mesh = await env.fromClient(env.setup.namespace, [{ url, count: 5 }]);
      return judgeMtls(mode, { plaintext, mesh }, mode === 'DISABLE' ? undefined : spiffeId(env.setup.namespace, 'client'));
    },
  };
}

export const mtlsChecks: CheckDefinition[] = [check('STRICT'), check('PERMISSIVE'), check('DISABLE')];
