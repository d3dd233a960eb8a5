/** `meshcheck mesh install|uninstall|status`: Istio through istioctl into a cluster meshcheck may change. */
import { Command } from 'commander';
import type { Context } from '../../context.ts';
import { DEFAULT_ISTIO_VERSION } from '../../defaults.ts';
import { UsageError } from '../../errors.ts';
import { newRunId, runLabels } from '../../labels.ts';
import type { MeshContext, MeshInstallOptions } from '../../mesh/adapter.ts';
import { clusterStateDir } from './cluster.ts';
import { parseDuration } from './latency.ts';
import { renderPlan } from './plan.ts';
import { collect, locateTool } from './shared.ts';

interface TargetFlags {
  kubeconfig: string;
  context?: string;
  allowExistingCluster?: boolean;
  istioctl?: string;
  dryRun?: boolean;
  json?: boolean;
}

interface InstallFlags extends TargetFlags {
  istioVersion: string;
  profile: string;
  hub?: string;
  tag?: string;
  pinArch?: string;
  pinSidecars?: boolean;
  insecureRegistry?: string[];
  readinessTimeout: string;
}


function targetOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--kubeconfig <file>', 'kubeconfig of the cluster (meshcheck cluster up prints it); never the default file implicitly')
    .option('--context <name>', 'context in the kubeconfig (default: its current context)')
    .option('--allow-existing-cluster', 'allow a cluster meshcheck did not create (it then creates and deletes only namespaces it labels as its own)')
    .option('--istioctl <path>', 'the istioctl binary (default: istioctl on PATH); its version must be the Istio version asked for')
    .option('--dry-run', 'print every command; change nothing')
    .option('--json', 'print the result as JSON');
}

async function istioctlPath(ctx: Context, flag: string | undefined, version: string, dryRun: boolean): Promise<string> {
  return locateTool(ctx.env, flag, 'istioctl', `download istioctl ${version}: https://github.com/istio/istio/releases/tag/${version}, or pass --istioctl PATH`, dryRun);
}

/** The cluster, refused unless meshcheck created it or --allow-existing-cluster; a dry run does not need it to answer. */
async function connect(ctx: Context, flags: TargetFlags, dryRun: boolean) {
  const { connectExisting } = await import('../../../clusters/existing/existing-cluster.ts');
  return connectExisting({ kubeconfig: flags.kubeconfig, ...(flags.context ? { context: flags.context } : {}), allowExisting: Boolean(flags.allowExistingCluster), stateDir: clusterStateDir(ctx.env), offline: dryRun });
}

