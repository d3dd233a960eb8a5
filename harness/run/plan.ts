/**
 * The plan of a run: for each matrix cell (provider × arch × mode × mesh version), every stage in order with the
 * commands it would run — doctor, audit, smoke where the mode needs it, latency on the Docker target, cluster up,
 * mesh install, workloads and checks, crash guard, collect, tear down, report. Pure apart from the inputs it is
 * given, so `meshcheck run --dry-run` and the runner use the same plan.
 */
import path from 'node:path';
import { deleteArgs, type KindClusterSpec } from '../../clusters/kind/config.ts';
import { KindCluster } from '../../clusters/kind/kind-cluster.ts';
import { type ModePlan, planMode } from '../../clusters/modes.ts';
import { selectChecks } from '../../suites/checks/index.ts';
import type { Feature, MeshApi } from '../../suites/checks/types.ts';
import { istioImagesByConvention } from '../audit/sources/istio.ts';
import type { CellConfig, MeshcheckConfig } from '../config/schema.ts';
import { MeshcheckError } from '../errors.ts';
import type { PlannedCommand } from '../mesh/adapter.ts';
import { IstioAdapter } from '../mesh/istio/istio-adapter.ts';

export type StageName = 'doctor' | 'audit' | 'smoke' | 'latency' | 'cluster-up' | 'mesh-install' | 'crash-guard' | 'checks' | 'collect' | 'teardown' | 'report';

export interface PlannedStage {
  stage: StageName;
  description: string;
  commands: PlannedCommand[];
  files?: Record<string, string>;
  /** Why this stage will not run in this cell (not an error: the plan says it). */
  skip?: string;
}

export interface PlannedCheck {
  id: string;
  api: MeshApi;
  title: string;
  skip?: string;
}

export interface CellPlan {
  id: string;
  cell: CellConfig;
  istioVersion: string;
  /** The kind cluster to create (provider kind). */
  kindSpec?: KindClusterSpec;
  /** Where the cell's cluster is reached. */
  target: { kubeconfig: string; context?: string };
  mode?: ModePlan;
  /** The cell cannot run on this host at all (e.g. native arm64 on an amd64 host). */
  notRunnable?: { reason: string; fix?: string };
  stages: PlannedStage[];
  checks: PlannedCheck[];
}

export interface HostView {
  arch: 'amd64' | 'arm64';
  /** Paths of the tools (or undefined when missing). */
  kind?: string;
  istioctl?: string;
  docker?: string;
  /** Can the emulator carry the socket options sidecar capture needs (doctor's probe)? */
  emulatorCapturesTraffic?: boolean;
  calibrationFactor?: number;
  stateDir: string;
  runId: string;
}

export function cellId(cell: CellConfig, istioVersion: string): string {
  return `${cell.provider}-${cell.arch}-${cell.mode}-istio-${istioVersion}`;
}

const me = (args: string[]): PlannedCommand => ({ description: '', file: 'meshcheck', args });

/** Features each mode offers; checks needing more are skipped with the reason. */
export function missingFeatures(features: readonly Feature[], mode: ModePlan | undefined): string | undefined {
  if (mode?.skipCaptureReason && features.includes('sidecar')) return `needs sidecars with traffic capture: ${mode.skipCaptureReason}`;
  return undefined;
}

