/**
 * A conformance check declared as data — id, the features it needs, the APIs it exists for, its manifests — plus
 * a function that judges it on a live cluster, as Gateway API's conformance tests are declared
 * (conformance/utils/suite: ConformanceTest{ShortName, Features, Manifests, Test}).
 */
import type { SuiteName } from '../../harness/config/schema.ts';
import type { KubeClient } from '../../harness/kube/client.ts';
import type { KubeObject } from '../../harness/kube/apply.ts';
import type { StartedCrashGuard } from '../../harness/kube/crash-guard.ts';
import type { Exchange, OracleResult } from '../oracles/evidence.ts';

export type MeshApi = 'istio' | 'gateway-api';

/** What a check needs from the cell; a check whose features the cell lacks is skipped with the reason. */
export type Feature = 'sidecar' | 'traffic-capture' | 'ingress' | 'mtls-policy' | 'retry-policy' | 'load-generator';

export interface CheckSetup {
  /** The namespace of the check's server side (labelled for injection). */
  namespace: string;
  /** A second namespace for the client where a check needs one (cross-namespace, plaintext client). */
  clientNamespace: string;
  api: MeshApi;
  echoImage: string;
  /** meshcheck's labels for everything it creates. */
  labels: Record<string, string>;
  /** Pin workloads to nodes of the architecture under test. */
  nodeSelector?: Record<string, string>;
  /** The host name the ingress checks use. */
  ingressHost: string;
  /** PEM certificate and key for the ingress host (TLS termination). */
  ingressTls?: { cert: string; key: string };
}

export interface CheckEnv {
  setup: CheckSetup;
  client: KubeClient;
  /** Send requests from the in-cluster client pod (namespace, pod label app=client). */
  fromClient: (namespace: string, requests: { url: string; headers?: Record<string, string>; count?: number }[]) => Promise<Exchange[]>;
  /** The gateway from outside the cluster: host port mapping. */
  ingress: { http: string; https: string };
  convergence: { consecutive: number; timeoutMs: number };
  guard?: StartedCrashGuard;
  signal?: AbortSignal;
}

export interface CheckDefinition {
  id: string;
  suite: SuiteName;
  title: string;
  features: Feature[];
  apis: MeshApi[];
  /** Everything the check applies (workloads, policies, routes), validated by the API server. */
  manifests: (s: CheckSetup) => KubeObject[];
  /** Judge it on a live cluster with a data plane. */
  run: (env: CheckEnv) => Promise<OracleResult>;
}
