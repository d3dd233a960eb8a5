#!/usr/bin/env node
/**
 * Builds the capability and calibration probe (harness/arch/probes/meshcheck-probe.c) as a static binary per
 * architecture, into dist/probes/linux-<arch>/meshcheck-probe, which the package ships:
 *   npm run build:probes              build what the compilers on PATH allow (absent ones are skipped)
 *   npm run build:probes -- --check   build nothing; exit 1 when the amd64 or arm64 probe is missing or stale
 * Static, so the same file runs natively, through binfmt/QEMU without a sysroot, and in an empty container.
 * `npm run testbed -- up` calls buildProbes() after installing the compilers.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fs as zxfs } from 'zx';
import { PROBE_NAME } from '../harness/arch/capabilities.ts';
import { fileSource, readElf } from '../harness/arch/elf.ts';
import { normalizeArch } from '../harness/arch/platform.ts';
import { runChecked, runCommand } from '../harness/process/run.ts';
import { findOnPath } from '../harness/process/tools.ts';
import { writeFileAtomic } from '../harness/util/atomic-write.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PROBE_SOURCE = path.join(REPO, 'harness', 'arch', 'probes', 'meshcheck-probe.c');
export const DEFAULT_OUT = path.join(REPO, 'dist', 'probes');
/** -s: the symbols are of no use to anyone and would double the size the package ships. */
const FLAGS = ['-O2', '-static', '-s', '-Wall', '-Wextra'];

interface ProbeTarget {
  arch: string;
  /** GNU triple: the cross compiler is <triple>-gcc. */
  triple: string;
  /** Doctor and calibration need these two; the others are built when their compiler happens to be there. */
  required: boolean;
  /** Debian/Ubuntu packages of the cross compiler and its static libc. */
  packages: string;
}

export const PROBE_TARGETS: readonly ProbeTarget[] = [
  { arch: 'amd64', triple: 'x86_64-linux-gnu', required: true, packages: 'gcc-x86-64-linux-gnu libc6-dev-amd64-cross' },
  { arch: 'arm64', triple: 'aarch64-linux-gnu', required: true, packages: 'gcc-aarch64-linux-gnu libc6-dev-arm64-cross' },
  { arch: 'riscv64', triple: 'riscv64-linux-gnu', required: false, packages: 'gcc-riscv64-linux-gnu libc6-dev-riscv64-cross' },
  { arch: 's390x', triple: 's390x-linux-gnu', required: false, packages: 'gcc-s390x-linux-gnu libc6-dev-s390x-cross' },
  { arch: 'ppc64le', triple: 'powerpc64le-linux-gnu', required: false, packages: 'gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross' },
];

export interface ProbeBuild {
  arch: string;
  status: 'built' | 'up-to-date' | 'skipped';
  path: string;
  compiler?: string;
  /** Why it was skipped. */
  reason?: string;
}

export interface BuildProbesOptions {
  out?: string;
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
  /** Rebuild even when the stamp says the binary is current. */
  force?: boolean;
  /** Throw when the amd64 or arm64 probe cannot be built (the test bed, which installs their compilers). */
  strict?: boolean;
}

/** Paths in messages: relative to where the command was run, unless that means climbing out of it. */
const shown = (p: string) => (path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p) || p);
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const probePath = (out: string, arch: string) => path.join(out, `linux-${arch}`, PROBE_NAME);
/** Next to each binary: what it was built from, so a second run skips current ones and --check spots stale ones. */
const stampPath = (out: string, arch: string) => `${probePath(out, arch)}.build.json`;

interface Stamp {
  sourceSha256: string;
  compiler: string;
  compilerVersion: string;
  flags: string[];
  /** Of the binary itself, so one replaced by hand is not taken for the one built. */
  probeSha256?: string;
}

/** The host's own gcc builds the host's arch (on an arm64 runner, gcc is the arm64 compiler); else <triple>-gcc. */
async function findCompiler(t: ProbeTarget, env: Record<string, string | undefined>): Promise<string | undefined> {
  const names = normalizeArch(process.arch) === t.arch ? ['gcc', `${t.triple}-gcc`] : [`${t.triple}-gcc`];
  for (const name of names) {
    const found = await findOnPath(name, env);
    if (found) return found;
  }
  return undefined;
}

async function readStamp(file: string): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

