/**
 * Facts about the machine meshcheck runs on: its architecture, kernel page size, emulation handlers and the
 * Docker engine. Every reader takes what it reads from as a parameter so tests can point it elsewhere.
 */
import { readFile, realpath } from 'node:fs/promises';
import os from 'node:os';
import { runCommand } from '../process/run.ts';
import { type BinfmtState, BINFMT_ROOT, readBinfmt } from './binfmt.ts';
import { normalizeArch } from './platform.ts';

/** AT_PAGESZ in the auxiliary vector (include/uapi/linux/auxvec.h). */
const AT_PAGESZ = 6n;

/** The kernel's page size, read from /proc/self/auxv (what the kernel told this process at exec). */
export function pageSizeFromAuxv(auxv: Uint8Array, bits: 32 | 64 = 64, littleEndian = os.endianness() === 'LE'): number | undefined {
  const view = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
  const step = bits === 64 ? 16 : 8;
  for (let off = 0; off + step <= auxv.length; off += step) {
    const key = bits === 64 ? view.getBigUint64(off, littleEndian) : BigInt(view.getUint32(off, littleEndian));
    if (key === 0n) break; // AT_NULL
    if (key === AT_PAGESZ) {
      return Number(bits === 64 ? view.getBigUint64(off + 8, littleEndian) : view.getUint32(off + 4, littleEndian));
    }
  }
  return undefined;
}

export async function kernelPageSize(auxvPath = '/proc/self/auxv'): Promise<number | undefined> {
  try {
    const bits = ['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64'].includes(process.arch) ? 64 : 32;
    return pageSizeFromAuxv(await readFile(auxvPath), bits);
  } catch {
    return undefined;
  }
}

export interface QemuInfo {
  interpreter: string;
  /** The file the interpreter path resolves to. */
  binary?: string;
  version?: string;
  /** CPU models this emulator offers (`-cpu help`), e.g. cortex-a53, neoverse-n1, max. */
  cpuModels?: string[];
  problem?: string;
}

/** Version and CPU models of a qemu-user interpreter, e.g. the one a binfmt handler names. */
export async function probeQemu(interpreter: string): Promise<QemuInfo> {
  // Debian's handler path (/usr/libexec/qemu-binfmt/aarch64-binfmt-P) refuses to run outside binfmt_misc
  // ("has to be run using kernel binfmt-misc subsystem"); the file it links to answers normally.
  const binary = await realpath(interpreter).catch(() => interpreter);
  const v = await runCommand(binary, ['--version'], { timeoutMs: 10_000 });
  if (!v.ok) return { interpreter, problem: `\`${v.command}\` failed: ${(v.stderr || v.spawnError?.message || '').trim()}` };
  const version = /version\s+(\S+)/i.exec(v.stdout)?.[1];
  const info: QemuInfo = { interpreter };
  if (binary !== interpreter) info.binary = binary;
  if (version) info.version = version;
  // QEMU 7.2 prints the list and then exits 1, so judge by the output, not the exit code.
  const help = await runCommand(binary, ['-cpu', 'help'], { timeoutMs: 10_000 });
  const models = /^Available CPUs:/m.test(help.stdout) ? parseQemuCpuHelp(help.stdout) : [];
  if (models.length) info.cpuModels = models;
  return info;
}

/** `qemu-aarch64 -cpu help` prints "Available CPUs:" then one model per line (indented). */
export function parseQemuCpuHelp(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((m) => m && !m.endsWith(':'));
}

export interface DockerEngineInfo {
  reachable: boolean;
  serverVersion?: string;
  os?: string;
  arch?: string;
  problem?: string;
}

/** The engine the docker CLI talks to (honours DOCKER_HOST and contexts, as users expect). */
export async function probeDockerEngine(env: Record<string, string | undefined> = process.env): Promise<DockerEngineInfo> {
  const r = await runCommand('docker', ['version', '--format', '{{json .Server}}'], { timeoutMs: 15_000, env });
  if (r.spawnError) return { reachable: false, problem: 'the docker CLI is not installed' };
  const line = r.stdout.trim();
  if (!r.ok || !line || line === 'null') {
    const why = r.stderr.trim().split('\n').at(-1) ?? 'no answer';
    return { reachable: false, problem: `no Docker engine answers: ${why}` };
  }
  try {
    const server = JSON.parse(line) as { Version?: string; Os?: string; Arch?: string };
    const info: DockerEngineInfo = { reachable: true };
    if (server.Version) info.serverVersion = server.Version;
    if (server.Os) info.os = server.Os;
    if (server.Arch) info.arch = normalizeArch(server.Arch);
    return info;
  } catch {
    return { reachable: false, problem: `unexpected output from \`${r.command}\`: ${line.slice(0, 200)}` };
  }
}

export interface HostFacts {
  arch: string;
  kernel: string;
  pageSize?: number;
  binfmt: BinfmtState;
}

export interface HostProbeOptions {
  binfmtRoot?: string;
  auxvPath?: string;
  arch?: string;
}

export async function probeHost(opts: HostProbeOptions = {}): Promise<HostFacts> {
  const [pageSize, binfmt] = await Promise.all([kernelPageSize(opts.auxvPath), readBinfmt(opts.binfmtRoot ?? BINFMT_ROOT)]);
  const facts: HostFacts = { arch: normalizeArch(opts.arch ?? process.arch), kernel: os.release(), binfmt };
  if (pageSize !== undefined) facts.pageSize = pageSize;
  return facts;
}
