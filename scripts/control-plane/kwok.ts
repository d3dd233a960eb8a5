/**
 * kwok's part of the test control plane: the simulated nodes (one amd64, one arm64, so the scheduler places pods
 * by `kubernetes.io/arch`) and the pod stages. kwok loads its default pod stages only when the configuration has
 * none (pkg/kwok/cmd/root.go @ v0.7.0), so the defaults — pod-ready, pod-complete, pod-delete — are read from
 * kwok's own module at start (never copied into this repo) and meshcheck's fault stages are added to them.
 *
 * A fault stage fails chosen containers exactly as a kubelet reports it. A pod opts in with labels/annotations:
 *   label      meshcheck.test/fault: exit-132 | segfault | exec-format-error | image-pull
 *   annotation meshcheck.test/fault-container: <container name> | *      (default *)
 *   annotation meshcheck.test/fault-log: <what the process printed>     (exit faults: the log tail the kubelet
 *              copies into the termination message under FallbackToLogsOnError; image-pull: the runtime's pull error)
 *   annotation meshcheck.test/fault-binary: <path of the entrypoint>    (exec-format-error)
 * Each fault stage carries weight 100, which beats the default pod-ready (weight 0) in kwok's stage choice
 * (pkg/utils/lifecycle/lifecycle.go), and sets podIP, so neither matches the pod again afterwards.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const FAULT_LABEL = 'meshcheck.test/fault';
export const FAULT_CONTAINER = 'meshcheck.test/fault-container';
export const FAULT_LOG = 'meshcheck.test/fault-log';
export const FAULT_BINARY = 'meshcheck.test/fault-binary';

export const FAULTS = ['exit-132', 'segfault', 'exec-format-error', 'image-pull'] as const;
export type Fault = (typeof FAULTS)[number];

export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

export interface SimulatedNode {
  name: string;
  arch: 'amd64' | 'arm64';
}

export const SIMULATED_NODES: readonly SimulatedNode[] = [
  { name: 'meshcheck-amd64-1', arch: 'amd64' },
  { name: 'meshcheck-arm64-1', arch: 'arm64' },
];

export function nodeObject(n: SimulatedNode) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/arch': n.arch,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': n.name,
        'node-role.kubernetes.io/worker': '',
        type: 'kwok',
      },
    },
    spec: {},
  };
}

/** The status patch that makes kwok's node-initialize keep the node's architecture (it defaults to amd64). */
export function nodeStatusPatch(n: SimulatedNode) {
  return {
    status: {
      nodeInfo: {
        architecture: n.arch,
        operatingSystem: 'linux',
        kubeletVersion: '',
        kubeProxyVersion: '',
        bootID: '',
        machineID: '',
        systemUUID: '',
        containerRuntimeVersion: '',
        kernelVersion: '',
        osImage: '',
      },
      capacity: { cpu: '32', memory: '128Gi', pods: '110' },
      allocatable: { cpu: '32', memory: '128Gi', pods: '110' },
    },
  };
}

const DEFAULT_POD_STAGES = ['pod-ready.yaml', 'pod-complete.yaml', 'pod-delete.yaml'];

/** kwok's default pod stages, read from its module (kustomize/stage/pod/fast @ v0.7.0). */
export async function defaultPodStages(kwokModuleDir: string): Promise<string[]> {
  return Promise.all(DEFAULT_POD_STAGES.map((f) => readFile(path.join(kwokModuleDir, 'kustomize', 'stage', 'pod', 'fast', f), 'utf8')));
}

// ---------------------------------------------------------------------------------------------------------------
// Fault stages. Field sources (Kubernetes v1.33, containerd 2.x): see harness/kube/kubelet-fields.md.

interface ExitFault {
  exitCode: number;
  reason: string;
  /** Go template for the terminated message; `$log` and `$bin` are in scope. Empty: only under FallbackToLogsOnError. */
  message?: string;
}

const EXIT_FAULTS: Record<Exclude<Fault, 'image-pull'>, ExitFault> = {
  // A SIGILL death: the runtime reports exit status 128+4; containerd CRI's reason for a non-zero exit is "Error".
  'exit-132': { exitCode: 132, reason: 'Error' },
  'segfault': { exitCode: 139, reason: 'Error' },
  // runc cannot exec the entrypoint: containerd CRI marks the start failure StartError with exit code 128 and the
  // runtime's error as the message.
  'exec-format-error': {
    exitCode: 128,
    reason: 'StartError',
    message:
      '{{ printf "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec %s: exec format error: unknown" $bin | Quote }}',
  },
};

