/**
 * kind clusters, one type per lifecycle state (as testcontainers does it): `KindCluster` (a builder; `plan()`
 * says every command without running one) → `start()` → `StartedKindCluster` (kubeconfig, logs) → `stop()` →
 * `StoppedKindCluster`.
 *
 * Everything goes through the real kind CLI with argument arrays (kind's pkg/cmd/kind/... @ v0.32.0):
 *  - `kind create cluster --name N --config F --kubeconfig K --wait 0s`: a kubeconfig per cluster, so the user's
 *    default kubeconfig is never touched. `--wait` is not used for readiness: on timeout kind only logs a warning
 *    and exits 0, and checks control-plane nodes only (waitforready.go); meshcheck waits for every node itself.
 *  - create is retried with backoff only for failures known to be transient (kubeadm init timeouts, the usual
 *    flake of emulated nodes); a node image that cannot be pulled or a bad config fails at once.
 *  - on a failed create, `kind export logs` keeps the nodes' logs (with --retain the nodes stay to look at).
 * Ownership: each cluster meshcheck creates has a record (run id, pid, host) in the state directory, so the next
 * start deletes clusters whose run died (`reapOrphanClusters`), and nothing else is ever deleted.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InfrastructureError } from '../../harness/errors.ts';
import { kubeClient } from '../../harness/kube/client.ts';
import { pollUntil } from '../../harness/kube/wait.ts';
import type { PlannedCommand } from '../../harness/mesh/adapter.ts';
import { type CommandResult, describeFailure, runCommand } from '../../harness/process/run.ts';
import { deleteArgs, type KindClusterSpec, kindConfigYaml, registryHostsToml } from './config.ts';
import { clusterDir, type KindContext, removeOwnership, writeOwnership } from './ownership.ts';

export interface KindTimeouts {
  /** One `kind create cluster` attempt. */
  createMs: number;
  /** All nodes Ready after create. */
  readyMs: number;
}

export const DEFAULT_KIND_TIMEOUTS: KindTimeouts = { createMs: 600_000, readyMs: 300_000 };

/** kind's and kubeadm's wording of failures that a second attempt usually gets past. */
const TRANSIENT = [/timed out waiting for the condition/i, /failed to init node with kubeadm/i, /context deadline exceeded/i, /connection refused.*6443/i];

export function isTransientCreateFailure(output: string): boolean {
  return TRANSIENT.some((re) => re.test(output)) && !/failed to pull image|unable to decode config|invalid configuration/i.test(output);
}

/** A fix for the failures people meet most, from kind's own error text. */
export function createFailureFix(output: string): string {
  if (/failed to pull image/i.test(output)) return 'the node image could not be pulled: check network access to its registry, or pre-pull it (docker pull IMAGE) and retry';
  if (/unable to decode config|invalid configuration/i.test(output)) return 'the generated kind config was rejected: run with --dry-run to see it, and report the kind version (kind version)';
  if (/already exist for a cluster with the name/i.test(output)) return 'a cluster of that name exists: delete it (meshcheck cluster down --name NAME) or choose another name';
  if (/Cannot connect to the Docker daemon|docker.*not found/i.test(output)) return 'kind needs a running Docker engine: start it (dockerd) and retry';
  return 'see the exported logs named above; run again with --keep to look at the nodes';
}

export class KindCluster {
  readonly spec: KindClusterSpec;
  #retries = 2;
  #backoffMs = 10_000;
  #timeouts: KindTimeouts = { ...DEFAULT_KIND_TIMEOUTS };
  #retain = false;

  constructor(spec: KindClusterSpec) {
    this.spec = { ...spec };
  }

  /** Retry a transient create failure up to `n` more times, waiting backoffMs × 2^attempt between. */
  withCreateRetries(n: number, backoffMs = 10_000): this {
    this.#retries = n;
    this.#backoffMs = backoffMs;
    return this;
  }

  /** Timeouts, e.g. scaled by the emulation calibration factor. */
  withTimeouts(t: Partial<KindTimeouts>): this {
    this.#timeouts = { ...this.#timeouts, ...t };
    return this;
  }

  /** Keep the nodes of a failed create (kind --retain), for debugging. */
  withRetainOnFailure(retain = true): this {
    this.#retain = retain;
    return this;
  }

