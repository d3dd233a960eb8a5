/**
 * Getting the control plane's programs: kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok and
 * istioctl, each cached by version outside the repo (a second run takes seconds).
 *
 * Two ways, tried in this order with `auto`:
 *  - download: the projects' own release binaries (dl.k8s.io, GitHub releases), checked against the published
 *    SHA-256 where the project publishes one. This is what a laptop or a GitHub runner does.
 *  - build: `go build` from the Go module proxy in a scratch module per program, outside the repo. This is the
 *    only way on machines that reach the module proxy but not the internet.
 * Nothing here is committed output: the binaries live in the cache directory only.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { runChecked, runCommand } from '../../harness/process/run.ts';
import { ISTIO_MODULE_VERSIONS, KUBERNETES_STAGING_MODULES, type ToolName, type Versions } from './versions.ts';

export type Strategy = 'auto' | 'download' | 'build';

export interface ObtainContext {
  /** Root of the cache, e.g. ~/.cache/meshcheck/control-plane. */
  cacheDir: string;
  versions: Versions;
  strategy: Strategy;
  /** Go's name for this machine's architecture. */
  arch: 'amd64' | 'arm64';
  log: (line: string) => void;
  env: Record<string, string | undefined>;
}

export interface Obtained {
  path: string;
  version: string;
  how: 'cached' | 'downloaded' | 'built';
  seconds: number;
}

function versionOf(tool: ToolName, v: Versions): string {
  switch (tool) {
    case 'etcd':
      return v.etcd;
    case 'kwok':
      return v.kwok;
    case 'istioctl':
      return v.istio;
    case 'kind':
      return v.kind;
    case 'actionlint':
      return v.actionlint;
    default:
      return v.kubernetes;
  }
}

export function binaryPath(ctx: Pick<ObtainContext, 'cacheDir' | 'versions' | 'arch'>, tool: ToolName): string {
  return path.join(ctx.cacheDir, 'bin', `${tool}-${versionOf(tool, ctx.versions)}-linux-${ctx.arch}`, tool);
}

// ---------------------------------------------------------------------------------------------------------------
// download

const DOWNLOAD_TIMEOUT_MS = 300_000;

/** First contact is short: a machine without internet should fall back to building within seconds. */
async function fetchOk(url: string, connectMs = 10_000): Promise<Response> {
  const res = await fetch(url, { signal: AbortSignal.timeout(connectMs), redirect: 'follow' }).catch((err: Error) => {
    throw new Error(`${url}: ${err.cause instanceof Error ? err.cause.message : err.message}`);
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

async function downloadTo(url: string, dest: string): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'follow' });
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(dest));
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/** The first 64-hex word of a checksum file, or the line naming `name` in a SHA256SUMS file. */
export function pickChecksum(text: string, name?: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = name ? lines.find((l) => l.split(/\s+/).at(-1)?.replace(/^\*/, '') === name) : lines[0];
  return line?.match(/^[0-9a-f]{64}\b/)?.[0];
}

async function verify(file: string, checksumUrl: string, name?: string): Promise<void> {
  const expected = pickChecksum(await (await fetchOk(checksumUrl)).text(), name);
  if (!expected) throw new Error(`${checksumUrl}: no SHA-256 for ${name ?? 'the file'}`);
  const actual = await sha256File(file);
  if (actual !== expected) throw new Error(`${path.basename(file)}: SHA-256 ${actual} does not match ${expected} from ${checksumUrl}`);
}

async function extractMember(tarGz: string, member: (name: string) => boolean, dest: string): Promise<void> {
  const extract = tar.extract();
  let found = false;
  extract.on('entry', (header, stream, next) => {
    if (!found && header.type === 'file' && member(header.name)) {
      found = true;
      pipeline(stream, createWriteStream(dest)).then(() => next(), next);
    } else {
      stream.on('end', () => next());
      stream.resume();
    }
  });
  await pipeline(createReadStream(tarGz), createGunzip(), extract);
  if (!found) throw new Error(`${path.basename(tarGz)} holds no matching file`);
}

