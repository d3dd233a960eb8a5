/**
 * Istio through the real istioctl. Install: the istioctl's version must equal the wanted Istio version (an
 * istioctl installs its own charts, so another version would install another Istio), then `istioctl install`
 * waits for each component (its --readiness-timeout), then meshcheck checks every deployment in istio-system is
 * Available. Uninstall: `istioctl uninstall --purge`, then the istio-system namespace only if meshcheck made it.
 */
import { InfrastructureError, UsageError } from '../../errors.ts';
import { kubeClient } from '../../kube/client.ts';
import { applyOne } from '../../kube/apply.ts';
import { deploymentAvailable, waitForDeploymentAvailable } from '../../kube/wait.ts';
import { deleteNamespace, ensureNamespace, isOurs, readNamespace } from '../../kube/namespaces.ts';
import { describeFailure, runCommand } from '../../process/run.ts';
import type { MeshAdapter, MeshComponentStatus, MeshContext, MeshInstallOptions, MeshInstallResult, PlannedCommand } from '../adapter.ts';
import { installArgs, parseClientVersion, uninstallArgs } from './istioctl.ts';

export const ISTIO_NAMESPACE = 'istio-system';

export interface IstioAdapterOptions {
  /** Path of the istioctl binary. */
  istioctl: string;
  /** Labels for namespaces meshcheck creates (the run's labels). */
  runLabels: Record<string, string>;
}

export async function istioctlVersion(istioctl: string): Promise<string> {
  const r = await runCommand(istioctl, ['version', '--remote=false', '-o', 'json'], { timeoutMs: 30_000 });
  const v = r.ok ? parseClientVersion(r.stdout) : undefined;
  if (!v) throw new InfrastructureError(`cannot read the version of ${istioctl}: ${describeFailure(r)}`, 'point --istioctl at a working istioctl binary');
  return v;
}

export class IstioAdapter implements MeshAdapter {
  readonly name = 'istio';
  readonly o: IstioAdapterOptions;
  constructor(o: IstioAdapterOptions) {
    this.o = o;
  }

  planInstall(ctx: MeshContext, o: MeshInstallOptions): PlannedCommand[] {
    return [
      { description: 'check the istioctl version', file: this.o.istioctl, args: ['version', '--remote=false', '-o', 'json'] },
      { description: `install Istio ${o.version} (profile ${o.profile})`, file: this.o.istioctl, args: installArgs(ctx.target, o) },
      ...(o.gatewayImage ? [{ description: `set the gateways' proxy image to ${o.gatewayImage} (server-side apply) and wait for the rollout`, file: '(kubernetes API)', args: ['PATCH', `/apis/apps/v1/namespaces/${ISTIO_NAMESPACE}/deployments?labelSelector=istio in (ingressgateway,egressgateway)`] }] : []),
    ];
  }

  async install(ctx: MeshContext, o: MeshInstallOptions): Promise<MeshInstallResult> {
    const have = await istioctlVersion(this.o.istioctl);
    if (have !== o.version) {
      throw new UsageError(
        `istioctl ${this.o.istioctl} is version ${have}, but Istio ${o.version} was asked for (an istioctl installs only its own version)`,
        `use istioctl ${o.version} (download it from https://github.com/istio/istio/releases/tag/${o.version}) or ask for Istio ${have}`,
      );
    }
    const client = kubeClient(ctx.target);
    // Create istio-system ourselves (labelled), so uninstall may delete it; an existing one is used as it is.
    if (!(await readNamespace(client, ISTIO_NAMESPACE))) await ensureNamespace(client, ISTIO_NAMESPACE, this.o.runLabels);
    const started = Date.now();
    ctx.log(`istioctl install: Istio ${o.version}, profile ${o.profile}`);
    const r = await runCommand(this.o.istioctl, installArgs(ctx.target, o), {
      timeoutMs: (o.readinessTimeoutSeconds * 4 + 120) * 1000,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    const output = `${r.stdout}${r.stderr}`;
    if (!r.ok) {
      throw new InfrastructureError(`istioctl install failed: ${describeFailure(r)}`, 'read the output above; `meshcheck cluster status` shows the pods and their states');
    }
    if (o.gatewayImage) await this.#pinGateways(ctx, o.gatewayImage, o.readinessTimeoutSeconds);
    const components = await this.status(ctx);
    const notReady = components.filter((c) => !c.available);
    if (!components.length || notReady.length) {
      throw new InfrastructureError(
        `istioctl install finished but ${components.length ? notReady.map((c) => c.deployment).join(', ') : 'no deployment'} in ${ISTIO_NAMESPACE} is Available`,
        'check the pods in istio-system (kubectl get pods -n istio-system) and the crash guard report',
      );
    }
    return { mesh: 'istio', version: o.version, profile: o.profile, durationMs: Date.now() - started, components, output };
  }

  /** Set the proxy image of every gateway Deployment (label istio=ingressgateway or egressgateway). */
  async #pinGateways(ctx: MeshContext, image: string, timeoutSeconds: number): Promise<void> {
    const client = kubeClient(ctx.target);
    const list = await client.apps.listNamespacedDeployment({ namespace: ISTIO_NAMESPACE, labelSelector: 'istio in (ingressgateway,egressgateway)' });
    for (const d of list.items) {
      const name = d.metadata?.name ?? '';
      const container = d.spec?.template.spec?.containers.find((c) => c.name === 'istio-proxy')?.name ?? 'istio-proxy';
      ctx.log(`gateway ${name}: proxy image ${image}`);
      const r = await applyOne(client, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: ISTIO_NAMESPACE },
        spec: { template: { spec: { containers: [{ name: container, image }] } } },
      } as never);
      if (!r.ok) throw r.error;
      await waitForDeploymentAvailable(client, ISTIO_NAMESPACE, name, { timeoutMs: timeoutSeconds * 1000, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    }
  }

  planUninstall(ctx: MeshContext): PlannedCommand[] {
    return [{ description: 'uninstall Istio (all revisions)', file: this.o.istioctl, args: uninstallArgs(ctx.target) }];
  }

  async uninstall(ctx: MeshContext): Promise<void> {
    const r = await runCommand(this.o.istioctl, uninstallArgs(ctx.target), { timeoutMs: 300_000, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    if (!r.ok) throw new InfrastructureError(`istioctl uninstall failed: ${describeFailure(r)}`);
    const client = kubeClient(ctx.target);
    if (isOurs(await readNamespace(client, ISTIO_NAMESPACE))) await deleteNamespace(client, ISTIO_NAMESPACE, { timeoutMs: 120_000, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  }

  async status(ctx: MeshContext): Promise<MeshComponentStatus[]> {
    const client = kubeClient(ctx.target);
    const list = await client.apps.listNamespacedDeployment({ namespace: ISTIO_NAMESPACE });
    return list.items.map((d) => ({
      namespace: ISTIO_NAMESPACE,
      deployment: d.metadata?.name ?? '',
      available: deploymentAvailable(d),
      images: (d.spec?.template.spec?.containers ?? []).map((c) => c.image ?? ''),
    }));
  }
}
