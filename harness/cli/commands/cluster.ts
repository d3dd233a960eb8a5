/** `meshcheck cluster up|down|status`: kind clusters that meshcheck creates, owns and deletes. */
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import type { Context } from '../../context.ts';
import { DEFAULT_KIND_NODE_IMAGE, DEFAULT_KIND_VERSION } from '../../defaults.ts';
import { UsageError } from '../../errors.ts';
import { newRunId } from '../../labels.ts';
import { collect, locateTool, parsePositive } from './shared.ts';
import { renderPlan } from './plan.ts';

export function clusterStateDir(env: Record<string, string | undefined>): string {
  return env.MESHCHECK_CLUSTERS_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'meshcheck', 'clusters');
}

const KIND_INSTALL = `install kind v${DEFAULT_KIND_VERSION}: https://kind.sigs.k8s.io/docs/user/quick-start/#installation (or go install sigs.k8s.io/kind@v${DEFAULT_KIND_VERSION}), or pass --kind PATH`;

function archOf(flag: string | undefined, host: string): 'amd64' | 'arm64' {
  const a = flag ?? host;
  if (a !== 'amd64' && a !== 'arm64') throw new UsageError(`--arch: "${a}" is not amd64 or arm64`);
  return a;
}

function port(flag: string, v: string): number {
  const n = parsePositive(flag, v);
  if (n > 65535) throw new UsageError(`${flag}: ${n} is not a TCP port`);
  return n;
}

interface UpFlags {
  name?: string;
  mode: string;
  arch?: string;
  nodeImage: string;
  workers: string;
  ingressHttpPort: string;
  ingressHttpsPort: string;
  registryMirror?: string;
  kind?: string;
  insecureRegistry?: string[];
  keep?: boolean;
  dryRun?: boolean;
  json?: boolean;
}


