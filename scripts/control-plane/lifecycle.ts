/**
 * Start and stop the test control plane: etcd, kube-apiserver, kube-controller-manager and kube-scheduler on
 * loopback (free ports, generated certificates), and kwok simulating an amd64 and an arm64 node. The controller
 * manager makes Deployments into ReplicaSets and Pods, the scheduler places them by architecture, kwok plays the
 * kubelet. An admin kubeconfig is written for meshcheck's tests only; no other kubeconfig is read or changed.
 *
 * State lives in <dir>/control-plane.json: the pids `up` started (`down` stops only those), ports, paths, versions
 * and how long obtaining and starting took.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { sleep } from 'zx';
import { applyOne } from '../../harness/kube/apply.ts';
import { kubeClient } from '../../harness/kube/client.ts';
import { pidAlive } from '../../harness/labels.ts';
import { writeFileAtomic } from '../../harness/util/atomic-write.ts';
import { lastLines, startDaemon, stopPid } from '../testbed/daemons.ts';
import { kwokConfig, nodeObject, nodeStatusPatch, SIMULATED_NODES } from './kwok.ts';
import { moduleDir, type Obtained, obtain, type Strategy } from './obtain.ts';
import { ensurePki } from './pki.ts';
import { TOOLS, type ToolName, VERSIONS, type Versions } from './versions.ts';

export const CONTROL_PLANE_SCHEMA = 1;
export const KUBECONFIG_CONTEXT = 'meshcheck-test';

export interface ControlPlaneState {
  schema: number;
  dir: string;
  cacheDir: string;
  versions: Versions;
  binaries: Record<ToolName, string>;
  obtained: Record<ToolName, Pick<Obtained, 'how' | 'seconds'>>;
  ports: { etcdClient: number; etcdPeer: number; apiserver: number; controllerManager: number; scheduler: number; kwok: number };
  pids: Partial<Record<'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok', number>>;
  /** Admin kubeconfig (context meshcheck-test). */
  kubeconfig: string;
  server: string;
  nodes: { name: string; arch: string }[];
  kwokModuleDir: string;
  startedAt: string;
  startSeconds: number;
}

export interface ControlPlaneContext {
  dir: string;
  cacheDir: string;
  strategy: Strategy;
  log: (line: string) => void;
  env: Record<string, string | undefined>;
}

export function cacheRoot(env: Record<string, string | undefined> = process.env): string {
  return path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'meshcheck');
}

export function controlPlaneDir(env: Record<string, string | undefined> = process.env): string {
  return env.MESHCHECK_CONTROL_PLANE_DIR ?? path.join(cacheRoot(env), 'control-plane', 'run');
}

export function controlPlaneCacheDir(env: Record<string, string | undefined> = process.env): string {
  return env.MESHCHECK_CONTROL_PLANE_CACHE ?? path.join(cacheRoot(env), 'control-plane');
}

export function statePath(dir: string): string {
  return path.join(dir, 'control-plane.json');
}

export async function readControlPlaneState(dir = controlPlaneDir()): Promise<ControlPlaneState | undefined> {
  try {
    const s = JSON.parse(await readFile(statePath(dir), 'utf8')) as ControlPlaneState;
    return s.schema === CONTROL_PLANE_SCHEMA ? s : undefined;
  } catch {
    return undefined;
  }
}

function goArch(): 'amd64' | 'arm64' {
  if (process.arch === 'x64') return 'amd64';
  if (process.arch === 'arm64') return 'arm64';
  throw new Error(`the test control plane runs on amd64 or arm64 hosts, not ${process.arch}`);
}

/** Obtain every program (cached after the first time). */
export async function obtainAll(ctx: ControlPlaneContext, versions: Versions = { ...VERSIONS }): Promise<Record<ToolName, Obtained>> {
  const out = {} as Record<ToolName, Obtained>;
  for (const tool of TOOLS) {
    out[tool] = await obtain({ cacheDir: ctx.cacheDir, versions, strategy: ctx.strategy, arch: goArch(), log: ctx.log, env: ctx.env }, tool);
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitUntil(what: string, logFile: string, pid: number, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    if (!pidAlive(pid)) throw new Error(`${what} exited during start-up; last lines of ${logFile}:\n${await lastLines(logFile)}`);
    await sleep(250);
  }
  throw new Error(`${what} was not ready within ${timeoutMs / 1000} s; last lines of ${logFile}:\n${await lastLines(logFile)}`);
}

function tlsAgent(ca: string, cert: string, key: string): Agent {
  return new Agent({ connect: { ca, cert, key } });
}

function kubeconfigYaml(server: string, ca: string, cert: string, key: string): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: KUBECONFIG_CONTEXT, cluster: { server, 'certificate-authority-data': b64(ca) } }],
    users: [{ name: 'meshcheck-admin', user: { 'client-certificate-data': b64(cert), 'client-key-data': b64(key) } }],
    contexts: [{ name: KUBECONFIG_CONTEXT, context: { cluster: KUBECONFIG_CONTEXT, user: 'meshcheck-admin' } }],
    'current-context': KUBECONFIG_CONTEXT,
  });
}

