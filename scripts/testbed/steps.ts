/**
 * The steps of `npm run testbed -- up|down|status`. Each step checks first and acts only when something is
 * missing, so a second `up` takes seconds. Processes are started with argument arrays (execa via runCommand,
 * or child_process.spawn for the two daemons), never through a shell.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, open, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fs as zxfs, sleep } from 'zx';
import { readBinfmt, setBinfmtHandlerEnabled, BINFMT_ROOT } from '../../harness/arch/binfmt.ts';
import { runChecked, runCommand } from '../../harness/process/run.ts';
import { findOnPath } from '../../harness/process/tools.ts';
import { pidAlive } from '../../harness/labels.ts';
import { lastLines, startDaemon, stopPid } from './daemons.ts';
import type { TestbedImage, TestbedState } from './state.ts';

export interface StepContext {
  dir: string;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
  registryAddr: string;
}

const PROGRAMS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'programs');
export const TESTBED_LABEL = 'meshcheck.testbed';
const HANDLER = 'qemu-aarch64';

/** Debian packages the test bed needs, with the command that proves each is there. */
const PACKAGES: ReadonlyArray<{ pkg: string; provides: string }> = [
  { pkg: 'docker.io', provides: '/usr/sbin/dockerd' },
  { pkg: 'qemu-user-static', provides: '/usr/bin/qemu-aarch64-static' },
  { pkg: 'binfmt-support', provides: '/usr/sbin/update-binfmts' },
  { pkg: 'docker-registry', provides: '/usr/bin/docker-registry' },
  { pkg: 'gcc-aarch64-linux-gnu', provides: '/usr/bin/aarch64-linux-gnu-gcc' },
  { pkg: 'libc6-dev-arm64-cross', provides: '/usr/aarch64-linux-gnu/lib/libc.a' },
  { pkg: 'gcc', provides: '/usr/bin/gcc' },
  { pkg: 'skopeo', provides: '/usr/bin/skopeo' },
  { pkg: 'openssl', provides: '/usr/bin/openssl' },
  { pkg: 'wrk', provides: '/usr/bin/wrk' },
  // The HTML report is checked in a real headless browser (playwright-core drives Debian's chromium).
  { pkg: 'chromium', provides: '/usr/bin/chromium' },
  { pkg: 'libc6-dev', provides: '/usr/include/stdio.h' },
];

const aptEnv = { DEBIAN_FRONTEND: 'noninteractive' };

export async function ensurePackages(ctx: StepContext): Promise<void> {
  const missing = PACKAGES.filter((p) => !existsSync(p.provides)).map((p) => p.pkg);
  const arches = (await runCommand('dpkg', ['--print-foreign-architectures'])).stdout.split('\n');
  const needArm64 = !arches.includes('arm64');
  if (missing.length === 0 && !needArm64) {
    ctx.log('packages: all present');
    return;
  }
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages ${missing.join(', ')}: run \`sudo npm run testbed -- up\` or install them yourself`);
  }
  if (needArm64) {
    ctx.log('packages: enabling the arm64 architecture (dpkg multiarch)');
    await runChecked('dpkg', ['--add-architecture', 'arm64']);
  }
  ctx.log('packages: apt-get update');
  await runChecked('apt-get', ['update', '-qq'], { timeoutMs: 600_000, env: aptEnv });
  if (missing.length) {
    ctx.log(`packages: installing ${missing.join(' ')}`);
    await runChecked('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { timeoutMs: 1_200_000, env: aptEnv });
  }
}

