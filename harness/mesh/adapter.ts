/**
 * What the suites and `meshcheck mesh` need from a mesh, whatever the mesh. Istio implements it with istioctl
 * (harness/mesh/istio); another mesh (Linkerd) adds a folder beside it without touching the suites.
 */
import type { KubeTarget } from '../kube/client.ts';

export interface ImagePins {
  /** Component → image reference used verbatim (repo@sha256:… for per-arch digest pinning). */
  [component: string]: string;
}

export interface MeshInstallOptions {
  /** The mesh version; the installer's own version must match it. */
  version: string;
  profile: string;
  hub?: string;
  tag?: string;
  /** Per-component images, e.g. { pilot: 'docker.io/istio/pilot@sha256:…', proxy: '…' } (hybrid mode). */
  images?: ImagePins;
  /**
   * The gateways' proxy image, when it must differ from the sidecars' (hybrid mode: arm64 gateways, native
   * sidecars). Istio's charts take one proxy image for both, so meshcheck sets it on the gateway Deployments after
   * install, by server-side apply, and waits for the rollout.
   */
  gatewayImage?: string;
  /** Extra installer settings, passed as they are (istioctl --set key=value). */
  set?: Record<string, string>;
  readinessTimeoutSeconds: number;
}

/** One step of a plan: what would run, for --dry-run and for reports. */
export interface PlannedCommand {
  description: string;
  file: string;
  args: string[];
}

export interface MeshComponentStatus {
  namespace: string;
  deployment: string;
  available: boolean;
  images: string[];
}

export interface MeshInstallResult {
  mesh: string;
  version: string;
  profile: string;
  durationMs: number;
  components: MeshComponentStatus[];
  /** The installer's own output, for evidence. */
  output: string;
}

export interface MeshContext {
  target: KubeTarget;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface MeshAdapter {
  readonly name: string;
  /** Every command install would run, in order (nothing is run). */
  planInstall(ctx: MeshContext, o: MeshInstallOptions): PlannedCommand[];
  install(ctx: MeshContext, o: MeshInstallOptions): Promise<MeshInstallResult>;
  planUninstall(ctx: MeshContext): PlannedCommand[];
  uninstall(ctx: MeshContext): Promise<void>;
  /** The mesh's control-plane deployments and whether each is Available. */
  status(ctx: MeshContext): Promise<MeshComponentStatus[]>;
}
