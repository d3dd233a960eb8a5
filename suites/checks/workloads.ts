/** The echo workload and the client pod, as every check deploys them. Pure. */
import type { KubeObject } from '../../harness/kube/apply.ts';
import type { CheckSetup } from './types.ts';

const downward = [
  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
];

function deployment(s: CheckSetup, namespace: string, name: string, labels: Record<string, string>, env: { name: string; value: string }[], serviceAccount: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { ...s.labels, ...labels } },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: serviceAccount,
          ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
          containers: [
            {
              name: 'echo',
              image: s.echoImage,
              ports: [{ containerPort: 8080, name: 'http' }],
              env: [...downward, ...env],
              readinessProbe: { httpGet: { path: '/readyz', port: 8080 } },
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
        },
      },
    },
  };
}

function service(s: CheckSetup, namespace: string, name: string, selector: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { ...s.labels, app: selector.app ?? name } },
    spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  };
}

function serviceAccount(s: CheckSetup, namespace: string, name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels: s.labels } };
}

/** echo v1 and v2 behind Service echo (and echo-v1 / echo-v2 for Gateway API backendRefs). */
export function echoWorkload(s: CheckSetup, namespace = s.namespace): KubeObject[] {
  return [
    serviceAccount(s, namespace, 'echo'),
    ...['v1', 'v2'].map((v) => deployment(s, namespace, `echo-${v}`, { app: 'echo', version: v }, [{ name: 'VERSION', value: v }, { name: 'SERVICE_NAME', value: 'echo' }], 'echo')),
    service(s, namespace, 'echo', { app: 'echo' }),
    service(s, namespace, 'echo-v1', { app: 'echo', version: 'v1' }),
    service(s, namespace, 'echo-v2', { app: 'echo', version: 'v2' }),
  ];
}

/** The client pod: the echo image (it has node), used to send requests from inside the mesh. */
export function clientWorkload(s: CheckSetup, namespace: string): KubeObject[] {
  return [serviceAccount(s, namespace, 'client'), deployment(s, namespace, 'client', { app: 'client' }, [{ name: 'SERVICE_NAME', value: 'client' }], 'client')];
}