  kubeconfigPath(ctx: Pick<KindContext, 'stateDir'>): string {
    return path.join(clusterDir(ctx, this.spec.name), 'kubeconfig');
  }

  configPath(ctx: Pick<KindContext, 'stateDir'>): string {
    return path.join(clusterDir(ctx, this.spec.name), 'kind.yaml');
  }

  /** Every command start() runs, in order, and the files it writes. Runs nothing. */
  plan(ctx: Pick<KindContext, 'stateDir' | 'kind' | 'docker'>): { commands: PlannedCommand[]; files: Record<string, string> } {
    const files: Record<string, string> = { [this.configPath(ctx)]: kindConfigYaml(this.spec) };
    const commands: PlannedCommand[] = [
      {
        description: `create kind cluster ${this.spec.name} (retried up to ${this.#retries} time(s) on kubeadm timeouts)`,
        file: ctx.kind,
        args: this.createArgs(ctx),
      },
    ];
    if (this.spec.registry) {
      const hostsDir = `/etc/containerd/certs.d/${this.spec.registry.host}`;
      commands.push(
        { description: 'list the nodes', file: ctx.kind, args: ['get', 'nodes', '--name', this.spec.name] },
        { description: `on each node: make ${hostsDir}`, file: ctx.docker, args: ['exec', '<node>', 'mkdir', '-p', hostsDir] },
        { description: `on each node: write ${hostsDir}/hosts.toml (pull ${this.spec.registry.host} from ${this.spec.registry.endpoint})`, file: ctx.docker, args: ['exec', '-i', '<node>', 'cp', '/dev/stdin', `${hostsDir}/hosts.toml`] },
      );
      files[`<node>:${hostsDir}/hosts.toml`] = registryHostsToml(this.spec.registry);
    }
    commands.push({ description: `wait until every node is Ready (${this.#timeouts.readyMs / 1000} s), through the cluster's own kubeconfig`, file: '(kubernetes API)', args: ['GET', '/api/v1/nodes'] });
    return { commands, files };
  }

