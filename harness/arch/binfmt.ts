/**
 * binfmt_misc: the kernel table that decides whether a foreign binary fails with ENOEXEC ("exec format error")
 * or silently runs under an emulator. Format of each entry: Linux Documentation/admin-guide/binfmt-misc.rst and
 * fs/binfmt_misc.c (entry_status): "enabled|disabled", "interpreter PATH", "flags: PFCO", then either
 * "offset N" / "magic HEX" / "mask HEX" or "extension .EXT".
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { archOfMachine } from './elf-machine.ts';

export const BINFMT_ROOT = '/proc/sys/fs/binfmt_misc';

export interface BinfmtFlags {
  /** P: preserve argv[0]. */
  preserveArgv0: boolean;
  /**
   * F: the interpreter was opened when the handler was registered, so it works in any mount namespace — inside
   * containers and kind nodes too. With F a wrong-arch image does not fail: it runs, slowly, under emulation.
   */
  fixBinary: boolean;
  /** C: credentials computed from the binary, not the interpreter (setuid binaries). */
  credentials: boolean;
  /** O: the interpreter gets an open fd of the binary instead of its path. */
  openBinary: boolean;
}

export interface BinfmtHandler {
  name: string;
  enabled: boolean;
  interpreter: string;
  flags: BinfmtFlags;
  rawFlags: string;
  /** Magic-matched handlers only. */
  offset?: number;
  magic?: string;
  mask?: string;
  extension?: string;
  /** OCI architecture of the ELF binaries this handler takes, when its magic is an ELF header prefix. */
  arch?: string;
  bits?: 32 | 64;
  endian?: 'little' | 'big';
}

export interface BinfmtState {
  /** binfmt_misc is mounted (its `register` file exists). */
  mounted: boolean;
  /** The global switch (`status` file): when disabled no handler applies. */
  enabled: boolean;
  handlers: BinfmtHandler[];
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(Math.floor(hex.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Which ELF architecture does a magic/mask pair select? Bytes 18–19 are e_machine; 4 is class; 5 is order. */
function elfArchOfMagic(magicHex: string, maskHex: string | undefined, offset: number) {
  if (offset !== 0) return undefined;
  const magic = hexBytes(magicHex);
  const mask = maskHex ? hexBytes(maskHex) : new Uint8Array(magic.length).fill(0xff);
  if (magic.length < 20 || magic[0] !== 0x7f || magic[1] !== 0x45 || magic[2] !== 0x4c || magic[3] !== 0x46) return undefined;
  const bits = magic[4] === 2 ? 64 : 32;
  const endian = magic[5] === 2 ? 'big' : 'little';
  const le = endian === 'little';
  const m = (i: number) => (magic[i] ?? 0) & (mask[i] ?? 0xff);
  const machine = le ? m(18) | (m(19) << 8) : (m(18) << 8) | m(19);
  return { arch: archOfMachine(machine, bits, endian).arch, bits, endian } as const;
}

/** Parse the text of one /proc/sys/fs/binfmt_misc/<name> file. */
export function parseBinfmtEntry(name: string, text: string): BinfmtHandler {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const handler: BinfmtHandler = {
    name,
    enabled: lines[0] === 'enabled',
    interpreter: '',
    rawFlags: '',
    flags: { preserveArgv0: false, fixBinary: false, credentials: false, openBinary: false },
  };
  for (const line of lines.slice(1)) {
    const [key, ...rest] = line.split(/\s+/);
    const value = rest.join(' ');
    if (key === 'interpreter') handler.interpreter = value;
    else if (key === 'flags:') {
      handler.rawFlags = value;
      handler.flags = {
        preserveArgv0: value.includes('P'),
        fixBinary: value.includes('F'),
        credentials: value.includes('C'),
        openBinary: value.includes('O'),
      };
    } else if (key === 'offset') handler.offset = Number(value);
    else if (key === 'magic') handler.magic = value;
    else if (key === 'mask') handler.mask = value;
    else if (key === 'extension') handler.extension = value;
  }
  if (handler.magic) {
    const elf = elfArchOfMagic(handler.magic, handler.mask, handler.offset ?? 0);
    if (elf) Object.assign(handler, elf);
  }
  return handler;
}

/** Read the whole binfmt_misc table. A missing mount is a state, not an error. */
export async function readBinfmt(root = BINFMT_ROOT): Promise<BinfmtState> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return { mounted: false, enabled: false, handlers: [] };
  }
  if (!names.includes('register')) return { mounted: false, enabled: false, handlers: [] };
  const status = await readFile(path.join(root, 'status'), 'utf8').catch(() => 'disabled');
  const handlers: BinfmtHandler[] = [];
  for (const name of names.sort()) {
    if (name === 'register' || name === 'status') continue;
    const text = await readFile(path.join(root, name), 'utf8').catch(() => undefined);
    if (text !== undefined) handlers.push(parseBinfmtEntry(name, text));
  }
  return { mounted: true, enabled: status.trim() === 'enabled', handlers };
}

/** Enabled handlers that take ELF binaries of this architecture (most specific first is the kernel's business). */
export function handlersFor(state: BinfmtState, arch: string): BinfmtHandler[] {
  if (!state.enabled) return [];
  return state.handlers.filter((h) => h.enabled && h.arch === arch);
}

/**
 * Switch one handler on or off (root only). This is global host state: every container on the host sees it.
 * Writing "0"/"1" to the entry is the kernel's interface (binfmt-misc.rst).
 */
export async function setBinfmtHandlerEnabled(name: string, enabled: boolean, root = BINFMT_ROOT): Promise<void> {
  await writeFile(path.join(root, name), enabled ? '1' : '0');
}
