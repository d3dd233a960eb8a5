/**
 * The kind cluster configuration meshcheck generates (kind.x-k8s.io/v1alpha4, kind's
 * pkg/apis/config/v1alpha4/types.go @ v0.32.0). Pure: the same spec always gives the same YAML, which is what
 * `--dry-run` prints and what the tests validate with the real kind binary.
 */
import { stringify } from 'yaml';

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  listenAddress?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface KindClusterSpec {
  name: string;
  /** Node image, pinned by digest (index digest for native, per-arch manifest digest for a foreign arch). */
  nodeImage: string;
  workers: number;
  /** Host ports for the ingress gateway (extraPortMappings on the control-plane node, labelled ingress-ready). */
  ingress?: { httpHostPort: number; httpsHostPort: number; listenAddress?: string };
  /**
   * A local registry the nodes pull through (kind's local-registry recipe): containerd reads per-registry hosts
   * from /etc/containerd/certs.d, where meshcheck writes hosts.toml after create.
   */
  registry?: { host: string; endpoint: string };
  /** Labels on every node (e.g. meshcheck.run). */
  nodeLabels?: Record<string, string>;
}

/** kind's own name rule (pkg/internal/apis/config/validate.go: ^[a-z0-9.-]+$), and a DNS-label length. */
export const CLUSTER_NAME = /^[a-z0-9][a-z0-9.-]{0,48}$/;

export function kindConfig(spec: KindClusterSpec): Record<string, unknown> {
  if (!CLUSTER_NAME.test(spec.name)) throw new Error(`kind cluster name "${spec.name}" is not valid: use lowercase letters, digits, "-" and "." (at most 49)`);
  if (!/@sha256:[0-9a-f]{64}$/.test(spec.nodeImage)) throw new Error(`node image ${spec.nodeImage} is not pinned by digest: kind's release notes require image@sha256:…`);
  const labels = spec.nodeLabels && Object.keys(spec.nodeLabels).length ? { labels: spec.nodeLabels } : {};
  const controlPlane: Record<string, unknown> = { role: 'control-plane', image: spec.nodeImage, ...labels };
  if (spec.ingress) {
    const listenAddress = spec.ingress.listenAddress ?? '127.0.0.1';
    controlPlane.labels = { ...(spec.nodeLabels ?? {}), 'ingress-ready': 'true' };
    controlPlane.extraPortMappings = [
      { containerPort: 80, hostPort: spec.ingress.httpHostPort, listenAddress, protocol: 'TCP' },
      { containerPort: 443, hostPort: spec.ingress.httpsHostPort, listenAddress, protocol: 'TCP' },
    ];
  }
  const nodes = [controlPlane, ...Array.from({ length: spec.workers }, () => ({ role: 'worker', image: spec.nodeImage, ...labels }))];
  const config: Record<string, unknown> = {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: spec.name,
    nodes,
  };
  if (spec.registry) {
    // Not needed with node images from kind v0.27.0 on (kind's local-registry docs), kept for older images.
    config.containerdConfigPatches = ['[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"'];
  }
  return config;
}

export function kindConfigYaml(spec: KindClusterSpec): string {
  return stringify(kindConfig(spec));
}

/** The hosts.toml a node needs to pull `registry.host` from `registry.endpoint` (containerd's hosts format). */
export function registryHostsToml(registry: { host: string; endpoint: string }): string {
  return `[host."${registry.endpoint}"]\n`;
}

/** `kind delete cluster` for one cluster: idempotent (kind's deletecluster.go), with the cluster's own kubeconfig. */
export function deleteArgs(name: string, kubeconfig?: string): string[] {
  return ['delete', 'cluster', '--name', name, ...(kubeconfig ? ['--kubeconfig', kubeconfig] : [])];
}