async function download(ctx: ObtainContext, tool: ToolName, dest: string): Promise<void> {
  const { arch, versions: v } = ctx;
  const tmp = `${dest}.download`;
  try {
    switch (tool) {
      case 'kube-apiserver':
      case 'kube-controller-manager':
      case 'kube-scheduler': {
        const url = `https://dl.k8s.io/release/v${v.kubernetes}/bin/linux/${arch}/${tool}`;
        await fetchOk(`${url}.sha256`);
        await downloadTo(url, tmp);
        await verify(tmp, `${url}.sha256`);
        await rename(tmp, dest);
        return;
      }
      case 'etcd': {
        const base = `https://github.com/etcd-io/etcd/releases/download/v${v.etcd}`;
        const file = `etcd-v${v.etcd}-linux-${arch}.tar.gz`;
        await fetchOk(`${base}/SHA256SUMS`);
        await downloadTo(`${base}/${file}`, tmp);
        await verify(tmp, `${base}/SHA256SUMS`, file);
        await extractMember(tmp, (n) => n.endsWith('/etcd'), dest);
        return;
      }
      case 'kwok': {
        // kwok's releases publish the bare binary without a checksum file; TLS to GitHub is the only check.
        const url = `https://github.com/kubernetes-sigs/kwok/releases/download/v${v.kwok}/kwok-linux-${arch}`;
        await downloadTo(url, tmp);
        await rename(tmp, dest);
        return;
      }
      case 'kind': {
        // kind's install docs: https://kind.sigs.k8s.io/dl/<version>/kind-linux-<arch>, with a .sha256sum beside it.
        const url = `https://kind.sigs.k8s.io/dl/v${v.kind}/kind-linux-${arch}`;
        await fetchOk(`${url}.sha256sum`);
        await downloadTo(url, tmp);
        await verify(tmp, `${url}.sha256sum`);
        await rename(tmp, dest);
        return;
      }
      case 'actionlint': {
        const base = `https://github.com/rhysd/actionlint/releases/download/v${v.actionlint}`;
        const file = `actionlint_${v.actionlint}_linux_${arch}.tar.gz`;
        await fetchOk(`${base}/actionlint_${v.actionlint}_checksums.txt`);
        await downloadTo(`${base}/${file}`, tmp);
        await verify(tmp, `${base}/actionlint_${v.actionlint}_checksums.txt`, file);
        await extractMember(tmp, (n) => path.basename(n) === 'actionlint', dest);
        return;
      }
      case 'istioctl': {
        const url = `https://github.com/istio/istio/releases/download/${v.istio}/istioctl-${v.istio}-linux-${arch}.tar.gz`;
        await fetchOk(`${url}.sha256`);
        await downloadTo(url, tmp);
        await verify(tmp, `${url}.sha256`);
        await extractMember(tmp, (n) => path.basename(n) === 'istioctl', dest);
        return;
      }
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// build from the module proxy

/** Which scratch module builds which programs. */
type Group = 'kubernetes' | 'etcd' | 'kwok' | 'istioctl' | 'kind' | 'actionlint';
function groupOf(tool: ToolName): Group {
  return tool === 'etcd' || tool === 'kwok' || tool === 'istioctl' || tool === 'kind' || tool === 'actionlint' ? tool : 'kubernetes';
}

const PACKAGES: Record<ToolName, string> = {
  'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
  'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
  'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
  etcd: 'go.etcd.io/etcd/server/v3',
  kwok: 'sigs.k8s.io/kwok/cmd/kwok',
  istioctl: 'istio.io/istio/istioctl/cmd/istioctl',
  kind: 'sigs.k8s.io/kind',
  actionlint: 'github.com/rhysd/actionlint/cmd/actionlint',
};

async function goEnv(ctx: ObtainContext, name: string): Promise<string> {
  return (await runChecked('go', ['env', name], { env: ctx.env, timeoutMs: 30_000 })).stdout.trim();
}

/** The version ldflags each project's own release build passes, so `--version` and /version tell the truth. */
function ldflags(tool: ToolName, v: Versions): string[] {
  const flags = ['-s', '-w'];
  if (groupOf(tool) === 'kubernetes') {
    // kubernetes hack/lib/version.sh (kube::version::ldflags): both version packages get the same values.
    const [major, minor] = v.kubernetes.split('.');
    for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
      flags.push(
        `-X ${pkg}.gitVersion=v${v.kubernetes}`,
        `-X ${pkg}.gitMajor=${major}`,
        `-X ${pkg}.gitMinor=${minor}`,
        `-X ${pkg}.gitTreeState=clean`,
      );
    }
  } else if (tool === 'istioctl') {
    // istio common/scripts/report_build_info.sh: without these, manifests default to gcr.io/istio-testing:latest.
    const x = 'istio.io/istio/pkg/version';
    const rev = ISTIO_MODULE_VERSIONS[v.istio]?.split('-').at(-1) ?? 'unknown';
    flags.push(`-X ${x}.buildVersion=${v.istio}`, `-X ${x}.buildTag=${v.istio}`, `-X ${x}.buildHub=docker.io/istio`, `-X ${x}.buildGitRevision=${rev}`, `-X ${x}.buildStatus=Clean`);
  }
  return flags;
}

function moduleQuery(group: Group, v: Versions): string[] {
  switch (group) {
    case 'kubernetes':
      return ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((t) => `${PACKAGES[t as ToolName]}@v${v.kubernetes}`);
    case 'etcd':
      return [`${PACKAGES.etcd}@v${v.etcd}`];
    case 'kwok':
      return [`${PACKAGES.kwok}@v${v.kwok}`];
    case 'kind':
      return [`${PACKAGES.kind}@v${v.kind}`];
    case 'actionlint':
      return [`${PACKAGES.actionlint}@v${v.actionlint}`];
    case 'istioctl': {
      const pv = ISTIO_MODULE_VERSIONS[v.istio];
      if (!pv) throw new Error(`no module version known for Istio ${v.istio}: add its tag's pseudo-version to ISTIO_MODULE_VERSIONS in scripts/control-plane/versions.ts`);
      return [`${PACKAGES.istioctl}@${pv}`];
    }
  }
}

/** Prepare the scratch module of a group (go.mod, requirements). Idempotent. */
async function prepareModule(ctx: ObtainContext, group: Group, env: Record<string, string | undefined>): Promise<string> {
  const v = ctx.versions;
  const version = { kubernetes: v.kubernetes, etcd: v.etcd, kwok: v.kwok, istioctl: v.istio, kind: v.kind, actionlint: v.actionlint }[group];
  const dir = path.join(ctx.cacheDir, 'src', `${group}-${version}`);
  const stamp = path.join(dir, '.prepared');
  if (existsSync(stamp)) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'go.mod'), `module local.meshcheck/${group}\n\ngo 1.24.0\n${group === 'kubernetes' ? '\ngodebug default=go1.24\n' : ''}`);
  if (group === 'kubernetes') {
    const [, minor, patch] = v.kubernetes.split('.');
    for (const m of KUBERNETES_STAGING_MODULES) {
      await runChecked('go', ['mod', 'edit', `-replace=k8s.io/${m}=k8s.io/${m}@v0.${minor}.${patch}`], { cwd: dir, env, timeoutMs: 30_000 });
    }
  }
  if (group === 'istioctl') {
    // The checksum database has no entry for Istio's pseudo-versions on the proxy these machines reach, so the
    // dependencies are checked against Istio's own go.sum instead: download the module first, start from its go.sum.
    const pv = ISTIO_MODULE_VERSIONS[v.istio] as string;
    const r = await runChecked('go', ['mod', 'download', '-json', `istio.io/istio@${pv}`], { cwd: dir, env, timeoutMs: 900_000 });
    const info = JSON.parse(r.stdout) as { Dir?: string; Error?: string };
    if (!info.Dir) throw new Error(`go mod download istio.io/istio@${pv}: ${info.Error ?? 'no directory'}`);
    await copyFile(path.join(info.Dir, 'go.sum'), path.join(dir, 'go.sum'));
    await chmod(path.join(dir, 'go.sum'), 0o644);
  }
  await runChecked('go', ['get', '-tool', ...moduleQuery(group, v)], { cwd: dir, env, timeoutMs: 1_800_000 });
  await writeFile(stamp, new Date().toISOString());
  return dir;
}