const PREAMBLE = `{{ $now := Now }}
{{ $pod := . }}
{{ $ann := .metadata.annotations | default dict }}
{{ $target := index $ann "${FAULT_CONTAINER}" | default "*" }}
{{ $log := index $ann "${FAULT_LOG}" | default "" }}
{{ $bin := index $ann "${FAULT_BINARY}" | default "/usr/local/bin/app" }}
{{ $always := eq (.spec.restartPolicy | default "Always") "Always" }}`;

const RUNNING_CONTAINER = `- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: true
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}`;

const POD_ADDRESSES = `hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
startTime: {{ $now | Quote }}`;

const NOT_READY_CONDITIONS = `conditions:
- {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: Ready, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
- {type: ContainersReady, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}`;

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => (l ? pad + l : l))
    .join('\n');
}

function exitTemplate(f: ExitFault): string {
  const message = f.message
    ? `message: ${f.message}`
    : `{{ if and (eq .terminationMessagePolicy "FallbackToLogsOnError") $log }}message: {{ $log | Quote }}{{ end }}`;
  const terminated = `exitCode: ${f.exitCode}
reason: ${f.reason}
${message}
startedAt: {{ $now | Quote }}
finishedAt: {{ $now | Quote }}`;
  const failing = `- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: false
  started: false
{{ if $always }}
  restartCount: 3
  lastState:
    terminated:
${indent(terminated, 6)}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: {{ printf "back-off 40s restarting failed container=%s pod=%s_%s(%s)" .name $pod.metadata.name $pod.metadata.namespace $pod.metadata.uid | Quote }}
{{ else }}
  restartCount: 0
  state:
    terminated:
${indent(terminated, 6)}
{{ end }}`;
  return podStatusTemplate(failing, '{{ if and (not $always) (eq $target "*") }}Failed{{ else }}Running{{ end }}');
}

/** The whole status: the chosen containers fail as `failing` says, the others run. */
function podStatusTemplate(failing: string, phase: string): string {
  return `${PREAMBLE}
${NOT_READY_CONDITIONS}
containerStatuses:
{{ range .spec.containers }}
{{ if or (eq $target "*") (eq $target .name) }}
${failing}
{{ else }}
${RUNNING_CONTAINER}
{{ end }}
{{ end }}
${POD_ADDRESSES}
phase: ${phase}`;
}

function imagePullTemplate(): string {
  // The kubelet keeps the pod Pending while an image cannot be pulled; ImagePullBackOff's message carries the
  // last pull error (pkg/kubelet/images/image_manager.go).
  const failing = `- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: ""
  ready: false
  started: false
  restartCount: 0
  state:
    waiting:
      reason: ImagePullBackOff
      message: {{ printf "Back-off pulling image %q: ErrImagePull: %s" .image $log | Quote }}`;
  return podStatusTemplate(failing, 'Pending');
}

function stage(fault: Fault, template: string): string {
  const doc = {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Stage',
    metadata: { name: `meshcheck-fault-${fault}` },
    spec: {
      resourceRef: { apiGroup: 'v1', kind: 'Pod' },
      selector: {
        matchExpressions: [
          { key: `.metadata.labels["${FAULT_LABEL}"]`, operator: 'In', values: [fault] },
          { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
          { key: '.status.podIP', operator: 'DoesNotExist' },
        ],
      },
      weight: 100,
      next: { statusTemplate: template },
    },
  };
  return JSON.stringify(doc, null, 2);
}

/** meshcheck's fault stages (YAML documents; JSON is YAML). */
export function faultStages(): string[] {
  return [
    ...Object.entries(EXIT_FAULTS).map(([fault, f]) => stage(fault as Fault, exitTemplate(f))),
    stage('image-pull', imagePullTemplate()),
  ];
}

/** The whole --config file for kwok: default pod stages plus the fault stages. */
export async function kwokConfig(kwokModuleDir: string): Promise<string> {
  return [...(await defaultPodStages(kwokModuleDir)), ...faultStages()].map((d) => d.trim()).join('\n---\n');
}
