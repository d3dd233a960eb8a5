/** ingress: a Gateway and route reached from outside the cluster — host and path matching, TLS, 404. */
import type { KubeObject } from '../../harness/kube/apply.ts';
import { exchange, presentedSans } from '../client/exchange.ts';
import { judgeIngress, type IngressCase } from '../oracles/ingress.ts';
import type { CheckDefinition, CheckSetup } from './types.ts';
import { echoWorkload } from './workloads.ts';

export const INGRESS_TLS_SECRET = 'meshcheck-ingress-tls';

function tlsSecret(s: CheckSetup, namespace: string): KubeObject[] {
  if (!s.ingressTls) return [];
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: INGRESS_TLS_SECRET, namespace, labels: s.labels },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from(s.ingressTls.cert).toString('base64'), 'tls.key': Buffer.from(s.ingressTls.key).toString('base64') },
    },
  ];
}

export function ingressManifests(s: CheckSetup): KubeObject[] {
  const host = s.ingressHost;
  const svc = `echo.${s.namespace}.svc.cluster.local`;
  if (s.api === 'istio') {
    return [
      ...echoWorkload(s),
      // Istio's Gateway finds credentialName in the gateway's own namespace (istio-system for the default ingress).
      ...tlsSecret(s, 'istio-system'),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name: 'ingress', namespace: s.namespace, labels: s.labels },
        spec: {
          selector: { istio: 'ingressgateway' },
          servers: [
            { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: [host] },
            ...(s.ingressTls ? [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: [host], tls: { mode: 'SIMPLE', credentialName: INGRESS_TLS_SECRET } }] : []),
          ],
        },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'ingress', namespace: s.namespace, labels: s.labels },
        spec: {
          hosts: [host],
          gateways: ['ingress'],
          http: [
            { match: [{ uri: { prefix: '/a' } }], route: [{ destination: { host: svc, subset: 'v1' } }] },
            { match: [{ uri: { prefix: '/b' } }], route: [{ destination: { host: svc, subset: 'v2' } }] },
          ],
        },
      },
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'echo', namespace: s.namespace, labels: s.labels }, spec: { host: svc, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } },
    ];
  }
  return [
    ...echoWorkload(s),
    ...tlsSecret(s, s.namespace),
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'ingress', namespace: s.namespace, labels: s.labels },
      spec: {
        gatewayClassName: 'istio',
        listeners: [
          { name: 'http', port: 80, protocol: 'HTTP', hostname: host },
          ...(s.ingressTls ? [{ name: 'https', port: 443, protocol: 'HTTPS', hostname: host, tls: { mode: 'Terminate', certificateRefs: [{ name: INGRESS_TLS_SECRET }] } }] : []),
        ],
      },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'ingress', namespace: s.namespace, labels: s.labels },
      spec: {
        parentRefs: [{ name: 'ingress' }],
        hostnames: [host],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: [{ name: 'echo-v1', port: 80 }] },
          { matches: [{ path: { type: 'PathPrefix', value: '/b' } }], backendRefs: [{ name: 'echo-v2', port: 80 }] },
        ],
      },
    },
  ];
}

const CASES = (host: string): IngressCase[] => [
  { host, path: '/a/cart', expect: { service: 'echo' } },
  { host, path: '/b/pay', expect: { service: 'echo' } },
  { host: `unknown.${host}`, path: '/a/cart', expect: { status: 404 } },
  { host, path: '/nowhere', expect: { status: 404 } },
];

export const ingressChecks: CheckDefinition[] = [
  {
    id: 'ingress.host-path',
    suite: 'ingress',
    title: 'host and path matching from outside the cluster; 404 for unknown hosts and paths; TLS termination',
    features: ['ingress'],
    apis: ['istio', 'gateway-api'],
    manifests: ingressManifests,
    run: async (env) => {
      const host = env.setup.ingressHost;
      const evs = [];
      for (const c of CASES(host)) evs.push({ case: c, exchange: await exchange(`${env.ingress.http}${c.path}`, { headers: { host: c.host } }) });
      if (env.setup.ingressTls) {
        const u = new URL(env.ingress.https);
        const c: IngressCase = { host, path: '/b/secure', expect: { service: 'echo' }, tls: true };
        evs.push({ case: c, exchange: await exchange(`${env.ingress.https}${c.path}`, { headers: { host } }), presentedSans: await presentedSans(u.hostname, Number(u.port), host).catch(() => []) });
      }
      return judgeIngress(evs);
    },
  },
];