export function planCell(config: MeshcheckConfig, cell: CellConfig, istioVersion: string, host: HostView): CellPlan {
  const id = cellId(cell, istioVersion);
  let kindSpec: KindClusterSpec | undefined;
  let mode: ModePlan | undefined;
  let notRunnable: CellPlan['notRunnable'];
  try {
    mode = planMode({ mode: cell.mode, hostArch: host.arch, arch: cell.arch, ...(host.calibrationFactor ? { calibrationFactor: host.calibrationFactor } : {}), ...(host.emulatorCapturesTraffic !== undefined ? { emulatorCapturesTraffic: host.emulatorCapturesTraffic } : {}) });
  } catch (err) {
    notRunnable = { reason: (err as Error).message, ...(err instanceof MeshcheckError && err.fix ? { fix: err.fix } : {}) };
  }
  const platforms = [...new Set([`linux/${host.arch}`, `linux/${cell.arch}`])];
  const images = [...new Set(istioImagesByConvention({ version: istioVersion, hub: config.mesh.hub }).images.map((i) => i.image))];
  const insecure = config.insecureRegistries.flatMap((r) => ['--insecure-registry', r]);
  const stages: PlannedStage[] = [];
  stages.push({ stage: 'doctor', description: 'host facts: architecture, binfmt handlers, QEMU, Docker, kind, istioctl', commands: [me(['doctor', '--json', '--require', platforms.join(',')])] });
  if (config.preflight.audit) stages.push({ stage: 'audit', description: `registry check of Istio ${istioVersion}'s images for ${platforms.join(', ')}`, commands: [me(['audit', ...images, '--platform', platforms.join(','), '--deep', '--json', ...insecure])] });
  const smokeWanted = config.preflight.smoke === 'always' || (config.preflight.smoke === 'auto' && cell.arch !== host.arch);
  if (config.preflight.smoke !== 'never') {
    stages.push({ stage: 'smoke', description: `start Istio's images on Docker as linux/${cell.arch}${cell.arch !== host.arch ? ' under QEMU, with the CPU-model sweep' : ''}`, commands: [me(['smoke', ...images, '--platform', `linux/${cell.arch}`, '--json', ...insecure])], ...(smokeWanted ? {} : { skip: `the cell's arch is the host's (smoke: auto)` }) });
  }
  if (config.preflight.latency.enabled) {
    const l = config.preflight.latency;
    stages.push({ stage: 'latency', description: 'the echo workload per platform on the Docker target (native vs emulated)', commands: [me(['latency', '--image', config.images.echo, '--platform', platforms.join(','), '--rates', l.rates.join(','), '--duration', `${l.durationMs}ms`, '--reps', String(l.reps), '--json'])] });
  }

  const clusterName = `meshcheck-${host.runId.slice(-6)}-${cell.arch}-${cell.mode}`.slice(0, 49);
  const kubeconfig = path.join(host.stateDir, clusterName, 'kubeconfig');
  if (cell.provider === 'kind') {
    const spec: KindClusterSpec = {
      name: clusterName,
      nodeImage: config.kind.nodeImage,
      workers: config.kind.workers,
      ingress: { httpHostPort: 8080, httpsHostPort: 8443 },
      nodeLabels: { 'meshcheck.run': host.runId, 'meshcheck.mode': cell.mode },
    };
    kindSpec = spec;
    const factor = mode?.timeoutFactor ?? 1;
    const kind = new KindCluster(spec).withCreateRetries(mode?.createRetries ?? 1).withTimeouts({ createMs: Math.round(config.timeouts.clusterUpMs * factor), readyMs: Math.round(config.timeouts.clusterUpMs * factor) });
    const plan = kind.plan({ stateDir: host.stateDir, kind: host.kind ?? 'kind', docker: host.docker ?? 'docker' });
    if (mode?.pinNodeImageTo) plan.commands.unshift({ description: `resolve the linux/${mode.pinNodeImageTo} manifest digest of ${config.kind.nodeImage}`, file: '(registry)', args: ['GET', config.kind.nodeImage] });
    stages.push({ stage: 'cluster-up', description: `kind cluster ${clusterName} (${cell.mode}: nodes ${mode?.nodeArch ?? cell.arch})`, commands: plan.commands, files: plan.files, ...(host.kind ? {} : { skip: `kind is not installed here: install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)` }) });
  } else {
    stages.push({ stage: 'cluster-up', description: `existing cluster ${cell.kubeconfig ?? '(no kubeconfig given)'}${cell.context ? ` context ${cell.context}` : ''}: refused unless meshcheck created it or --allow-existing-cluster`, commands: [] });
  }
  const target: CellPlan['target'] = { kubeconfig: cell.kubeconfig ?? kubeconfig, ...(cell.context ? { context: cell.context } : cell.provider === 'kind' ? { context: `kind-${clusterName}` } : {}) };
  const adapter = new IstioAdapter({ istioctl: host.istioctl ?? 'istioctl', runLabels: {} });
  const proxyPin = `${config.mesh.hub}/proxyv2@sha256:<linux/${mode?.pinMeshImagesTo} digest>`;
  const pins = mode?.pinMeshImagesTo
    ? { images: { pilot: `${config.mesh.hub}/pilot@sha256:<linux/${mode.pinMeshImagesTo} digest>`, ...(mode.nativeSidecars ? {} : { proxy: proxyPin }) }, ...(mode.nativeSidecars ? { gatewayImage: proxyPin } : {}) }
    : {};
  stages.push({
    stage: 'mesh-install',
    description: `Istio ${istioVersion} (profile ${config.mesh.profile}) with Gateway API CRDs${mode?.pinMeshImagesTo ? `; pilot, gateways${mode.nativeSidecars ? '' : ', sidecars'} and workloads pinned to linux/${mode.pinMeshImagesTo}` : ''}`,
    commands: [
      { description: 'apply Gateway API standard CRDs when missing (server-side apply)', file: '(kubernetes API)', args: ['PATCH', 'customresourcedefinitions gateway.networking.k8s.io'] },
      ...adapter.planInstall({ target, log: () => {} }, { version: istioVersion, profile: config.mesh.profile, readinessTimeoutSeconds: Math.round((config.timeouts.meshInstallMs * (mode?.timeoutFactor ?? 1)) / 1000), ...pins }),
    ],
    ...(host.istioctl ? {} : { skip: `istioctl is not installed here: download istioctl ${istioVersion} (https://github.com/istio/istio/releases/tag/${istioVersion})` }),
  });
  stages.push({ stage: 'crash-guard', description: 'watch every pod for the whole run (exec format error, exit 132, SIGSEGV, SIGBUS, missing platform, CrashLoopBackOff)', commands: [{ description: '', file: '(kubernetes API)', args: ['WATCH', '/api/v1/pods'] }] });
  const checks: PlannedCheck[] = selectChecks(config.suites, config.mesh.apis).map(({ check, api }) => {
    const skip = missingFeatures(check.features, mode);
    return { id: check.id, api, title: check.title, ...(skip ? { skip } : {}) };
  });
  stages.push({ stage: 'checks', description: `${checks.length} check(s) of suites ${config.suites.join(', ')} through vitest (project conformance)`, commands: checks.map((c) => ({ description: `${c.id} [${c.api}]${c.skip ? ` — skipped: ${c.skip}` : ''}`, file: '(vitest)', args: [c.id] })) });
  stages.push({ stage: 'collect', description: 'pods, events and node logs of the cell', commands: cell.provider === 'kind' ? [{ description: '', file: host.kind ?? 'kind', args: ['export', 'logs', path.join(config.reportsDir, `${cellId(cell, istioVersion)}-logs`), '--name', clusterName] }] : [] });
  stages.push({ stage: 'teardown', description: 'delete what the cell created (unless --keep)', commands: cell.provider === 'kind' ? [{ description: '', file: host.kind ?? 'kind', args: deleteArgs(clusterName, kubeconfig) }] : [{ description: 'delete the namespaces meshcheck labelled', file: '(kubernetes API)', args: ['DELETE', 'namespaces -l meshcheck.run=<run>'] }] });
  stages.push({ stage: 'report', description: 'write the cell report atomically', commands: [], files: { [path.join(config.reportsDir, `${id}.json`)]: '(the report)' } });
  return { id, cell, istioVersion, target, ...(kindSpec ? { kindSpec } : {}), ...(mode ? { mode } : {}), ...(notRunnable ? { notRunnable } : {}), stages, checks };
}

export function planRun(config: MeshcheckConfig, host: HostView): CellPlan[] {
  return config.mesh.versions.flatMap((v) => config.cells.map((c) => planCell(config, c, v, host)));
}