async function dockerAnswers(): Promise<boolean> {
  return (await runCommand('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 })).ok;
}

export async function ensureDockerd(ctx: StepContext, prior?: TestbedState): Promise<TestbedState['dockerd']> {
  if (await dockerAnswers()) {
    ctx.log('docker: engine answers');
    return prior?.dockerd.startedByTestbed && prior.dockerd.pid && pidAlive(prior.dockerd.pid) ? prior.dockerd : { startedByTestbed: false };
  }
  const dockerd = await findOnPath('dockerd', ctx.env);
  if (!dockerd) throw new Error('no Docker engine answers and dockerd is not installed: install docker.io');
  const logFile = path.join(ctx.dir, 'dockerd.log');
  ctx.log(`docker: starting dockerd (log: ${logFile})`);
  const pid = await startDaemon(dockerd, [], logFile);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await dockerAnswers()) return { pid, startedByTestbed: true };
    if (!pidAlive(pid)) break;
    await sleep(500);
  }
  throw new Error(`dockerd did not answer within 60 s; last lines of ${logFile}:\n${await lastLines(logFile)}`);
}


export async function ensureBinfmt(ctx: StepContext, prior?: TestbedState): Promise<TestbedState['binfmt']> {
  let mountedByTestbed = prior?.binfmt.mountedByTestbed ?? false;
  let registeredByTestbed = prior?.binfmt.registeredByTestbed ?? false;
  if (!existsSync(path.join(BINFMT_ROOT, 'register'))) {
    ctx.log('binfmt: mounting binfmt_misc');
    await runChecked('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT_ROOT]);
    mountedByTestbed = true;
  }
  let state = await readBinfmt();
  if (!state.handlers.some((h) => h.name === HANDLER)) {
    ctx.log(`binfmt: registering ${HANDLER} (update-binfmts, fix_binary → flag F)`);
    await runChecked('update-binfmts', ['--enable', HANDLER]);
    registeredByTestbed = true;
    state = await readBinfmt();
  }
  const handler = state.handlers.find((h) => h.name === HANDLER);
  if (!handler) throw new Error(`${HANDLER} is not registered after update-binfmts; is qemu-user-static installed?`);
  if (!handler.enabled) {
    // A test that toggles the handler and was killed before restoring it leaves it disabled: undo that.
    ctx.log(`binfmt: ${HANDLER} was disabled, enabling it`);
    await setBinfmtHandlerEnabled(HANDLER, true);
  }
  if (!state.enabled) await writeFile(path.join(BINFMT_ROOT, 'status'), '1');
  ctx.log(`binfmt: ${HANDLER} enabled, flags ${handler.rawFlags}`);
  return { handler: HANDLER, mountedByTestbed, registeredByTestbed };
}

export async function registryAnswers(addr: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${addr}/v2/`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function ensureRegistry(ctx: StepContext, prior?: TestbedState): Promise<TestbedState['registry']> {
  const addr = ctx.registryAddr;
  if (await registryAnswers(addr)) {
    ctx.log(`registry: answers on ${addr}`);
    return prior?.registry.addr === addr ? prior.registry : { addr, startedByTestbed: false };
  }
  const binary = await findOnPath('docker-registry', { PATH: `${ctx.env.PATH ?? ''}:/usr/bin` });
  if (!binary) throw new Error('docker-registry is not installed: apt-get install docker-registry');
  const storage = path.join(ctx.dir, 'registry-data');
  await mkdir(storage, { recursive: true });
  const config = path.join(ctx.dir, 'registry.yml');
  // Our own config: the packaged one demands htpasswd auth and listens on all interfaces.
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${addr}`,
      '',
    ].join('\n'),
  );
  const logFile = path.join(ctx.dir, 'registry.log');
  ctx.log(`registry: starting docker-registry on ${addr} (log: ${logFile})`);
  const pid = await startDaemon(binary, ['serve', config], logFile);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await registryAnswers(addr)) return { addr, pid, startedByTestbed: true };
    if (!pidAlive(pid)) break;
    await sleep(250);
  }
  throw new Error(`the registry did not answer on ${addr} within 20 s; last lines of ${logFile}:\n${await lastLines(logFile)}`);
}

