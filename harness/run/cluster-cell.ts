/**
 * One cluster cell end to end: cluster up (kind), Gateway API CRDs, mesh install (digest pins in hybrid mode),
 * crash guard, per-check namespaces and manifests, the checks through vitest, the crash verdict, collect, tear
 * down. Every stage is timed and recorded; a failure before the checks makes the cell infra-error (not a
 * conformance failure), and tear-down runs whatever happened (unless --keep).
 *
 * The cluster stages need kind, a node image and a data plane: they run in the project's GitHub workflow.
 * Against the test control plane, `prepareChecks` and `runConformance` are exercised for real.
 */
import path from 'node:path';
import { KindCluster, type StartedKindCluster } from '../../clusters/kind/kind-cluster.ts';
import type { CheckSetup } from '../../suites/checks/types.ts';
import { ALL_CHECKS } from '../../suites/checks/index.ts';
import type { ConformanceCell } from '../../suites/conformance/cell.ts';
import type { MeshcheckConfig } from '../config/schema.ts';
import { DEFAULT_GATEWAY_API_VERSION } from '../defaults.ts';
import { MeshcheckError } from '../errors.ts';
import { applyAll, assertApplied, parseObjects } from '../kube/apply.ts';
import { kubeClient, type KubeClient } from '../kube/client.ts';
import { CrashGuard, type StartedCrashGuard } from '../kube/crash-guard.ts';
import { ensureNamespace } from '../kube/namespaces.ts';
import { waitForDeploymentAvailable } from '../kube/wait.ts';
import { runLabels } from '../labels.ts';
import { IstioAdapter } from '../mesh/istio/istio-adapter.ts';
import { RegistryClient } from '../registry/client.ts';
import { imagePlatforms, pinToPlatform } from '../registry/pin.ts';
import { runConformance } from './conformance.ts';
import type { CellPlan, HostView } from './plan.ts';
import type { CellResult, CheckResult, StageResult } from './run.ts';

export interface CellOptions {
  keep: boolean;
  log: (line: string) => void;
  signal: AbortSignal;
  env: Record<string, string | undefined>;
}

async function stage<T>(stages: StageResult[], name: StageResult['stage'], log: (l: string) => void, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const v = await fn();
    stages.push({ stage: name, status: 'ok', durationMs: Math.round(performance.now() - started) });
    log(`${name}: ok`);
    return v;
  } catch (err) {
    stages.push({ stage: name, status: 'error', durationMs: Math.round(performance.now() - started), message: (err as Error).message, ...(err instanceof MeshcheckError && err.fix ? { fix: err.fix } : {}) });
    log(`${name}: error — ${(err as Error).message.split('\n')[0]}`);
    throw err;
  }
}

/** Namespaces and manifests of every check, deployed and Available; returns the cell description for vitest. */
export async function prepareChecks(client: KubeClient, plan: CellPlan, config: MeshcheckConfig, host: Pick<HostView, 'runId'>, o: { echoImage: string; ingress: ConformanceCell['ingress']; ingressTls?: CheckSetup['ingressTls']; timeoutMs: number }): Promise<ConformanceCell> {
  const labels = runLabels(host.runId);
  const checks: ConformanceCell['checks'] = [];
  for (const [i, pc] of plan.checks.entries()) {
    const def = ALL_CHECKS.find((d) => d.id === pc.id);
    if (!def || pc.id === 'crash.verdict') continue;
    const ns = `mc-${host.runId.slice(-6)}-${i}`;
    const setup: CheckSetup = {
      namespace: ns,
      clientNamespace: `${ns}-c`,
      api: pc.api,
      echoImage: o.echoImage,
      labels,
      ...(plan.cell.arch ? { nodeSelector: { 'kubernetes.io/arch': plan.mode?.nodeArch ?? plan.cell.arch } } : {}),
      ingressHost: 'shop.meshcheck.test',
      ...(o.ingressTls ? { ingressTls: o.ingressTls } : {}),
    };
    if (!pc.skip) {
      await ensureNamespace(client, setup.namespace, labels, { 'istio-injection': 'enabled' });
      await ensureNamespace(client, setup.clientNamespace, labels);
      const objects = def.manifests(setup);
      assertApplied(await applyAll(client, objects));
      for (const d of objects.filter((x) => x.kind === 'Deployment')) await waitForDeploymentAvailable(client, d.metadata.namespace ?? ns, d.metadata.name, { timeoutMs: o.timeoutMs });
    }
    checks.push({ id: pc.id, api: pc.api, setup, ...(pc.skip ? { skip: pc.skip } : {}) });
  }
  return { cellId: plan.id, kubeconfig: plan.target.kubeconfig, ...(plan.target.context ? { context: plan.target.context } : {}), ingress: o.ingress, convergence: { consecutive: config.convergence.consecutive, timeoutMs: Math.round(config.timeouts.convergenceMs * (plan.mode?.timeoutFactor ?? 1)) }, retryFailed: true, checks };
}