function buildEnv(ctx: ObtainContext, group: Group): Record<string, string | undefined> {
  return {
    ...ctx.env,
    CGO_ENABLED: '0',
    GOFLAGS: '-buildvcs=false -mod=mod',
    // Only Istio's own module is exempt from the checksum database (see prepareModule); nothing else is.
    ...(group === 'istioctl' ? { GONOSUMDB: 'istio.io/istio' } : {}),
  };
}

async function build(ctx: ObtainContext, tool: ToolName, dest: string): Promise<void> {
  const group = groupOf(tool);
  const env = buildEnv(ctx, group);
  const goVersion = await runCommand('go', ['version'], { env, timeoutMs: 30_000 });
  if (!goVersion.ok) throw new Error('go is not on PATH: install Go >= 1.24 (https://go.dev/dl) or let the download work');
  const dir = await prepareModule(ctx, group, env);
  const tmp = `${dest}.build`;
  await runChecked('go', ['build', '-trimpath', '-ldflags', ldflags(tool, ctx.versions).join(' '), '-o', tmp, PACKAGES[tool]], {
    cwd: dir,
    env,
    timeoutMs: 3_600_000,
  });
  await rename(tmp, dest);
}

// ---------------------------------------------------------------------------------------------------------------

/** Obtain one program (from the cache when it is there). */
export async function obtain(ctx: ObtainContext, tool: ToolName): Promise<Obtained> {
  const dest = binaryPath(ctx, tool);
  const version = versionOf(tool, ctx.versions);
  const stampFile = `${dest}.how`;
  if (existsSync(dest)) {
    return { path: dest, version, how: 'cached', seconds: 0 };
  }
  await mkdir(path.dirname(dest), { recursive: true });
  const started = Date.now();
  let how: Obtained['how'] | undefined;
  if (ctx.strategy !== 'build') {
    try {
      ctx.log(`${tool} ${version}: downloading`);
      await download(ctx, tool, dest);
      how = 'downloaded';
    } catch (err) {
      if (ctx.strategy === 'download') throw new Error(`${tool} ${version}: download failed: ${(err as Error).message}`);
      ctx.log(`${tool} ${version}: download not possible (${(err as Error).message}); building from the Go module proxy`);
    }
  }
  if (!how) {
    ctx.log(`${tool} ${version}: go build (GOMODCACHE ${await goEnv(ctx, 'GOMODCACHE')})`);
    await build(ctx, tool, dest);
    how = 'built';
  }
  await chmod(dest, 0o755);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  await writeFile(stampFile, JSON.stringify({ how, seconds, at: new Date().toISOString() }));
  ctx.log(`${tool} ${version}: ${how} in ${seconds} s`);
  return { path: dest, version, how, seconds };
}

/** How a cached program was obtained the first time (for status and timings). */
export async function provenance(file: string): Promise<{ how: string; seconds: number } | undefined> {
  try {
    return JSON.parse(await readFile(`${file}.how`, 'utf8')) as { how: string; seconds: number };
  } catch {
    return undefined;
  }
}

/** The directory of a module in the Go module cache (downloading it if needed), e.g. for kwok's default stages. */
export async function moduleDir(ctx: Pick<ObtainContext, 'env'>, modulePath: string, version: string): Promise<string> {
  const r = await runChecked('go', ['mod', 'download', '-json', `${modulePath}@${version}`], { env: { ...ctx.env, GOFLAGS: '-mod=mod' }, timeoutMs: 600_000 });
  const info = JSON.parse(r.stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${modulePath}@${version}: ${info.Error ?? 'no directory'}`);
  return info.Dir;
}
