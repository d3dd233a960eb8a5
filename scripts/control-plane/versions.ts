/**
 * What the test control plane runs. Kubernetes and etcd are paired as kubeadm pairs them (etcd 3.5.21 for 1.33,
 * kubernetes cmd/kubeadm/app/constants/constants.go SupportedEtcdVersion); kwok v0.7.0 is the newest release that
 * builds with the Kubernetes 1.33 libraries (v0.8.0 needs Go 1.26 and 1.36 libraries); istioctl is the default
 * config's Istio.
 */
import { DEFAULT_GATEWAY_API_VERSION, DEFAULT_ISTIO_VERSION, DEFAULT_KIND_VERSION, DEFAULT_KUBERNETES_VERSION } from '../../harness/defaults.ts';

export const VERSIONS = {
  kubernetes: DEFAULT_KUBERNETES_VERSION,
  etcd: '3.5.21',
  kwok: '0.7.0',
  istio: DEFAULT_ISTIO_VERSION,
  gatewayApi: DEFAULT_GATEWAY_API_VERSION,
  /** The real kind CLI: its config parser and failure paths are tested here (no node image can run here). */
  kind: DEFAULT_KIND_VERSION,
  /** Lints the project's GitHub workflows in the tests. */
  actionlint: '1.7.12',
} as const;

export type Versions = { -readonly [K in keyof typeof VERSIONS]: string };

/**
 * Istio's tags (1.27.0) are not semver, so the module proxy knows a release only by the pseudo-version of its tag
 * commit (committer time + 12-hex commit). 1.27.0 is tag commit 7359d8be2504.
 */
export const ISTIO_MODULE_VERSIONS: Readonly<Record<string, string>> = {
  '1.27.0': 'v0.0.0-20250808040725-7359d8be2504',
};

/**
 * k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging (its go.mod), which
 * is not in the module zip; a scratch module replaces each with the published v0.<minor>.<patch>.
 */
export const KUBERNETES_STAGING_MODULES = [
  'api', 'apiextensions-apiserver', 'apimachinery', 'apiserver', 'cli-runtime', 'client-go', 'cloud-provider',
  'cluster-bootstrap', 'code-generator', 'component-base', 'component-helpers', 'controller-manager', 'cri-api',
  'cri-client', 'csi-translation-lib', 'dynamic-resource-allocation', 'endpointslice', 'externaljwt', 'kms',
  'kube-aggregator', 'kube-controller-manager', 'kube-proxy', 'kube-scheduler', 'kubectl', 'kubelet', 'metrics',
  'mount-utils', 'pod-security-admission', 'sample-apiserver', 'sample-cli-plugin', 'sample-controller',
] as const;

export const TOOLS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'istioctl', 'kind', 'actionlint'] as const;
export type ToolName = (typeof TOOLS)[number];