export function meshCommand(ctx: Context): Command {
  const mesh = new Command('mesh').description('install, uninstall and inspect the mesh (Istio, through istioctl)');

  targetOptions(
    mesh
      .command('install')
      .description('install Istio with istioctl and wait until its deployments are Available')
      .option('--istio-version <v>', 'Istio version (istioctl must be this version)', DEFAULT_ISTIO_VERSION)
      .option('--profile <p>', 'istioctl profile: default, minimal, demo, ambient, …', 'default')
      .option('--hub <hub>', 'image registry/repository prefix (istioctl --set hub=…)')
      .option('--tag <tag>', 'image tag (istioctl --set tag=…)')
      .option('--pin-arch <arch>', 'hybrid mode: pin pilot (and with --pin-sidecars the proxy) to this arch’s manifest digest')
      .option('--pin-sidecars', 'with --pin-arch: also the proxy image of sidecars and gateways')
      .option('--insecure-registry <host>', 'plain HTTP to this registry when resolving digests; repeatable', collect)
      .option('--readiness-timeout <d>', 'per component, as istioctl --readiness-timeout', '300s'),
  )
    .addHelpText(
      'after',
      `
Example:
  meshcheck mesh install --kubeconfig ~/.cache/meshcheck/clusters/meshcheck-abc123/kubeconfig --profile minimal
  meshcheck mesh install --kubeconfig K --pin-arch arm64 --dry-run`,
    )
    .action(async (flags: InstallFlags) => {
      const dry = Boolean(flags.dryRun);
      const istioctl = await istioctlPath(ctx, flags.istioctl, flags.istioVersion, dry);
      const conn = await connect(ctx, flags, dry);
      const options: MeshInstallOptions = {
        version: flags.istioVersion,
        profile: flags.profile,
        ...(flags.hub ? { hub: flags.hub } : {}),
        ...(flags.tag ? { tag: flags.tag } : {}),
        readinessTimeoutSeconds: Math.round(parseDuration('--readiness-timeout', flags.readinessTimeout) / 1000),
      };
      const { IstioAdapter } = await import('../../mesh/istio/istio-adapter.ts');
      const adapter = new IstioAdapter({ istioctl, runLabels: runLabels(newRunId(ctx.now())) });
      const mctx: MeshContext = { target: conn.target, log: (l) => ctx.io.err(`${l}\n`), signal: ctx.signal };
      const hub = flags.hub ?? 'docker.io/istio';
      const tag = flags.tag ?? flags.istioVersion;
      const toPin = flags.pinArch ? [['pilot', `${hub}/pilot:${tag}`], ...(flags.pinSidecars ? [['proxy', `${hub}/proxyv2:${tag}`]] : [])] : [];
      if (flags.pinArch && flags.pinArch !== 'arm64' && flags.pinArch !== 'amd64') throw new UsageError(`--pin-arch: "${flags.pinArch}" is not amd64 or arm64`);
      if (dry) {
        const commands = [
          ...toPin.map(([c, img]) => ({ description: `resolve the linux/${flags.pinArch} digest of ${img} (registry API) and pass it as ${c}'s image`, file: '(registry)', args: ['GET', `manifests of ${img}`] })),
          ...adapter.planInstall(mctx, { ...options, ...(toPin.length ? { images: Object.fromEntries(toPin.map(([c, img]) => [c as string, `${String(img).split(':')[0]}@sha256:<linux/${flags.pinArch} digest>`])) } : {}) }),
          { description: 'check every deployment in istio-system is Available', file: '(kubernetes API)', args: ['GET', '/apis/apps/v1/namespaces/istio-system/deployments'] },
        ];
        ctx.io.out(renderPlan({ title: `mesh install Istio ${options.version} (profile ${options.profile}) into ${conn.target.context}`, commands, files: {} }));
        return;
      }
      if (toPin.length) {
        const [{ RegistryClient }, { pinToPlatform }] = await Promise.all([import('../../registry/client.ts'), import('../../registry/pin.ts')]);
        await using client = new RegistryClient({ insecureHosts: flags.insecureRegistry ?? [], signal: ctx.signal });
        const images: Record<string, string> = {};
        for (const [component, image] of toPin) images[component as string] = (await pinToPlatform(client, image as string, `linux/${flags.pinArch}`)).pinned;
        options.images = images;
      }
      const result = await adapter.install(mctx, options);
      if (flags.json) ctx.io.out(`${JSON.stringify({ ...result, output: undefined }, null, 2)}\n`);
      else ctx.io.out(`Istio ${result.version} (profile ${result.profile}) installed in ${Math.round(result.durationMs / 100) / 10} s: ${result.components.map((c) => `${c.deployment} ${c.available ? 'Available' : 'NOT available'}`).join(', ')}\n`);
    });

  targetOptions(mesh.command('uninstall').description('istioctl uninstall --purge, then istio-system if meshcheck created it'))
    .option('--istio-version <v>', 'Istio version of the istioctl', DEFAULT_ISTIO_VERSION)
    .action(async (flags: TargetFlags & { istioVersion: string }) => {
      const dry = Boolean(flags.dryRun);
      const istioctl = await istioctlPath(ctx, flags.istioctl, flags.istioVersion, dry);
      const conn = await connect(ctx, flags, dry);
      const { IstioAdapter } = await import('../../mesh/istio/istio-adapter.ts');
      const adapter = new IstioAdapter({ istioctl, runLabels: runLabels(newRunId(ctx.now())) });
      const mctx: MeshContext = { target: conn.target, log: (l) => ctx.io.err(`${l}\n`), signal: ctx.signal };
      if (dry) {
        ctx.io.out(renderPlan({ title: `mesh uninstall from ${conn.target.context}`, commands: adapter.planUninstall(mctx), files: {} }));
        return;
      }
      await adapter.uninstall(mctx);
      ctx.io.out('Istio uninstalled\n');
    });

  targetOptions(mesh.command('status').description('the mesh’s deployments and whether each is Available'))
    .action(async (flags: TargetFlags) => {
      const conn = await connect(ctx, { ...flags, dryRun: false }, false);
      const { IstioAdapter } = await import('../../mesh/istio/istio-adapter.ts');
      const status = await new IstioAdapter({ istioctl: 'istioctl', runLabels: {} }).status({ target: conn.target, log: () => {} });
      if (flags.json) ctx.io.out(`${JSON.stringify(status, null, 2)}\n`);
      else if (!status.length) ctx.io.out('no mesh deployments in istio-system\n');
      else for (const c of status) ctx.io.out(`${c.deployment}  ${c.available ? 'Available' : 'NOT available'}  ${c.images.join(' ')}\n`);
    });

  return mesh;
}
