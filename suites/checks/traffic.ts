/** traffic: header and path routing, weighted split, version subsets, cross-namespace calls. */
import type { KubeObject } from '../../harness/kube/apply.ts';
import { converge } from '../oracles/convergence.ts';
import { bodyField, type Exchange, type OracleResult } from '../oracles/evidence.ts';
import { backendOf, judgeSplit } from '../oracles/split.ts';
import type { CheckDefinition, CheckEnv, CheckSetup } from './types.ts';
import { clientWorkload, echoWorkload } from './workloads.ts';

const ISTIO = 'networking.istio.io/v1';
const GW = 'gateway.networking.k8s.io/v1';

export function destinationRule(s: CheckSetup): KubeObject {
  return {
    apiVersion: ISTIO,
    kind: 'DestinationRule',
    metadata: { name: 'echo', namespace: s.namespace, labels: s.labels },
    spec: { host: `echo.${s.namespace}.svc.cluster.local`, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
  };
}

type Rule = { header?: [string, string]; pathPrefix?: string; to: { v1?: number; v2?: number } };

/** One route for the echo service in either API: an Istio VirtualService or a Gateway API HTTPRoute (GAMMA). */
export function echoRoute(s: CheckSetup, name: string, rules: Rule[], extra: { retries?: { attempts: number; retryOn: string } } = {}): KubeObject[] {
  const host = `echo.${s.namespace}.svc.cluster.local`;
  if (s.api === 'istio') {
    return [
      destinationRule(s),
      {
        apiVersion: ISTIO,
        kind: 'VirtualService',
        metadata: { name, namespace: s.namespace, labels: s.labels },
        spec: {
          hosts: [host],
          http: rules.map((r) => ({
            ...(r.header || r.pathPrefix ? { match: [{ ...(r.header ? { headers: { [r.header[0]]: { exact: r.header[1] } } } : {}), ...(r.pathPrefix ? { uri: { prefix: r.pathPrefix } } : {}) }] } : {}),
            route: Object.entries(r.to).map(([subset, weight]) => ({ destination: { host, subset }, weight })),
            ...(extra.retries ? { retries: { attempts: extra.retries.attempts, retryOn: extra.retries.retryOn, perTryTimeout: '2s' } } : {}),
          })),
        },
      },
    ];
  }
  return [
    {
      apiVersion: GW,
      kind: 'HTTPRoute',
      metadata: { name, namespace: s.namespace, labels: s.labels },
      spec: {
        parentRefs: [{ group: '', kind: 'Service', name: 'echo', port: 80 }],
        rules: rules.map((r) => ({
          ...(r.header || r.pathPrefix ? { matches: [{ ...(r.header ? { headers: [{ type: 'Exact', name: r.header[0], value: r.header[1] }] } : {}), ...(r.pathPrefix ? { path: { type: 'PathPrefix', value: r.pathPrefix } } : {}) }] } : {}),
          backendRefs: Object.entries(r.to).map(([v, weight]) => ({ name: `echo-${v}`, port: 80, weight })),
        })),
      },
    },
  ];
}

const url = (s: CheckSetup, path = '/') => `http://echo.${s.namespace}.svc.cluster.local${path}`;

/** Converge on the probe, then judge `sample` with `judge`. */
async function convergeThen(env: CheckEnv, probe: { url: string; headers?: Record<string, string> }, ok: (e: Exchange) => boolean, judge: () => Promise<OracleResult>): Promise<OracleResult> {
  const c = await converge(async () => (await env.fromClient(env.setup.namespace, [probe]))[0]!, ok, { ...env.convergence, ...(env.signal ? { signal: env.signal } : {}) });
  if (!c.converged) return { verdict: 'fail', reason: `did not converge: ${env.convergence.consecutive} consecutive successes not reached within ${env.convergence.timeoutMs / 1000} s (${c.attempts} attempts)`, evidence: c.tail };
  return judge();
}

function routedTo(version: string) {
  return (e: Exchange) => (e.response?.status ?? 0) < 400 && backendOf(e) === version;
}

function allTo(exchanges: Exchange[], version: string, what: string): OracleResult {
  const wrong = exchanges.filter((e) => !routedTo(version)(e));
  return wrong.length
    ? { verdict: 'fail', reason: `${wrong.length} of ${exchanges.length} ${what} did not reach ${version}`, evidence: wrong.slice(0, 8) }
    : { verdict: 'pass', reason: `all ${exchanges.length} ${what} reached ${version}`, evidence: exchanges.slice(0, 4) };
}

export const trafficChecks: CheckDefinition[] = [
  {
    id: 'traffic.header-routing',
    suite: 'traffic',
    title: 'a header match sends requests to v2, the rest to v1',
    features: ['sidecar'],
    apis: ['istio', 'gateway-api'],
    manifests: (s) => [...echoWorkload(s), ...clientWorkload(s, s.namespace), ...echoRoute(s, 'echo-header', [{ header: ['x-version', 'v2'], to: { v2: 100 } }, { to: { v1: 100 } }])],
    run: async (env) =>
      convergeThen(env, { url: url(env.setup), headers: { 'x-version': 'v2' } }, routedTo('v2'), async () => {
        const [withHeader, without] = await Promise.all([
          env.fromClient(env.setup.namespace, [{ url: url(env.setup), headers: { 'x-version': 'v2' }, count: 20 }]),
          env.fromClient(env.setup.namespace, [{ url: url(env.setup), count: 20 }]),
        ]);
        const a = allTo(withHeader, 'v2', 'requests with x-version: v2');
        const b = allTo(without, 'v1', 'requests without the header');
        return a.verdict === 'pass' && b.verdict === 'pass' ? { verdict: 'pass', reason: `${a.reason}; ${b.reason}`, evidence: [...a.evidence, ...b.evidence] } : a.verdict === 'fail' ? a : b;
      }),
  },
  {
    id: 'traffic.path-routing',
    suite: 'traffic',
    title: 'a path prefix sends requests to v2',
    features: ['sidecar'],
    apis: ['istio', 'gateway-api'],
    manifests: (s) => [...echoWorkload(s), ...clientWorkload(s, s.namespace), ...echoRoute(s, 'echo-path', [{ pathPrefix: '/v2', to: { v2: 100 } }, { to: { v1: 100 } }])],
    run: async (env) =>
      convergeThen(env, { url: url(env.setup, '/v2/x') }, routedTo('v2'), async () => allTo(await env.fromClient(env.setup.namespace, [{ url: url(env.setup, '/v2/y'), count: 20 }]), 'v2', 'requests to /v2/…')),
  },
  {
    id: 'traffic.weighted-split',
    suite: 'traffic',
    title: 'an 80/20 split, judged with a binomial bound',
    features: ['sidecar'],
    apis: ['istio', 'gateway-api'],
    manifests: (s) => [...echoWorkload(s), ...clientWorkload(s, s.namespace), ...echoRoute(s, 'echo-split', [{ to: { v1: 80, v2: 20 } }])],
    run: async (env) =>
      convergeThen(env, { url: url(env.setup) }, (e) => (e.response?.status ?? 0) < 400, async () =>
        judgeSplit(await env.fromClient(env.setup.namespace, [{ url: url(env.setup), count: 600 }]), { weights: { v1: 80, v2: 20 } }),
      ),
  },
  {
    id: 'traffic.subsets',
    suite: 'traffic',
    title: 'DestinationRule subsets select pods by their version label',
    features: ['sidecar'],
    apis: ['istio'],
    manifests: (s) => [...echoWorkload(s), ...clientWorkload(s, s.namespace), ...echoRoute(s, 'echo-subset', [{ to: { v2: 100 } }])],
    run: async (env) =>
      convergeThen(env, { url: url(env.setup) }, routedTo('v2'), async () => allTo(await env.fromClient(env.setup.namespace, [{ url: url(env.setup), count: 20 }]), 'v2', 'requests to subset v2')),
  },
  {
    id: 'traffic.cross-namespace',
    suite: 'traffic',
    title: 'a client in another namespace reaches the service by its FQDN',
    features: ['sidecar'],
    apis: ['istio', 'gateway-api'],
    manifests: (s) => [...echoWorkload(s), ...clientWorkload(s, s.clientNamespace)],
    run: async (env) => {
      const c = await converge(async () => (await env.fromClient(env.setup.clientNamespace, [{ url: url(env.setup) }]))[0]!, (e) => (e.response?.status ?? 0) < 400, env.convergence);
      const last = c.tail.at(-1);
      return c.converged && bodyField(last!, 'namespace') === env.setup.namespace
        ? { verdict: 'pass', reason: `served across namespaces by ${String(bodyField(last!, 'pod'))}`, evidence: c.tail }
        : { verdict: 'fail', reason: 'the client in the other namespace was not served', evidence: c.tail };
    },
  },
];