export async function buildProbes(opts: BuildProbesOptions = {}): Promise<ProbeBuild[]> {
  const out = opts.out ?? DEFAULT_OUT;
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => console.log(`[probes] ${line}`));
  const sourceSha256 = sha256(await readFile(PROBE_SOURCE, 'utf8'));
  const results: ProbeBuild[] = [];
  for (const t of PROBE_TARGETS) {
    const dest = probePath(out, t.arch);
    const compiler = await findCompiler(t, env);
    if (!compiler) {
      const reason = `${t.triple}-gcc not on PATH (Debian/Ubuntu: apt-get install ${t.packages})`;
      log(`linux/${t.arch}: skipped, ${reason}`);
      results.push({ arch: t.arch, status: 'skipped', path: dest, reason });
      continue;
    }
    const version = (await runCommand(compiler, ['-dumpfullversion'], { env })).stdout.trim();
    const stamp: Stamp = { sourceSha256, compiler, compilerVersion: version, flags: FLAGS };
    if (!opts.force && (await exists(dest)) && JSON.stringify(await readStamp(stampPath(out, t.arch))) === JSON.stringify({ ...stamp, probeSha256: sha256(await readFile(dest)) })) {
      results.push({ arch: t.arch, status: 'up-to-date', path: dest, compiler });
      log(`linux/${t.arch}: up to date (${shown(dest)})`);
      continue;
    }
    await zxfs.ensureDir(path.dirname(dest));
    // Compile to a temporary name and rename: a reader never sees a half-written probe.
    const tmp = path.join(path.dirname(dest), `.${PROBE_NAME}.${process.pid}.tmp`);
    try {
      await runChecked(compiler, [...FLAGS, '-o', tmp, PROBE_SOURCE], {
        env,
        timeoutMs: 120_000,
        fix: `check that ${compiler} can link static binaries (Debian/Ubuntu: apt-get install ${t.packages})`,
      });
      // A compiler that builds for another arch than its name says would make the probe lie about this one.
      await using src = await fileSource(tmp);
      const elf = await readElf(src);
      if (elf.arch !== t.arch) throw new Error(`${compiler} built a ${elf.arch} binary, not ${t.arch}: check which compiler is on PATH`);
      await rename(tmp, dest);
    } finally {
      await rm(tmp, { force: true });
    }
    await writeFileAtomic(stampPath(out, t.arch), `${JSON.stringify({ ...stamp, probeSha256: sha256(await readFile(dest)) }, null, 2)}\n`);
    const size = (await stat(dest)).size;
    results.push({ arch: t.arch, status: 'built', path: dest, compiler });
    log(`linux/${t.arch}: built with ${path.basename(compiler)} ${version} → ${shown(dest)} (${Math.round(size / 1024)} KiB)`);
  }
  const missing = results.filter((r) => r.status === 'skipped' && PROBE_TARGETS.find((t) => t.arch === r.arch)?.required);
  if (opts.strict && missing.length) {
    throw new Error(`the ${missing.map((m) => `linux/${m.arch}`).join(' and ')} probe could not be built: ${missing.map((m) => m.reason).join('; ')}`);
  }
  return results;
}

export interface ProbeCheckResult {
  arch: string;
  required: boolean;
  state: 'ok' | 'missing' | 'stale' | 'wrong-arch';
  path: string;
}

/** Build nothing: is each probe there, for the right arch, and built from the current source? */
export async function checkProbes(out = DEFAULT_OUT): Promise<ProbeCheckResult[]> {
  const sourceSha256 = sha256(await readFile(PROBE_SOURCE, 'utf8'));
  const results: ProbeCheckResult[] = [];
  for (const t of PROBE_TARGETS) {
    const file = probePath(out, t.arch);
    let state: ProbeCheckResult['state'] = 'missing';
    if (await exists(file)) {
      await using src = await fileSource(file);
      const elf = await readElf(src).catch(() => undefined);
      if (elf?.arch !== t.arch) state = 'wrong-arch';
      else state = (await readStamp(stampPath(out, t.arch)))?.sourceSha256 === sourceSha256 ? 'ok' : 'stale';
    }
    results.push({ arch: t.arch, required: t.required, state, path: file });
  }
  return results;
}

const HELP = `Usage: npm run build:probes [-- --check] [--force] [--out DIR]

  Compiles harness/arch/probes/meshcheck-probe.c statically for linux/amd64 (gcc) and linux/arm64
  (aarch64-linux-gnu-gcc), plus riscv64, s390x and ppc64le when their cross compilers are on PATH, into
  DIR/linux-<arch>/meshcheck-probe (default ${shown(DEFAULT_OUT)}).

Options:
  --check       build nothing; exit 1 when the amd64 or arm64 probe is missing, stale or for the wrong arch
  --force       rebuild even when a probe is up to date
  --out DIR     where to put them
  -h, --help    this text
`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      check: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const out = values.out ? path.resolve(values.out) : DEFAULT_OUT;
  if (!values.check) {
    await buildProbes({ out, force: values.force });
    return 0;
  }
  let failed = false;
  for (const r of await checkProbes(out)) {
    const bad = r.state !== 'ok';
    if (bad && r.required) failed = true;
    const note = r.state === 'ok' ? '' : r.required ? ' — run `npm run build:probes`' : ' (optional)';
    console.log(`[probes] linux/${r.arch}: ${r.state} (${shown(r.path)})${note}`);
  }
  return failed ? 1 : 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: NodeJS.ErrnoException) => {
      console.error(`[probes] failed: ${err.message}`);
      // A bad flag is a usage error (2); anything else is the tool chain (3), as in scripts/testbed.ts.
      process.exitCode = err.code?.startsWith('ERR_PARSE_ARGS') ? 2 : 3;
    },
  );
}