/** Fetch a .deb of the given arch with apt (dpkg multiarch) and unpack one file out of it. */
async function debFile(ctx: StepContext, pkg: string, arch: string, member: string, dest: string): Promise<void> {
  if (existsSync(dest)) return;
  const work = path.join(ctx.dir, 'debs', `${pkg}-${arch}`);
  await mkdir(work, { recursive: true });
  ctx.log(`binaries: apt-get download ${pkg}:${arch}`);
  await runChecked('apt-get', ['download', `${pkg}:${arch}`], { cwd: work, timeoutMs: 300_000 });
  const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg}:${arch} produced no .deb in ${work}`);
  const root = path.join(work, 'root');
  await runChecked('dpkg-deb', ['-x', path.join(work, deb), root]);
  await copyFile(path.join(root, member), dest);
  await chmod(dest, 0o755);
}

/**
 * The newest Node 24 release published for both arches: the two packages are published separately, so "@24" can
 * resolve to different patch releases a minute apart, and arch comparisons want one version.
 */
async function commonNodeVersion(): Promise<string> {
  const versions = async (arch: string) => {
    const r = await runChecked('npm', ['view', `node-linux-${arch}@24`, 'version', '--json'], { timeoutMs: 120_000 });
    const v = JSON.parse(r.stdout) as string | string[];
    return new Set(Array.isArray(v) ? v : [v]);
  };
  const [x64, arm64] = await Promise.all([versions('x64'), versions('arm64')]);
  const common = [...x64].filter((v) => arm64.has(v));
  const newest = common.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
  if (!newest) throw new Error('no Node 24 release is published for both x64 and arm64 on the npm registry');
  return newest;
}

/** The official Node binary for an arch, from the npm package node-linux-<arch>, at the given version. */
async function nodeBinary(ctx: StepContext, npmArch: 'x64' | 'arm64', version: string, dest: string): Promise<void> {
  const stamp = `${dest}.version`;
  if (existsSync(dest) && (await readFile(stamp, 'utf8').catch(() => '')) === version) return;
  const work = path.join(ctx.dir, 'npm', npmArch);
  await mkdir(work, { recursive: true });
  ctx.log(`binaries: npm pack node-linux-${npmArch}@${version}`);
  const packed = await runChecked('npm', ['pack', `node-linux-${npmArch}@${version}`, '--silent'], { cwd: work, timeoutMs: 300_000 });
  const tgz = packed.stdout.trim().split('\n').at(-1) ?? '';
  await runChecked('tar', ['-xzf', tgz, '-C', work, 'package/bin/node'], { cwd: work });
  await copyFile(path.join(work, 'package/bin/node'), dest);
  await chmod(dest, 0o755);
  await writeFile(stamp, version);
  await rm(path.join(work, tgz), { force: true });
}

interface Compile {
  name: string;
  source: string;
  compiler: string;
  flags: string[];
}

const COMPILES: readonly Compile[] = [
  { name: 'hello-arm64-4k', source: 'hello.c', compiler: 'aarch64-linux-gnu-gcc', flags: ['-O2', '-static', '-Wl,-z,max-page-size=0x1000', '-Wl,-z,common-page-size=0x1000'] },
  { name: 'hello-arm64-64k', source: 'hello.c', compiler: 'aarch64-linux-gnu-gcc', flags: ['-O2', '-static', '-Wl,-z,max-page-size=0x10000'] },
  { name: 'hello-arm64-dynamic', source: 'hello.c', compiler: 'aarch64-linux-gnu-gcc', flags: ['-O2'] },
  { name: 'lse-arm64', source: 'lse.c', compiler: 'aarch64-linux-gnu-gcc', flags: ['-O2', '-static', '-march=armv8.2-a', '-mno-outline-atomics'] },
  { name: 'crash-arm64', source: 'crash.c', compiler: 'aarch64-linux-gnu-gcc', flags: ['-O0', '-static'] },
  { name: 'crash-amd64', source: 'crash.c', compiler: 'gcc', flags: ['-O0', '-static'] },
];

export async function ensureBinaries(ctx: StepContext): Promise<Record<string, string>> {
  const bin = path.join(ctx.dir, 'bin');
  await mkdir(bin, { recursive: true });
  const out: Record<string, string> = {};
  for (const arch of ['amd64', 'arm64']) {
    out[`busybox-${arch}`] = path.join(bin, `busybox-${arch}`);
    await debFile(ctx, 'busybox-static', arch, 'bin/busybox', out[`busybox-${arch}`]!);
  }
  out['node-amd64'] = path.join(bin, 'node-amd64');
  out['node-arm64'] = path.join(bin, 'node-arm64');
  // Ask the registry only when a binary or its version stamp is missing: a second `up` stays offline and fast.
  const stamped = async (f: string) => existsSync(f) && existsSync(`${f}.version`);
  const pinned = (await stamped(out['node-amd64'])) && (await stamped(out['node-arm64']));
  const [ax, aa] = pinned ? await Promise.all([readFile(`${out['node-amd64']}.version`, 'utf8'), readFile(`${out['node-arm64']}.version`, 'utf8')]) : ['', ''];
  const version = pinned && ax === aa ? ax : await commonNodeVersion();
  await nodeBinary(ctx, 'x64', version, out['node-amd64']);
  await nodeBinary(ctx, 'arm64', version, out['node-arm64']);
  for (const c of COMPILES) {
    const dest = path.join(bin, c.name);
    out[c.name] = dest;
    const src = path.join(PROGRAMS_DIR, c.source);
    const stamp = `${dest}.hash`;
    const hash = sha256(`${await readFile(src, 'utf8')}\n${c.compiler} ${c.flags.join(' ')}`);
    if (existsSync(dest) && (await readFile(stamp, 'utf8').catch(() => '')) === hash) continue;
    ctx.log(`binaries: ${c.compiler} ${c.flags.join(' ')} ${c.source} -o ${c.name}`);
    await runChecked(c.compiler, [...c.flags, '-o', dest, src]);
    await writeFile(stamp, hash);
  }
  return out;
}

function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

interface ImageSpec {
  name: string;
  purpose: string;
  /** Per platform: files to place into the image (in-image path → host path). */
  contents: Record<string, Record<string, string>>;
}

const BUSYBOX_APPLETS = ['sh', 'echo', 'cat', 'uname', 'sleep', 'true', 'false', 'ls', 'env'];

function imageSpecs(binaries: Record<string, string>): ImageSpec[] {
  const probe = (arch: string): Record<string, string> => ({
    '/bin/busybox': binaries[`busybox-${arch}`]!,
    '/bin/crash': binaries[`crash-${arch}`]!,
    ...(arch === 'arm64' ? { '/bin/lse': binaries['lse-arm64']! } : {}),
  });
  return [
    {
      name: 'meshcheck-test/probe',
      purpose: 'busybox plus crash/lse programs for amd64 and arm64, as one index',
      contents: { 'linux/amd64': probe('amd64'), 'linux/arm64': probe('arm64') },
    },
    {
      name: 'meshcheck-test/amd64-only',
      purpose: 'an index with only an amd64 entry: pulling it for linux/arm64 fails with a missing platform',
      contents: { 'linux/amd64': { '/bin/busybox': binaries['busybox-amd64']! } },
    },
  ];
}

async function buildImage(ctx: StepContext, spec: ImageSpec, platform: string, files: Record<string, string>, tag: string, hash: string) {
  const context = path.join(ctx.dir, 'build', `${spec.name.replace('/', '-')}-${platform.replace('/', '-')}`);
  await rm(context, { recursive: true, force: true });
  await mkdir(path.join(context, 'rootfs', 'bin'), { recursive: true });
  await mkdir(path.join(context, 'rootfs', 'tmp'), { recursive: true });
  for (const [inImage, host] of Object.entries(files)) {
    await copyFile(host, path.join(context, 'rootfs', inImage));
    await chmod(path.join(context, 'rootfs', inImage), 0o755);
  }
  for (const applet of BUSYBOX_APPLETS) await symlink('busybox', path.join(context, 'rootfs', 'bin', applet));
  // No base image can be pulled here: FROM scratch and copy static binaries in.
  await writeFile(
    path.join(context, 'Dockerfile'),
    ['FROM scratch', 'COPY rootfs/ /', `LABEL ${TESTBED_LABEL}=true ${TESTBED_LABEL}.hash=${hash}`, 'CMD ["/bin/sh"]', ''].join('\n'),
  );
  await runChecked('docker', ['build', '--quiet', '--platform', platform, '-t', tag, context], {
    env: { DOCKER_BUILDKIT: '0' },
    timeoutMs: 300_000,
  });
  await runChecked('docker', ['push', '--quiet', tag], { timeoutMs: 300_000 });
}

async function imageHash(ctx: StepContext, tag: string): Promise<string | undefined> {
  const r = await runCommand('docker', ['image', 'inspect', '--format', `{{index .Config.Labels "${TESTBED_LABEL}.hash"}}`, tag]);
  return r.ok ? r.stdout.trim() : undefined;
}

async function manifestExists(ref: string): Promise<boolean> {
  return (await runCommand('docker', ['manifest', 'inspect', '--insecure', ref], { timeoutMs: 30_000 })).ok;
}

export async function ensureImages(ctx: StepContext, binaries: Record<string, string>): Promise<Record<string, TestbedImage>> {
  const out: Record<string, TestbedImage> = {};
  for (const spec of imageSpecs(binaries)) {
    const ref = `${ctx.registryAddr}/${spec.name}:1`;
    const platforms: Record<string, string> = {};
    let rebuilt = false;
    for (const [platform, files] of Object.entries(spec.contents)) {
      const tag = `${ref}-${platform.split('/')[1]}`;
      platforms[platform] = tag;
      const hashes = await Promise.all(Object.entries(files).map(async ([k, v]) => `${k}:${sha256(await readFile(v))}`));
      const hash = sha256([platform, ...hashes.sort()].join('\n')).slice(0, 16);
      if ((await imageHash(ctx, tag)) === hash && (await manifestExists(tag))) continue;
      ctx.log(`images: building ${tag}`);
      await buildImage(ctx, spec, platform, files, tag, hash);
      rebuilt = true;
    }
    if (rebuilt || !(await manifestExists(ref))) {
      ctx.log(`images: pushing index ${ref} (${Object.keys(platforms).join(', ')})`);
      await runCommand('docker', ['manifest', 'rm', ref]);
      await runChecked('docker', ['manifest', 'create', '--insecure', ref, ...Object.values(platforms)]);
      await runChecked('docker', ['manifest', 'push', '--insecure', '--purge', ref], { timeoutMs: 120_000 });
    }
    out[spec.name] = { ref, platforms, purpose: spec.purpose };
  }
  ctx.log(`images: ${Object.keys(out).length} ready in ${ctx.registryAddr}`);
  return out;
}

export async function tearDown(ctx: StepContext, state: TestbedState | undefined): Promise<void> {
  if (await dockerAnswers()) {
    const containers = await runCommand('docker', ['ps', '-aq', '--filter', `label=${TESTBED_LABEL}`]);
    const ids = containers.stdout.split('\n').filter(Boolean);
    if (ids.length) await runCommand('docker', ['rm', '-f', ...ids]);
    const images = await runCommand('docker', ['images', '-q', '--filter', `label=${TESTBED_LABEL}`]);
    const imageIds = [...new Set(images.stdout.split('\n').filter(Boolean))];
    if (imageIds.length) {
      ctx.log(`down: removing ${imageIds.length} test image(s)`);
      await runCommand('docker', ['rmi', '-f', ...imageIds]);
    }
  }
  if (state?.registry.startedByTestbed && state.registry.pid) await stopPid(state.registry.pid, 'registry', ctx.log);
  if (state?.dockerd.startedByTestbed && state.dockerd.pid) await stopPid(state.dockerd.pid, 'dockerd', ctx.log);
  if (state?.binfmt.registeredByTestbed) {
    ctx.log(`down: unregistering ${HANDLER}`);
    await runCommand('update-binfmts', ['--disable', HANDLER]);
  }
  if (state?.binfmt.mountedByTestbed) await runCommand('umount', [BINFMT_ROOT]);
  await zxfs.remove(ctx.dir);
  ctx.log(`down: removed ${ctx.dir}`);
}