export function clusterCommand(ctx: Context): Command {
  const cluster = new Command('cluster').description('create, delete and list the kind clusters meshcheck owns');

  cluster
    .command('up')
    .description('create a kind cluster for a mode (native, emulated or hybrid) with its own kubeconfig')
    .option('--name <name>', 'cluster name (default meshcheck-<run id>)')
    .option('--mode <mode>', 'native | emulated | hybrid', 'native')
    .option('--arch <arch>', 'architecture under test: amd64 | arm64 (default: this host’s)')
    .option('--node-image <ref>', 'kind node image, pinned by digest', DEFAULT_KIND_NODE_IMAGE)
    .option('--workers <n>', 'worker nodes besides the control plane', '1')
    .option('--ingress-http-port <port>', 'host port for the ingress gateway’s port 80', '8080')
    .option('--ingress-https-port <port>', 'host port for the ingress gateway’s port 443', '8443')
    .option('--registry-mirror <host=endpoint>', 'let nodes pull <host> from <endpoint> (kind’s local-registry recipe), e.g. localhost:5001=http://kind-registry:5000')
    .option('--kind <path>', 'the kind binary (default: kind on PATH)')
    .option('--insecure-registry <host>', 'plain HTTP to this registry when resolving the node image digest; repeatable', collect)
    .option('--keep', 'keep the nodes when create fails (kind --retain), to look at them')
    .option('--dry-run', 'print every command and the generated kind config; run nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Modes (see README "Cluster modes"):
  native    nodes of this host's architecture
  emulated  nodes of the other architecture through QEMU binfmt (slow; may not come up: infra-error)
  hybrid    native nodes; the mesh's and workloads' images pinned to --arch digests

The user's kubeconfig is never touched: the cluster's kubeconfig is written under
${clusterStateDir(ctx.env)}/<name>/kubeconfig (context kind-<name>).

Examples:
  meshcheck cluster up --mode native
  meshcheck cluster up --mode hybrid --arch arm64 --dry-run`,
    )
    .action(async (flags: UpFlags) => {
      const { MODES, planMode } = await import('../../../clusters/modes.ts');
      if (!(MODES as readonly string[]).includes(flags.mode)) throw new UsageError(`--mode: "${flags.mode}" is not one of ${MODES.join(', ')}`);
      const { probeHost } = await import('../../arch/host.ts');
      const host = await probeHost();
      const hostArch = archOf(undefined, host.arch);
      const mode = planMode({ mode: flags.mode as 'native', hostArch, arch: archOf(flags.arch, hostArch) });
      const workers = Number(flags.workers);
      if (!Number.isInteger(workers) || workers < 0) throw new UsageError(`--workers: "${flags.workers}" is not a whole number >= 0`);
      let registry: { host: string; endpoint: string } | undefined;
      if (flags.registryMirror) {
        const [h, e] = flags.registryMirror.split('=');
        if (!h || !e || !/^https?:\/\//.test(e)) throw new UsageError(`--registry-mirror: "${flags.registryMirror}" is not host=http(s)://endpoint`);
        registry = { host: h, endpoint: e };
      }
      const runId = newRunId(ctx.now());
      const name = flags.name ?? `meshcheck-${runId.slice(-6)}`;
      const kind = await locateTool(ctx.env, flags.kind, 'kind', KIND_INSTALL, Boolean(flags.dryRun));
      const docker = await locateTool(ctx.env, undefined, 'docker', 'install Docker', true);
      const stateDir = clusterStateDir(ctx.env);
      const { KindCluster } = await import('../../../clusters/kind/kind-cluster.ts');
      const spec = {
        name,
        nodeImage: flags.nodeImage,
        workers,
        ingress: { httpHostPort: port('--ingress-http-port', flags.ingressHttpPort), httpsHostPort: port('--ingress-https-port', flags.ingressHttpsPort) },
        ...(registry ? { registry } : {}),
        nodeLabels: { 'meshcheck.run': runId, 'meshcheck.mode': mode.mode },
      };
      const timeouts = { createMs: Math.round(600_000 * mode.timeoutFactor), readyMs: Math.round(300_000 * mode.timeoutFactor) };
      if (flags.dryRun) {
        const k = new KindCluster(spec).withCreateRetries(mode.createRetries).withTimeouts(timeouts).withRetainOnFailure(Boolean(flags.keep));
        const plan = k.plan({ stateDir, kind, docker });
        if (mode.pinNodeImageTo) {
          plan.commands.unshift({ description: `resolve the linux/${mode.pinNodeImageTo} manifest digest of ${flags.nodeImage} (registry API) and use it as the node image`, file: '(registry)', args: ['GET', `manifests of ${flags.nodeImage}`] });
        }
        ctx.io.out(renderPlan({ title: `cluster up ${name} (mode ${mode.mode}, arch ${mode.arch}, host ${mode.hostArch})`, commands: plan.commands, files: plan.files, notes: mode.notes }));
        return;
      }
      const { reapOrphanClusters } = await import('../../../clusters/kind/ownership.ts');
      const kctx = { kind, docker, stateDir, runId, log: (l: string) => ctx.io.err(`${l}\n`), env: ctx.env, signal: ctx.signal };
      const reaped = await reapOrphanClusters(kctx);
      if (reaped.length) ctx.io.err(`removed ${reaped.length} leftover cluster(s): ${reaped.join(', ')}\n`);
      if (mode.pinNodeImageTo) {
        const [{ RegistryClient }, { pinToPlatform }] = await Promise.all([import('../../registry/client.ts'), import('../../registry/pin.ts')]);
        await using client = new RegistryClient({ insecureHosts: flags.insecureRegistry ?? [], signal: ctx.signal });
        const pinned = await pinToPlatform(client, flags.nodeImage, `linux/${mode.pinNodeImageTo}`);
        ctx.io.err(`node image for linux/${mode.pinNodeImageTo}: ${pinned.pinned}\n`);
        spec.nodeImage = pinned.pinned;
      }
      const started = await new KindCluster(spec).withCreateRetries(mode.createRetries).withTimeouts(timeouts).withRetainOnFailure(Boolean(flags.keep)).start(kctx);
      const result = { name: started.name, context: started.context, kubeconfig: started.kubeconfig, mode: mode.mode, arch: mode.arch, nodeImage: spec.nodeImage, runId };
      if (flags.json) ctx.io.out(`${JSON.stringify(result, null, 2)}\n`);
      else ctx.io.out(`cluster ${started.name} is up (mode ${mode.mode}, arch ${mode.arch})\nexport KUBECONFIG=${started.kubeconfig}\n`);
    });

  cluster
    .command('down')
    .description('delete a kind cluster meshcheck created (never another one)')
    .requiredOption('--name <name>', 'the cluster')
    .option('--kind <path>', 'the kind binary (default: kind on PATH)')
    .option('--dry-run', 'print the command; run nothing')
    .action(async (flags: { name: string; kind?: string; dryRun?: boolean }) => {
      const stateDir = clusterStateDir(ctx.env);
      const kind = await locateTool(ctx.env, flags.kind, 'kind', KIND_INSTALL, Boolean(flags.dryRun));
      const { isOurCluster, clusterDir } = await import('../../../clusters/kind/ownership.ts');
      if (!(await isOurCluster({ stateDir }, flags.name))) {
        throw new UsageError(`kind cluster "${flags.name}" was not created by meshcheck (no record in ${stateDir}); it is left alone`, `delete it yourself if you mean to: kind delete cluster --name ${flags.name}`);
      }
      const kubeconfig = path.join(clusterDir({ stateDir }, flags.name), 'kubeconfig');
      const { deleteArgs } = await import('../../../clusters/kind/config.ts');
      const args = deleteArgs(flags.name, kubeconfig);
      if (flags.dryRun) {
        ctx.io.out(renderPlan({ title: `cluster down ${flags.name}`, commands: [{ description: `delete kind cluster ${flags.name}`, file: kind, args }], files: {} }));
        return;
      }
      const { StartedKindCluster } = await import('../../../clusters/kind/kind-cluster.ts');
      const docker = await locateTool(ctx.env, undefined, 'docker', 'install Docker', true);
      const started = new StartedKindCluster({ name: flags.name, nodeImage: '', workers: 0 }, kubeconfig, { kind, docker, stateDir, runId: '', log: (l) => ctx.io.err(`${l}\n`), env: ctx.env });
      await started.stop();
      ctx.io.out(`cluster ${flags.name} deleted\n`);
    });

  cluster
    .command('status')
    .description('list the clusters meshcheck created, and whether kind still has them')
    .option('--kind <path>', 'the kind binary (default: kind on PATH)')
    .option('--json', 'print JSON')
    .action(async (flags: { kind?: string; json?: boolean }) => {
      const stateDir = clusterStateDir(ctx.env);
      const { readdir } = await import('node:fs/promises');
      const { kindClusters, readOwnership } = await import('../../../clusters/kind/ownership.ts');
      const { pidAlive } = await import('../../labels.ts');
      const kind = await locateTool(ctx.env, flags.kind, 'kind', KIND_INSTALL, true);
      const existing = new Set(await kindClusters({ kind, env: ctx.env }));
      const rows = [];
      for (const name of await readdir(stateDir).catch(() => [] as string[])) {
        const o = await readOwnership({ stateDir }, name);
        if (!o) continue;
        rows.push({ name, run: o['meshcheck.run'], ownerPid: Number(o['meshcheck.owner-pid']), ownerAlive: pidAlive(Number(o['meshcheck.owner-pid'])), inKind: existing.has(name), kubeconfig: path.join(stateDir, name, 'kubeconfig') });
      }
      if (flags.json) ctx.io.out(`${JSON.stringify({ stateDir, clusters: rows }, null, 2)}\n`);
      else if (!rows.length) ctx.io.out(`no clusters created by meshcheck (${stateDir})\n`);
      else for (const r of rows) ctx.io.out(`${r.name}  run ${r.run}  ${r.inKind ? 'exists' : 'GONE from kind'}  owner pid ${r.ownerPid} ${r.ownerAlive ? 'running' : 'gone'}\n`);
    });

  return cluster;
}
