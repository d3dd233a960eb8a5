/**
 * A small ELF reader: enough of the header and program headers to say which machine a binary is for, whether it
 * needs a dynamic loader, and which page sizes it can be loaded on. It reads only the bytes it needs through a
 * ByteSource, so it works on a 100 MB Node binary on disk and (later) on a file inside an image layer in memory.
 */
import { open } from 'node:fs/promises';
import { archOfMachine } from './elf-machine.ts';

/** Random access to the bytes of one file. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
  };
}

/** Open a file as a ByteSource; close it when done (or use `await using`). */
export async function fileSource(path: string): Promise<ByteSource & AsyncDisposable & { close(): Promise<void> }> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      if (buf.length === 0) return buf;
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      return buf.subarray(0, bytesRead);
    },
    close: () => handle.close(),
    [Symbol.asyncDispose]: () => handle.close(),
  };
}

export type Linkage = 'static' | 'static-pie' | 'dynamic';

export interface ElfInfo {
  kind: 'elf';
  /** OCI architecture name (amd64, arm64, arm, riscv64, s390x, ppc64le, 386, …). */
  arch: string;
  /** The conventional machine name (x86_64, aarch64, …). */
  machine: string;
  machineNumber: number;
  bits: 32 | 64;
  endian: 'little' | 'big';
  type: 'exec' | 'dyn' | 'rel' | 'core' | 'other';
  /** PT_INTERP: the dynamic loader the kernel will run, e.g. /lib/ld-linux-aarch64.so.1. */
  interpreter?: string;
  linkage: Linkage;
  /**
   * Alignment of the PT_LOAD segments. The kernel maps segments in pages, so a binary whose segments are aligned
   * to less than the kernel's page size cannot be loaded there (a 4 KiB-aligned arm64 binary on a 64 KiB kernel).
   */
  loadAlign: { min: number; max: number };
}

export class ElfFormatError extends Error {
  override name = 'ElfFormatError';
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;

export function isElfMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

/** Parse an ELF file. Throws ElfFormatError (with what is wrong) for truncated or non-ELF input. */
export async function readElf(src: ByteSource): Promise<ElfInfo> {
  const ident = await src.read(0, 64);
  if (!isElfMagic(ident)) throw new ElfFormatError('not an ELF file (no \\x7fELF magic)');
  if (ident.length < 52) throw new ElfFormatError(`truncated ELF header (${ident.length} bytes)`);
  const bits = ident[4] === 1 ? 32 : ident[4] === 2 ? 64 : undefined;
  const endian = ident[5] === 1 ? 'little' : ident[5] === 2 ? 'big' : undefined;
  if (!bits || !endian) throw new ElfFormatError(`unknown ELF class ${ident[4]} or data encoding ${ident[5]}`);
  if (bits === 64 && ident.length < 64) throw new ElfFormatError(`truncated ELF64 header (${ident.length} bytes)`);
  const le = endian === 'little';
  const view = new DataView(ident.buffer, ident.byteOffset, ident.byteLength);
  const u16 = (v: DataView, o: number) => v.getUint16(o, le);
  const u32 = (v: DataView, o: number) => v.getUint32(o, le);
  const addr = (v: DataView, o: number) => (bits === 64 ? Number(v.getBigUint64(o, le)) : v.getUint32(o, le));

  const eType = u16(view, 16);
  const machineNumber = u16(view, 18);
  const phoff = addr(view, bits === 64 ? 32 : 28);
  const phentsize = u16(view, bits === 64 ? 54 : 42);
  const phnum = u16(view, bits === 64 ? 56 : 44);
  const minEntry = bits === 64 ? 56 : 32;
  if (phnum > 0 && phentsize < minEntry) throw new ElfFormatError(`program header entry size ${phentsize} < ${minEntry}`);
  if (phoff + phnum * phentsize > src.size) throw new ElfFormatError('program headers extend past the end of the file');

  const table = await src.read(phoff, phnum * phentsize);
  const tv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  let interpreter: string | undefined;
  let hasDynamic = false;
  let minAlign = Number.POSITIVE_INFINITY;
  let maxAlign = 0;
  for (let i = 0; i < phnum; i++) {
    const base = i * phentsize;
    const pType = u32(tv, base);
    // ELF64: p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
    // ELF32: p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align
    const pOffset = addr(tv, base + (bits === 64 ? 8 : 4));
    const pFilesz = addr(tv, base + (bits === 64 ? 32 : 16));
    const pAlign = addr(tv, base + (bits === 64 ? 48 : 28));
    if (pType === PT_LOAD) {
      minAlign = Math.min(minAlign, pAlign);
      maxAlign = Math.max(maxAlign, pAlign);
    } else if (pType === PT_DYNAMIC) {
      hasDynamic = true;
    } else if (pType === PT_INTERP) {
      const raw = await src.read(pOffset, Math.min(pFilesz, 4096));
      const nul = raw.indexOf(0);
      interpreter = Buffer.from(raw.subarray(0, nul === -1 ? raw.length : nul)).toString('utf8');
    }
  }
  const { arch, name } = archOfMachine(machineNumber, bits, endian);
  const type = eType === 2 ? 'exec' : eType === 3 ? 'dyn' : eType === 1 ? 'rel' : eType === 4 ? 'core' : 'other';
  const linkage: Linkage = interpreter ? 'dynamic' : hasDynamic && type === 'dyn' ? 'static-pie' : 'static';
  const info: ElfInfo = {
    kind: 'elf',
    arch,
    machine: name,
    machineNumber,
    bits,
    endian,
    type,
    linkage,
    loadAlign: { min: Number.isFinite(minAlign) ? minAlign : 0, max: maxAlign },
  };
  if (interpreter !== undefined) info.interpreter = interpreter;
  return info;
}

/**
 * Can this binary be mapped on a kernel with the given page size? Every PT_LOAD segment must be aligned to at
 * least one page (Linux fs/binfmt_elf.c maps segments with page granularity).
 */
export function loadsOnPageSize(info: Pick<ElfInfo, 'loadAlign'>, pageSize: number): boolean {
  return info.loadAlign.min === 0 || info.loadAlign.min >= pageSize;
}