  createArgs(ctx: Pick<KindContext, 'stateDir'>): string[] {
    return [
      'create', 'cluster',
      '--name', this.spec.name,
      '--config', this.configPath(ctx),
      '--kubeconfig', this.kubeconfigPath(ctx),
      '--wait', '0s',
      ...(this.#retain ? ['--retain'] : []),
    ];
  }

  async start(ctx: KindContext): Promise<StartedKindCluster> {
    const dir = clusterDir(ctx, this.spec.name);
    await mkdir(dir, { recursive: true });
    await writeFile(this.configPath(ctx), kindConfigYaml(this.spec));
    await writeOwnership(ctx, this.spec.name);
    let last: CommandResult | undefined;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      ctx.signal?.throwIfAborted();
      if (attempt > 0) {
        const wait = this.#backoffMs * 2 ** (attempt - 1);
        ctx.log(`kind: create failed with a transient error; deleting and retrying in ${Math.round(wait / 1000)} s (attempt ${attempt + 1} of ${this.#retries + 1})`);
        await runCommand(ctx.kind, deleteArgs(this.spec.name, this.kubeconfigPath(ctx)), { timeoutMs: 120_000, env: ctx.env });
        await new Promise((r) => setTimeout(r, wait));
      }
      ctx.log(`kind: creating cluster ${this.spec.name} (${this.spec.nodeImage})`);
      last = await runCommand(ctx.kind, this.createArgs(ctx), { timeoutMs: this.#timeouts.createMs, env: ctx.env, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      if (last.ok) break;
      if (!isTransientCreateFailure(`${last.stdout}\n${last.stderr}`)) break;
    }
    if (!last?.ok) {
      const output = `${last?.stdout ?? ''}\n${last?.stderr ?? ''}`;
      const logs = await this.#exportLogs(ctx).catch(() => undefined);
      if (!this.#retain) {
        await runCommand(ctx.kind, deleteArgs(this.spec.name, this.kubeconfigPath(ctx)), { timeoutMs: 120_000, env: ctx.env });
        await removeOwnership(ctx, this.spec.name);
      }
      throw new InfrastructureError(
        `kind could not create cluster ${this.spec.name}: ${last ? describeFailure(last, 8) : 'not attempted'}${logs ? `\nnode logs: ${logs}` : ''}`,
        createFailureFix(output),
      );
    }
    const started = new StartedKindCluster(this.spec, this.kubeconfigPath(ctx), ctx);
    await started.waitForNodesReady(this.#timeouts.readyMs);
    if (this.spec.registry) await started.configureRegistry(this.spec.registry);
    return started;
  }

  async #exportLogs(ctx: KindContext): Promise<string | undefined> {
    const out = path.join(clusterDir(ctx, this.spec.name), 'logs');
    const r = await runCommand(ctx.kind, ['export', 'logs', out, '--name', this.spec.name], { timeoutMs: 120_000, env: ctx.env });
    return r.ok ? out : undefined;
  }
}

export class StartedKindCluster {
  readonly spec: KindClusterSpec;
  readonly kubeconfig: string;
  /** kind names the context "kind-<name>" (pkg/cluster/internal/kubeconfig/internal/kubeconfig/helpers.go). */
  readonly context: string;
  readonly #ctx: KindContext;

  constructor(spec: KindClusterSpec, kubeconfig: string, ctx: KindContext) {
    this.spec = spec;
    this.kubeconfig = kubeconfig;
    this.context = `kind-${spec.name}`;
    this.#ctx = ctx;
  }

  get name(): string {
    return this.spec.name;
  }

  async waitForNodesReady(timeoutMs: number): Promise<void> {
    const client = kubeClient({ kubeconfig: this.kubeconfig, context: this.context });
    let seen = '';
    await pollUntil(
      `every node of kind cluster ${this.name} becoming Ready`,
      async () => {
        const nodes = await client.core.listNode().catch(() => undefined);
        if (!nodes) return undefined;
        seen = nodes.items.map((n) => `  ${n.metadata?.name}: ${n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'unknown'}`).join('\n');
        const want = 1 + this.spec.workers;
        const ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.length >= want ? true : undefined;
      },
      async () => seen,
      { timeoutMs, intervalMs: 2_000, ...(this.#ctx.signal ? { signal: this.#ctx.signal } : {}) },
    );
  }

  async nodes(): Promise<string[]> {
    const r = await runCommand(this.#ctx.kind, ['get', 'nodes', '--name', this.name], { timeoutMs: 60_000, env: this.#ctx.env });
    if (!r.ok) throw new InfrastructureError(`kind get nodes --name ${this.name} failed: ${describeFailure(r)}`);
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  /** kind's local-registry recipe, step 3: tell each node's containerd where the registry is. */
  async configureRegistry(registry: { host: string; endpoint: string }): Promise<void> {
    const dir = `/etc/containerd/certs.d/${registry.host}`;
    for (const node of await this.nodes()) {
      const mk = await runCommand(this.#ctx.docker, ['exec', node, 'mkdir', '-p', dir], { timeoutMs: 30_000 });
      const cp = mk.ok ? await runCommand(this.#ctx.docker, ['exec', '-i', node, 'cp', '/dev/stdin', `${dir}/hosts.toml`], { timeoutMs: 30_000, input: registryHostsToml(registry) }) : mk;
      if (!cp.ok) throw new InfrastructureError(`could not configure the registry on node ${node}: ${describeFailure(cp)}`);
    }
  }

  async exportLogs(dir: string): Promise<string> {
    const r = await runCommand(this.#ctx.kind, ['export', 'logs', dir, '--name', this.name], { timeoutMs: 300_000, env: this.#ctx.env });
    if (!r.ok) throw new InfrastructureError(`kind export logs failed: ${describeFailure(r)}`);
    return dir;
  }

  async stop(): Promise<StoppedKindCluster> {
    const r = await runCommand(this.#ctx.kind, deleteArgs(this.name, this.kubeconfig), { timeoutMs: 300_000, env: this.#ctx.env });
    if (!r.ok) throw new InfrastructureError(`kind delete cluster --name ${this.name} failed: ${describeFailure(r)}`, 'delete it by hand: kind delete cluster --name NAME');
    await removeOwnership(this.#ctx, this.name);
    await rm(clusterDir(this.#ctx, this.name), { recursive: true, force: true });
    return new StoppedKindCluster(this.name);
  }
}

export class StoppedKindCluster {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}
