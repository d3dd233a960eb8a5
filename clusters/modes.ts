/**
 * Cluster modes: what runs as which architecture, and what each mode can prove. Pure.
 *
 *  native    the nodes are the host's architecture (ubuntu-24.04 for amd64, ubuntu-24.04-arm for arm64).
 *  emulated  the node image of the other architecture, run through QEMU binfmt: every process of the cluster is
 *            emulated (kubelet, containerd, the mesh). Slow; timeouts are scaled by the calibration factor and
 *            kubeadm's init timeouts are retried. kind's maintainers say full Kubernetes under user-mode QEMU may
 *            not come up at all (kubernetes-sigs/kind#2718); meshcheck reports that as infra-error, not as a mesh
 *            failure.
 *  hybrid    a native cluster, with the mesh's own images (istiod, gateways) and the workloads pinned to their
 *            arm64 digests, so those binaries run as arm64 through binfmt while kubelet and containerd stay
 *            native. containerd's CRI accepts a foreign-arch single-platform manifest when it is referenced by
 *            digest (an index or a tag resolves to the host's arch). Sidecars and istio-init stay native unless
 *            the emulator capability probe shows the socket options traffic capture needs.
 *
 * What hybrid proves: the arm64 builds of the mesh's control plane, gateways and workloads start, are not the
 * wrong architecture, do not use instructions the chosen CPU model lacks, and do their job (configuration,
 * routing, TLS) in a real cluster. What it does not prove: anything of the arm64 kernel (page size, cgroups,
 * iptables), arm64 sidecar traffic capture when the probe says the emulator lacks it, or arm64 performance
 * (latency under QEMU is only compared with other emulated cells).
 */
import { UsageError } from '../harness/errors.ts';

export const MODES = ['native', 'emulated', 'hybrid'] as const;
export type ClusterMode = (typeof MODES)[number];
export type Arch = 'amd64' | 'arm64';

export interface ModeInput {
  mode: ClusterMode;
  hostArch: Arch;
  /** The architecture under test. */
  arch: Arch;
  /** Emulation slowdown of this host (harness/arch/calibrate.ts), 1 when unknown. */
  calibrationFactor?: number;
  /** Can the emulator carry the socket options sidecar traffic capture needs (harness/arch/capabilities.ts)? */
  emulatorCapturesTraffic?: boolean;
}

export interface ModePlan {
  mode: ClusterMode;
  hostArch: Arch;
  arch: Arch;
  /** The architecture of the kind node containers (kubelet, containerd). */
  nodeArch: Arch;
  /** Pin the node image to this architecture's manifest digest (a foreign node). */
  pinNodeImageTo?: Arch;
  /** Pin the mesh's control-plane and gateway images and the workloads to this architecture's digests. */
  pinMeshImagesTo?: Arch;
  /** Keep sidecars and istio-init on the node's native images. */
  nativeSidecars: boolean;
  /** Multiply timeouts by this. */
  timeoutFactor: number;
  /** Checks that need sidecar traffic capture are skipped with this reason (undefined: they run). */
  skipCaptureReason?: string;
  /** Retries for kind create (kubeadm init timeouts are the known flake of emulated nodes). */
  createRetries: number;
  notes: string[];
}

export function planMode(i: ModeInput): ModePlan {
  const foreign = i.arch !== i.hostArch;
  const factor = Math.max(1, i.calibrationFactor ?? 1);
  switch (i.mode) {
    case 'native':
      if (foreign) throw new UsageError(`mode native tests ${i.arch} but this host is ${i.hostArch}`, `run on an ${i.arch} host (ubuntu-24.04${i.arch === 'arm64' ? '-arm' : ''} runner), or use --mode hybrid or --mode emulated`);
      return { mode: 'native', hostArch: i.hostArch, arch: i.arch, nodeArch: i.hostArch, nativeSidecars: true, timeoutFactor: 1, createRetries: 1, notes: [] };
    case 'emulated': {
      if (!foreign) throw new UsageError(`mode emulated tests ${i.arch} on an ${i.hostArch} host: nothing would be emulated`, 'use --mode native');
      const capture = i.emulatorCapturesTraffic === true;
      return {
        mode: 'emulated',
        hostArch: i.hostArch,
        arch: i.arch,
        nodeArch: i.arch,
        pinNodeImageTo: i.arch,
        nativeSidecars: false,
        // Everything, kubelet included, runs under QEMU; kubeadm's own waits are not scaled, hence the retries.
        timeoutFactor: factor * 2,
        ...(capture ? {} : { skipCaptureReason: `the emulator lacks the socket options sidecar traffic capture needs (IP_TRANSPARENT, SO_ORIGINAL_DST; see meshcheck doctor)` }),
        createRetries: 3,
        notes: ['kind maintainers report that Kubernetes under user-mode QEMU may fail at kubeadm init (kubernetes-sigs/kind#2718): such a failure is infra-error'],
      };
    }
    case 'hybrid': {
      if (!foreign) throw new UsageError(`mode hybrid pins ${i.arch} images on an ${i.hostArch} host: nothing would be emulated`, 'use --mode native');
      const capture = i.emulatorCapturesTraffic === true;
      return {
        mode: 'hybrid',
        hostArch: i.hostArch,
        arch: i.arch,
        nodeArch: i.hostArch,
        pinMeshImagesTo: i.arch,
        nativeSidecars: !capture,
        timeoutFactor: factor,
        createRetries: 1,
        notes: capture
          ? ['the emulator carries traffic-capture socket options: sidecars and istio-init run as ' + i.arch + ' too']
          : [`sidecars and istio-init stay ${i.hostArch}: the emulator lacks the socket options traffic capture needs`],
      };
    }
  }
}
