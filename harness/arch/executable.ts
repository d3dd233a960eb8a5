/**
 * What will the kernel actually run when this path is exec'd? An ELF binary directly; a script through the
 * interpreter named on its `#!` line (and `#!/usr/bin/env node` through a PATH lookup). A Node or Python
 * entrypoint is only as portable as the interpreter binary it lands on, so the chain is followed to an ELF file.
 */
import { access, constants, realpath } from 'node:fs/promises';
import path from 'node:path';
import { type ByteSource, type ElfInfo, fileSource, isElfMagic, readElf } from './elf.ts';

export interface ShebangInfo {
  kind: 'script';
  /** Interpreter as written on the #! line. */
  interpreter: string;
  args: string[];
}

export interface UnknownInfo {
  kind: 'unknown';
  reason: string;
}

export type FileKind = ElfInfo | ShebangInfo | UnknownInfo;

/** Parse a `#!` line. Linux passes everything after the interpreter as one argument; we split on blanks for `env`. */
export function parseShebang(head: Uint8Array): ShebangInfo | undefined {
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const end = head.indexOf(0x0a);
  const line = Buffer.from(head.subarray(2, end === -1 ? head.length : end)).toString('utf8').trim();
  const [interpreter, ...args] = line.split(/[ \t]+/).filter(Boolean);
  if (!interpreter) return undefined;
  return { kind: 'script', interpreter, args };
}

export async function identify(src: ByteSource): Promise<FileKind> {
  const head = await src.read(0, 256);
  if (isElfMagic(head)) return readElf(src);
  const shebang = parseShebang(head);
  if (shebang) return shebang;
  return { kind: 'unknown', reason: head.length === 0 ? 'empty file' : 'neither ELF nor a #! script' };
}

export interface ResolveOptions {
  /** Root directory the paths are inside (an unpacked image); default "/". */
  root?: string;
  /** PATH used to resolve `#!/usr/bin/env NAME`; default the usual Linux PATH. */
  searchPath?: string;
  /** Hops before giving up (a script whose interpreter is a script …). The kernel allows 4 (BINPRM_MAX_RECURSION). */
  maxDepth?: number;
}

export interface ExecutableStep {
  path: string;
  info: FileKind;
}

export interface ResolvedExecutable {
  /** Each file the kernel would open, from the one exec'd to the final ELF binary. */
  chain: ExecutableStep[];
  /** The ELF that finally runs, when the chain ends in one. */
  elf?: ElfInfo;
  problem?: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Join an in-image absolute path onto the root, following the root's own symlinks only when root is "/". */
function inRoot(root: string, p: string): string {
  return root === '/' ? p : path.join(root, p);
}

/** Follow an executable to the ELF binary that will run it. */
export async function resolveExecutable(file: string, opts: ResolveOptions = {}): Promise<ResolvedExecutable> {
  const root = opts.root ?? '/';
  const maxDepth = opts.maxDepth ?? 4;
  const chain: ExecutableStep[] = [];
  let current = file;
  for (let depth = 0; depth <= maxDepth; depth++) {
    let info: FileKind;
    try {
      const real = root === '/' ? await realpath(current) : current;
      await using src = await fileSource(real);
      info = await identify(src);
    } catch (err) {
      return { chain, problem: `${current}: ${(err as Error).message}` };
    }
    chain.push({ path: current, info });
    if (info.kind === 'elf') return { chain, elf: info };
    if (info.kind === 'unknown') return { chain, problem: `${current}: ${info.reason}` };
    const next = info.interpreter;
    if (path.posix.basename(next) === 'env') {
      const name = info.args.find((a) => !a.startsWith('-'));
      if (!name) return { chain, problem: `${current}: "#!${next}" names no program` };
      const found = await searchPath(name, root, opts.searchPath ?? DEFAULT_PATH);
      if (!found) return { chain, problem: `${current}: "${name}" (from #!${next}) is not on PATH` };
      // env itself is an ELF of the host's image; what matters is the program it execs.
      current = found;
      continue;
    }
    current = inRoot(root, next);
  }
  return { chain, problem: `more than ${maxDepth} interpreter hops (the kernel gives up with ELOOP)` };
}

async function searchPath(name: string, root: string, searchPath: string): Promise<string | undefined> {
  if (name.includes('/')) return inRoot(root, name);
  for (const dir of searchPath.split(':').filter(Boolean)) {
    const candidate = inRoot(root, path.posix.join(dir, name));
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}