export async function runClusterCell(plan: CellPlan, config: MeshcheckConfig, host: HostView, o: CellOptions): Promise<Omit<CellResult, 'id'>> {
  const stages: StageResult[] = [];
  const checks: CheckResult[] = [];
  const log = (l: string) => o.log(`[${plan.id}] ${l}`);
  let cluster: StartedKindCluster | undefined;
  let guard: StartedCrashGuard | undefined;
  await using registry = new RegistryClient({ insecureHosts: config.insecureRegistries, signal: o.signal });
  try {
    if (!plan.kindSpec || !host.kind || !host.istioctl) throw new MeshcheckError('this cell needs kind and istioctl', { category: 'infrastructure' });
    const spec = { ...plan.kindSpec };
    cluster = await stage(stages, 'cluster-up', log, async () => {
      if (plan.mode?.pinNodeImageTo) spec.nodeImage = (await pinToPlatform(registry, spec.nodeImage, `linux/${plan.mode.pinNodeImageTo}`)).pinned;
      return new KindCluster(spec)
        .withCreateRetries(plan.mode?.createRetries ?? 1)
        .withTimeouts({ createMs: Math.round(config.timeouts.clusterUpMs * (plan.mode?.timeoutFactor ?? 1)), readyMs: Math.round(config.timeouts.clusterUpMs * (plan.mode?.timeoutFactor ?? 1)) })
        .withRetainOnFailure(o.keep)
        .start({ kind: host.kind as string, docker: host.docker ?? 'docker', stateDir: host.stateDir, runId: host.runId, log, env: o.env, signal: o.signal });
    });
    const target = { kubeconfig: cluster.kubeconfig, context: cluster.context };
    const client = kubeClient(target);
    guard = await new CrashGuard(client, { imagePlatforms: (image) => imagePlatforms(registry, image), readLogs: true }).start();
    guard.onFailure((f) => log(`crash guard: ${f.namespace}/${f.pod} ${f.container}: ${f.classification.kind}`));
    await stage(stages, 'mesh-install', log, async () => {
      const url = `https://github.com/kubernetes-sigs/gateway-api/releases/download/v${DEFAULT_GATEWAY_API_VERSION}/standard-install.yaml`;
      const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
      if (!res.ok) throw new MeshcheckError(`could not download Gateway API CRDs (${url}): HTTP ${res.status}`, { category: 'infrastructure' });
      assertApplied(await applyAll(client, parseObjects(await res.text(), url)));
      const images: Record<string, string> = {};
      let gatewayImage: string | undefined;
      if (plan.mode?.pinMeshImagesTo) {
        // Hybrid: istiod and the gateways run the arm64 builds; sidecars stay native unless the emulator can capture.
        const arch = `linux/${plan.mode.pinMeshImagesTo}`;
        images.pilot = (await pinToPlatform(registry, `${config.mesh.hub}/pilot:${plan.istioVersion}`, arch)).pinned;
        const proxy = (await pinToPlatform(registry, `${config.mesh.hub}/proxyv2:${plan.istioVersion}`, arch)).pinned;
        if (plan.mode.nativeSidecars) gatewayImage = proxy;
        else images.proxy = proxy;
      }
      await new IstioAdapter({ istioctl: host.istioctl as string, runLabels: runLabels(host.runId) }).install(
        { target, log, signal: o.signal },
        { version: plan.istioVersion, profile: config.mesh.profile, hub: config.mesh.hub, readinessTimeoutSeconds: Math.round((config.timeouts.meshInstallMs * (plan.mode?.timeoutFactor ?? 1)) / 1000), ...(Object.keys(images).length ? { images } : {}), ...(gatewayImage ? { gatewayImage } : {}) },
      );
    });
    await stage(stages, 'checks', log, async () => {
      // Hybrid: the workloads run their arm64 build, pinned by digest like the mesh's images.
      const echoImage = plan.mode?.pinMeshImagesTo ? (await pinToPlatform(registry, config.images.echo, `linux/${plan.mode.pinMeshImagesTo}`)).pinned : config.images.echo;
      const prepared = await prepareChecks(client, plan, config, host, { echoImage, ingress: { http: 'http://127.0.0.1:8080', https: 'https://127.0.0.1:8443' }, timeoutMs: Math.round(config.timeouts.checkMs * (plan.mode?.timeoutFactor ?? 1)) });
      const run = await runConformance(prepared, { testTimeoutMs: config.timeouts.checkMs * 4, onResult: (m) => log(`${m.status} ${m.id} [${m.api}] ${m.reason}`) });
      for (const m of run.results) checks.push({ id: m.id, api: m.api, status: m.status, reason: m.reason, attempts: m.attempts, durationMs: m.durationMs, evidence: m.evidence as CheckResult['evidence'], ...(m.stats ? { stats: m.stats } : {}) });
    });
  } catch (err) {
    const failed = stages.find((s) => s.status === 'error');
    const crash = guard ? await guard.stop() : undefined;
    await teardown();
    return { status: 'infra-error', reason: failed?.message ?? (err as Error).message, ...(failed?.fix ? { fix: failed.fix } : {}), stages, checks, ...(crash ? { crash } : {}) };
  }
  const crash = await guard.stop();
  checks.push({ id: 'crash.verdict', api: 'istio', status: crash.ok ? 'pass' : 'fail', reason: crash.ok ? `no architecture failure (${crash.podsSeen} pods watched)` : crash.failures.filter((f) => f.fatal).map((f) => `${f.namespace}/${f.pod} ${f.container}: ${f.classification.kind}`).join('; '), attempts: 1, durationMs: 0, evidence: [] });
  await teardown();
  const failed = checks.some((c) => c.status === 'fail');
  const infra = checks.some((c) => c.status === 'infra-error');
  return { status: failed ? 'fail' : infra ? 'infra-error' : 'pass', stages, checks, crash };

  async function teardown(): Promise<void> {
    if (!cluster) return;
    if (host.kind) await cluster.exportLogs(path.join(config.reportsDir, `${plan.id}-logs`)).then(() => stages.push({ stage: 'collect', status: 'ok', durationMs: 0 }), (e: Error) => stages.push({ stage: 'collect', status: 'error', durationMs: 0, message: e.message }));
    if (o.keep) {
      log(`kept: export KUBECONFIG=${cluster.kubeconfig}`);
      return;
    }
    await cluster.stop().then(() => stages.push({ stage: 'teardown', status: 'ok', durationMs: 0 }), (e: Error) => stages.push({ stage: 'teardown', status: 'error', durationMs: 0, message: e.message }));
  }
}