/** Is a recorded control plane fully up (every pid alive and the API server ready)? */
export async function controlPlaneAnswers(state: ControlPlaneState): Promise<boolean> {
  if (!Object.values(state.pids).every((pid) => pid && pidAlive(pid))) return false;
  try {
    const pki = path.join(state.dir, 'pki');
    const [ca, cert, key] = (await Promise.all(['ca.crt', 'admin.crt', 'admin.key'].map((f) => readFile(path.join(pki, f), 'utf8')))) as [string, string, string];
    const agent = new Agent({ connect: { ca, cert, key } });
    try {
      const r = await request(`${state.server}/readyz`, { dispatcher: agent, signal: AbortSignal.timeout(5000) });
      await r.body.text();
      return r.statusCode === 200;
    } finally {
      await agent.close();
    }
  } catch {
    return false;
  }
}

export async function controlPlaneUp(ctx: ControlPlaneContext): Promise<ControlPlaneState> {
  const prior = await readControlPlaneState(ctx.dir);
  // Reuse a running control plane only when it runs exactly the pinned programs (a new pin or tool restarts it).
  const current = prior && TOOLS.every((t) => prior.binaries[t]) && JSON.stringify(prior.versions) === JSON.stringify({ ...VERSIONS });
  if (prior && current && (await controlPlaneAnswers(prior))) {
    ctx.log(`control plane: already up (${prior.server})`);
    return prior;
  }
  if (prior) await controlPlaneDown(ctx, prior);
  const versions: Versions = { ...VERSIONS };
  const obtained = await obtainAll(ctx, versions);
  const started = Date.now();
  await mkdir(ctx.dir, { recursive: true });
  const pki = await ensurePki(path.join(ctx.dir, 'pki'));
  const [ca, adminCert, adminKey] = (await Promise.all([pki.caCert, pki.adminCert, pki.adminKey].map((f) => readFile(f, 'utf8')))) as [string, string, string];
  const ports = {
    etcdClient: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
    controllerManager: await freePort(),
    scheduler: await freePort(),
    kwok: await freePort(),
  };
  const logs = path.join(ctx.dir, 'logs');
  await mkdir(logs, { recursive: true });
  const bin = (t: ToolName) => obtained[t].path;
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const state: ControlPlaneState = {
    schema: CONTROL_PLANE_SCHEMA,
    dir: ctx.dir,
    cacheDir: ctx.cacheDir,
    versions,
    binaries: Object.fromEntries(TOOLS.map((t) => [t, bin(t)])) as Record<ToolName, string>,
    obtained: Object.fromEntries(TOOLS.map((t) => [t, { how: obtained[t].how, seconds: obtained[t].seconds }])) as ControlPlaneState['obtained'],
    ports,
    pids: {},
    kubeconfig: path.join(ctx.dir, 'kubeconfig'),
    server,
    nodes: SIMULATED_NODES.map((n) => ({ ...n })),
    kwokModuleDir: '',
    startedAt: new Date().toISOString(),
    startSeconds: 0,
  };
  // Record pids as they start, so a failed `up` can still be taken down.
  const save = () => writeFileAtomic(statePath(ctx.dir), `${JSON.stringify(state, null, 2)}\n`);
  const agent = tlsAgent(ca, adminCert, adminKey);
  try {
    // etcd
    const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
    const etcdLog = path.join(logs, 'etcd.log');
    ctx.log(`control plane: etcd ${versions.etcd} on ${etcdUrl}`);
    state.pids.etcd = await startDaemon(bin('etcd'), [
      '--name=meshcheck',
      `--data-dir=${path.join(ctx.dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-cluster=meshcheck=http://127.0.0.1:${ports.etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ], etcdLog);
    await save();
    await waitUntil('etcd', etcdLog, state.pids.etcd, 60_000, async () => {
      const r = await request(`${etcdUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return ((await r.body.json()) as { health?: string }).health === 'true';
    });

    // kube-apiserver
    const apiLog = path.join(logs, 'kube-apiserver.log');
    ctx.log(`control plane: kube-apiserver ${versions.kubernetes} on ${server}`);
    state.pids['kube-apiserver'] = await startDaemon(bin('kube-apiserver'), [
      `--etcd-servers=${etcdUrl}`,
      '--advertise-address=127.0.0.1',
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      `--cert-dir=${path.join(ctx.dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=1',
    ], apiLog);
    await save();
    await waitUntil('kube-apiserver', apiLog, state.pids['kube-apiserver'], 120_000, async () => {
      const r = await request(`${server}/readyz`, { dispatcher: agent, signal: AbortSignal.timeout(3000) });
      await r.body.text();
      return r.statusCode === 200;
    });
    await writeFileAtomic(state.kubeconfig, kubeconfigYaml(server, ca, adminCert, adminKey));

    // controller manager and scheduler
    const cmLog = path.join(logs, 'kube-controller-manager.log');
    state.pids['kube-controller-manager'] = await startDaemon(bin('kube-controller-manager'), [
      `--kubeconfig=${state.kubeconfig}`,
      `--authentication-kubeconfig=${state.kubeconfig}`,
      `--authorization-kubeconfig=${state.kubeconfig}`,
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      '--use-service-account-credentials=false',
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      '--v=1',
    ], cmLog);
    const schedLog = path.join(logs, 'kube-scheduler.log');
    state.pids['kube-scheduler'] = await startDaemon(bin('kube-scheduler'), [
      `--kubeconfig=${state.kubeconfig}`,
      `--authentication-kubeconfig=${state.kubeconfig}`,
      `--authorization-kubeconfig=${state.kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.scheduler}`,
      '--v=1',
    ], schedLog);
    await save();

    // simulated nodes, then kwok
    const client = kubeClient({ kubeconfig: state.kubeconfig });
    for (const n of SIMULATED_NODES) {
      const r = await applyOne(client, nodeObject(n));
      if (!r.ok) throw r.error;
      await client.core.patchNodeStatus({ name: n.name, body: nodeStatusPatch(n) }, (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'));
    }
    state.kwokModuleDir = await moduleDir(ctx, 'sigs.k8s.io/kwok', `v${versions.kwok}`);
    const kwokConfigFile = path.join(ctx.dir, 'kwok.yaml');
    await writeFile(kwokConfigFile, await kwokConfig(state.kwokModuleDir));
    const kwokLog = path.join(logs, 'kwok.log');
    ctx.log(`control plane: kwok ${versions.kwok} with nodes ${SIMULATED_NODES.map((n) => `${n.name} (${n.arch})`).join(', ')}`);
    state.pids.kwok = await startDaemon(bin('kwok'), [
      `--kubeconfig=${state.kubeconfig}`,
      `--config=${kwokConfigFile}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--manage-nodes-with-label-selector=',
      '--manage-single-node=',
      '--cidr=10.244.0.0/16',
      '--node-ip=10.0.0.1',
      '--node-lease-duration-seconds=40',
      `--server-address=127.0.0.1:${ports.kwok}`,
    ], kwokLog);
    await save();
    await waitUntil('kwok (nodes Ready)', kwokLog, state.pids.kwok, 60_000, async () => {
      const nodes = await client.core.listNode();
      return SIMULATED_NODES.every((n) =>
        nodes.items.find((x) => x.metadata?.name === n.name)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
    });
    // The controller manager is working once it has made the default namespace's service account.
    await waitUntil('kube-controller-manager (default ServiceAccount)', cmLog, state.pids['kube-controller-manager'], 60_000, async () => {
      await client.core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    });
    state.startSeconds = Math.round((Date.now() - started) / 100) / 10;
    await save();
    ctx.log(`control plane: up in ${state.startSeconds} s; kubeconfig ${state.kubeconfig}`);
    return state;
  } catch (err) {
    await save();
    throw err;
  } finally {
    await agent.close();
  }
}

export async function controlPlaneDown(ctx: Pick<ControlPlaneContext, 'dir' | 'log'>, state?: ControlPlaneState): Promise<void> {
  const s = state ?? (await readControlPlaneState(ctx.dir));
  if (s) {
    // Reverse start order: kwok and the controllers first, etcd last.
    for (const name of ['kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'] as const) {
      const pid = s.pids[name];
      if (pid) await stopPid(pid, name, ctx.log);
    }
  }
  if (existsSync(ctx.dir)) {
    await rm(ctx.dir, { recursive: true, force: true });
    ctx.log(`down: removed ${ctx.dir}`);
  }
}
