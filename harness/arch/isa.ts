/**
 * The ISA sweep of `meshcheck smoke`, as pure decisions: which QEMU CPU models to run an image under, what the
 * instruction that raised SIGILL was (read from QEMU's `-d in_asm` log), which optional A64 feature it belongs
 * to, and the oldest hardware generation the image runs on. No I/O here: the smoke stage runs QEMU and Docker
 * and hands the text and verdicts to these functions.
 *
 * Why a sweep at all: an arm64 image built with -march=armv8.2-a (or Go's GOARM64=v8.1, or a library that picks
 * LSE atomics at build time) runs on Graviton2 and dies with SIGILL on a Raspberry Pi or Graviton1. QEMU's CPU
 * models are the cheapest way to meet those older cores before users do.
 */

export interface CpuModel {
  /** The QEMU `-cpu` / QEMU_CPU name. */
  name: string;
  /** Architecture level, e.g. 'ARMv8.0', 'ARMv8.2 + SVE'. */
  arch: string;
  /** The real hardware this model stands for in a report. */
  stands_for: string;
  /** Sweep order, oldest first. Models that stand in for the same hardware share a number. */
  generation: number;
  /**
   * Optional A64 features the model implements, named as `classifyA64Instruction` names them (Arm's FEAT_ names
   * without the prefix). Limited to features Linux reports in AT_HWCAP/AT_HWCAP2, so the table can be checked
   * against what QEMU itself tells a guest (harness/arch/fixtures/qemu-logs/hwcaps.txt).
   */
  features: string[];
}

/** Crypto and CRC32: optional in ARMv8.0; every arm64 model QEMU 7.2 has includes them. */
const V80_OPTIONAL = ['AES', 'PMULL', 'SHA1', 'SHA256', 'CRC32'];

/**
 * Features per model, from QEMU's target/arm/cpu64.c at v7.2 (the ID register values each *_initfn sets:
 * ID_AA64ISAR0/ISAR1 for the instructions, ID_AA64PFR0 for FP16 and SVE, ID_AA64ZFR0 for SVE2), and checked
 * against the AT_HWCAP/AT_HWCAP2 bits Debian's qemu-aarch64 7.2.22 gives a guest under each model.
 *
 * QEMU's cortex-a53 and cortex-a72 include the optional Crypto extension. The Raspberry Pi 3 and 4 SoCs
 * (BCM2837, BCM2711) were built without it, so a binary that uses AES instructions unconditionally passes here
 * and still dies on a Pi: the sweep proves LSE/v8.2 problems, not crypto ones, for those boards.
 */
export const ARM64_CPU_MODELS: readonly CpuModel[] = [
  {
    // aarch64_a53_initfn: id_aa64isar0 = 0x00011120 (AES+PMULL, SHA1, SHA256, CRC32), id_aa64isar1 = 0,
    // id_aa64pfr0 = 0x2222 (FP and AdvSIMD without FP16).
    name: 'cortex-a53',
    arch: 'ARMv8.0',
    stands_for: 'Raspberry Pi 3',
    generation: 1,
    features: [...V80_OPTIONAL],
  },
  {
    // aarch64_a72_initfn: the same ID_AA64ISAR0/ISAR1/PFR0 values as the A53.
    name: 'cortex-a72',
    arch: 'ARMv8.0',
    stands_for: 'AWS Graviton1 / Raspberry Pi 4',
    generation: 2,
    features: [...V80_OPTIONAL],
  },
  {
    // aarch64_neoverse_n1_initfn: id_aa64isar0 = 0x0000100010211120 (+ ATOMIC=2 LSE, RDM, DP),
    // id_aa64isar1 = 0x0000000000100001 (LRCPC=1: LDAPR), id_aa64pfr0 = 0x1100000010111112 (FP/AdvSIMD=1: FP16).
    name: 'neoverse-n1',
    arch: 'ARMv8.2',
    stands_for: 'AWS Graviton2 / Ampere Altra',
    generation: 3,
    features: [...V80_OPTIONAL, 'LSE', 'RDM', 'FP16', 'DotProd', 'LRCPC'],
  },
  {
    // Not in QEMU 7.2; target/arm/tcg/cpu64.c aarch64_neoverse_v1_initfn (QEMU 8.1 and later):
    // id_aa64isar0 = 0x1011111110212120 (+ SHA512, SHA3, SM3, SM4, FHM, FlagM, RNG),
    // id_aa64isar1 = 0x0111000001211032 (JSCVT, FCMA, LRCPC=2, BF16, I8MM, PAuth), id_aa64pfr0 SVE=1,
    // id_aa64zfr0 = 0x0000100000100000 (SVE BF16/I8MM, SVEver=0: no SVE2).
    name: 'neoverse-v1',
    arch: 'ARMv8.4 + SVE',
    stands_for: 'AWS Graviton3',
    generation: 4,
    features: [
      ...V80_OPTIONAL,
      'SHA512', 'SHA3', 'SM3', 'SM4', 'LSE', 'RDM', 'FP16', 'DotProd', 'FHM', 'FlagM', 'RNG',
      'LRCPC', 'LRCPC2', 'JSCVT', 'FCMA', 'BF16', 'I8MM', 'PAuth', 'SVE',
    ],
  },
  {
    // aarch64_a64fx_initfn: id_aa64isar0 = 0x0000000010211120 (LSE, RDM; no DotProd),
    // id_aa64isar1 = 0x0000000000010001 (FCMA; no LRCPC, no JSCVT), id_aa64pfr0 = 0x0000000101111111 (FP16, SVE).
    // It lacks DotProd and LDAPR, which Neoverse N1 has: it is a stand-in for SVE, not a newer N1. It shares
    // neoverse-v1's generation because it only runs in that slot.
    name: 'a64fx',
    arch: 'ARMv8.2 + SVE',
    stands_for: 'Fujitsu A64FX (stand-in for SVE hardware such as Graviton3)',
    generation: 4,
    features: [...V80_OPTIONAL, 'LSE', 'RDM', 'FP16', 'FCMA', 'SVE'],
  },
  {
    // aarch64_max_initfn (TCG): "A57 with extra things", every feature this QEMU emulates, incl. SVE2
    // (ID_AA64ZFR0.SVEVER=1), SME, BTI and MTE.
    name: 'max',
    arch: 'all this QEMU implements (ARMv8.x + SVE2, SME)',
    stands_for: 'the newest arm64 cores (everything QEMU emulates)',
    generation: 5,
    features: [
      ...V80_OPTIONAL,
      'SHA512', 'SHA3', 'SM3', 'SM4', 'LSE', 'RDM', 'FP16', 'DotProd', 'FHM', 'FlagM', 'RNG',
      'LRCPC', 'LRCPC2', 'JSCVT', 'FCMA', 'BF16', 'I8MM', 'PAuth', 'SVE', 'SVE2', 'BTI', 'MTE', 'SME',
    ],
  },
];

/** a64fx stands in for neoverse-v1 only; it is not run when the real model is there. */
const STAND_INS: Readonly<Record<string, string>> = { 'neoverse-v1': 'a64fx' };
const DEFAULT_SWEEP = ARM64_CPU_MODELS.filter((m) => !Object.values(STAND_INS).includes(m.name)).map((m) => m.name);

function modelNamed(name: string): CpuModel | undefined {
  return ARM64_CPU_MODELS.find((m) => m.name === name);
}

function byGeneration(a: CpuModel, b: CpuModel): number {
  return a.generation - b.generation || ARM64_CPU_MODELS.indexOf(a) - ARM64_CPU_MODELS.indexOf(b);
}

/**
 * The models to run, oldest first, given the model names the installed QEMU lists (`parseQemuCpuHelp`) and,
 * optionally, the names the configuration asks for (default: every model in the table except stand-ins).
 * Nothing here throws: a model this QEMU lacks, or a name meshcheck does not know, becomes a note in `missing`,
 * because a thinner sweep is still a useful answer.
 */
export function sweepModels(
  available: string[],
  requested: string[] = DEFAULT_SWEEP,
): { models: CpuModel[]; missing: Array<{ name: string; note: string }> } {
  const have = new Set(available);
  const chosen = new Map<string, CpuModel>();
  const missing: Array<{ name: string; note: string }> = [];
  for (const name of new Set(requested)) {
    const model = modelNamed(name);
    if (!model) {
      const known = ARM64_CPU_MODELS.map((m) => m.name).join(', ');
      missing.push({ name, note: `'${name}' is not a CPU model meshcheck knows (known: ${known}); check the configuration` });
      continue;
    }
    if (have.has(name)) {
      chosen.set(name, model);
      continue;
    }
    const standIn = STAND_INS[name];
    if (standIn && have.has(standIn)) {
      const sub = modelNamed(standIn);
      if (sub) chosen.set(standIn, sub);
      const lacks = model.features.filter((f) => !sub?.features.includes(f));
      missing.push({
        name,
        note: `this QEMU has no ${name} (${model.stands_for}; QEMU 8.1 added it): ${standIn} stands in for SVE, but it lacks ${lacks.join(', ')}, so a failure there is not a verdict on ${model.stands_for}`,
      });
      continue;
    }
    missing.push({
      name,
      note: standIn
        ? `this QEMU has neither ${name} nor its stand-in ${standIn}: SVE code paths are not exercised`
        : `this QEMU does not list CPU model ${name} (${model.stands_for} is not covered)`,
    });
  }
  return { models: [...chosen.values()].sort(byGeneration), missing };
}

export interface TranslatedInstruction {
  /** Guest address as QEMU printed it, e.g. '0x00400548'. */
  pc: string;
  /** The instruction word (A64 instructions are always little-endian in memory). */
  word: number;
  /** QEMU's disassembly: `.byte 0x01, 0x00, 0xe1, 0xf8` when its disassembler did not know the instruction. */
  text: string;
  /** The symbol of the translation block ("IN: main"); absent when the header was cut off or QEMU had none. */
  block?: string;
}

interface Block {
  block?: string;
  insns: TranslatedInstruction[];
}

// "0x00400548:  f8e10001  .byte    0x01, 0x00, 0xe1, 0xf8" — not anchored to the line start, so a line of the
// program's own output that lacked a newline does not hide the instruction after it.
const INSN_LINE = /0x([0-9a-fA-F]+):\s+([0-9a-fA-F]{8})\s+(.*)$/;
const BLOCK_HEADER = /(?:^|[^A-Za-z0-9_])IN:[ \t]*(\S*)[ \t]*$/;
// Other -d items (out_asm, op, ...) print host code or TCG ops after their own headers; those are not guest
// instructions.
const OTHER_HEADER = /^(?:OUT|OP|PROLOGUE)\b[^:]*:/;
const DOT_BYTE = /^\.byte\s+0x([0-9a-fA-F]{2}),\s*0x([0-9a-fA-F]{2}),\s*0x([0-9a-fA-F]{2}),\s*0x([0-9a-fA-F]{2})\b/;
// What a disassembler prints for a word it cannot decode (QEMU 7.2's libvixl: `.byte`; others: these words).
const UNDECODED = /^(?:\.byte|\.inst|\.word|\.long|unallocated|unimplemented|undefined|illegal)\b/i;

function bswap32(w: number): number {
  return (((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24)) >>> 0;
}

function bytesWord(m: RegExpExecArray): number {
  const [b0, b1, b2, b3] = [m[1], m[2], m[3], m[4]].map((h) => Number.parseInt(h ?? '0', 16)) as [number, number, number, number];
  return (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0;
}

/**
 * The instruction that raised SIGILL, from the text of a `QEMU_LOG=in_asm` log (or any tail of it, mixed with
 * the program's output and QEMU's `uncaught target signal` line).
 *
 * QEMU ends a translation block at an instruction it cannot translate (an unallocated encoding, or one whose
 * feature the CPU model lacks), so the faulting instruction is the last one of a block, and a single-threaded
 * guest translates nothing after it. Other threads of the guest can still translate blocks while the faulting
 * one dies, so the latest block that ends in a suspect instruction wins: one `classifyA64Instruction` knows, or
 * one the disassembler could not decode. Without a suspect, it is the last instruction of the last block.
 *
 * The word is taken from the `.byte` list when there is one: that list is the bytes in memory order, while the
 * hex column follows the disassembler's endianness, and QEMU 7.2 byte-swaps it for a64fx. (aarch64_a64fx_initfn
 * sets reset_sctlr = 0x30000180; linux-user reads bit 7 as AArch32's SCTLR.B in target/arm/cpu.h arm_sctlr_b(),
 * and arm_disas_set_info() in target/arm/cpu.c then disassembles big-endian. Execution is unaffected.) When the
 * `.byte` lines show that swap, the hex column of decoded lines is swapped back, and "could not decode" stops
 * meaning anything: in such a log even `ret` shows as `.byte`.
 */
export function parseQemuTranslationLog(text: string): TranslatedInstruction | undefined {
  const blocks: Block[] = [];
  let current: Block | undefined;
  let inGuestCode = true; // a tail may start inside an IN: block whose header was cut off
  let swapped = false;

  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const header = BLOCK_HEADER.exec(line);
    if (header && !INSN_LINE.test(line)) {
      current = { insns: [] };
      if (header[1]) current.block = header[1];
      blocks.push(current);
      inGuestCode = true;
      continue;
    }
    if (OTHER_HEADER.test(line.trim())) {
      inGuestCode = false;
      current = undefined;
      continue;
    }
    if (!inGuestCode) continue;
    const m = INSN_LINE.exec(line);
    if (!m) continue;
    const hex = Number.parseInt(m[2] ?? '', 16) >>> 0;
    const insnText = (m[3] ?? '').trim();
    const bytes = DOT_BYTE.exec(insnText);
    if (bytes) {
      const fromBytes = bytesWord(bytes);
      if (fromBytes !== hex && bswap32(fromBytes) === hex) swapped = true;
    }
    if (!current) {
      current = { insns: [] };
      blocks.push(current);
    }
    current.insns.push({ pc: `0x${m[1] ?? ''}`, word: bytes ? bytesWord(bytes) : hex, text: insnText });
  }

  const realWord = (i: TranslatedInstruction): number => (swapped && !DOT_BYTE.test(i.text) ? bswap32(i.word) : i.word);
  const suspect = (i: TranslatedInstruction | undefined): boolean =>
    i !== undefined && (classifyA64Instruction(realWord(i)) !== undefined || (!swapped && UNDECODED.test(i.text)));
  const withInsns = blocks.filter((b) => b.insns.length > 0);
  const chosen = withInsns.findLast((b) => suspect(b.insns.at(-1))) ?? withInsns.at(-1);
  const last = chosen?.insns.at(-1);
  if (!chosen || !last) return undefined;
  const result: TranslatedInstruction = { ...last, word: realWord(last) };
  if (chosen.block) result.block = chosen.block;
  return result;
}

export interface A64Classification {
  /** The instruction group, e.g. 'lse', 'dotprod', 'sve', 'udf'. */
  class: string;
  /** The feature it needs, as CpuModel.features names it; 'none' for UDF. */
  feature: string;
  /** The architecture level that introduced it ('(optional)' when a core of that level may leave it out). */
  introduced: string;
}

interface EncodingRule {
  /** The instructions the rule covers (Arm ARM names), for people and the tests. */
  instructions: string;
  mask: number;
  value: number;
  /** A further condition inside the masked group, when one mask is not enough. */
  where?: (w: number) => boolean;
  result: A64Classification | ((w: number) => A64Classification);
}

const bits = (w: number, hi: number, lo: number): number => (w >>> lo) & ((1 << (hi - lo + 1)) - 1);

const LSE: A64Classification = { class: 'lse', feature: 'LSE', introduced: 'ARMv8.1' };
const FP16: A64Classification = { class: 'fp16', feature: 'FP16', introduced: 'ARMv8.2 (optional)' };
const DOTPROD: A64Classification = { class: 'dotprod', feature: 'DotProd', introduced: 'ARMv8.2 (optional)' };
const SHA512: A64Classification = { class: 'sha512', feature: 'SHA512', introduced: 'ARMv8.2 (optional)' };
const SHA3: A64Classification = { class: 'sha3', feature: 'SHA3', introduced: 'ARMv8.2 (optional)' };
const SM3: A64Classification = { class: 'sm3', feature: 'SM3', introduced: 'ARMv8.2 (optional)' };
const SM4: A64Classification = { class: 'sm4', feature: 'SM4', introduced: 'ARMv8.2 (optional)' };

/** FMLA and FMLS (U=0) and FMUL/FMULX (U=0/1) by element: with size=00 they take half-precision operands. */
const fp16ByElement = (w: number): boolean => bits(w, 15, 12) === 0b1001 || (bits(w, 29, 29) === 0 && (bits(w, 15, 12) === 0b0001 || bits(w, 15, 12) === 0b0101));

/**
 * A64 encodings (Arm ARM, "A64 Instruction Set Encoding"), most specific first. Every rule is tested against
 * words assembled by binutils 2.40 (harness/arch/isa.test.ts), together with the ARMv8.0 instructions that share
 * the neighbouring encoding space and must not match.
 */
const RULES: readonly EncodingRule[] = [
  // UDF #imm16: op0=0000 with bits[31:16]=0, permanently undefined. A deliberate trap, not a missing feature.
  {
    instructions: 'UDF',
    mask: 0xffff0000,
    value: 0x00000000,
    result: { class: 'udf', feature: 'none', introduced: 'never (permanently undefined: a deliberate trap)' },
  },
  // The whole SVE encoding space: op0 (bits[28:25]) = 0010. SVE2 shares it; telling them apart needs the full
  // SVE decode tables, and the fix (build for the oldest target) is the same.
  { instructions: 'SVE and SVE2', mask: 0x1e000000, value: 0x04000000, result: { class: 'sve', feature: 'SVE', introduced: 'ARMv8.2 (optional)' } },
  // The SME encoding space: bit 31 set and op0 = 0000 (reserved in ARMv8.0). SMSTART/SMSTOP are MSR aliases and
  // not covered.
  { instructions: 'SME (LD1x/ST1x to ZA, FMOPA, SMOPA, ...)', mask: 0x9e000000, value: 0x80000000, result: { class: 'sme', feature: 'SME', introduced: 'ARMv9.2 (optional)' } },
  // LDAPR/LDAPRB/LDAPRH: size 111 0 00 1 0 1 11111 1 100 00 Rn Rt. Inside the atomic-memory-operations group
  // (o3=1, opc=100), so it is tested first.
  {
    instructions: 'LDAPR, LDAPRB, LDAPRH',
    mask: 0x3ffffc00,
    value: 0x38bfc000,
    result: { class: 'rcpc', feature: 'LRCPC', introduced: 'ARMv8.3' },
  },
  // Atomic memory operations: size 111 V=0 00 A R 1 Rs o3 opc 00 Rn Rt. o3=0: LDADD, LDCLR, LDEOR, LDSET,
  // LDSMAX, LDSMIN, LDUMAX, LDUMIN (and their ST* aliases); o3=1 opc=000: SWP. In ARMv8.0 this space (bit 21
  // set, bits[11:10]=00) is unallocated; register-offset loads have bits[11:10]=10.
  {
    instructions: 'LDADD, LDCLR, LDEOR, LDSET, LDSMAX, LDSMIN, LDUMAX, LDUMIN, SWP',
    mask: 0x3f200c00,
    value: 0x38200000,
    where: (w) => bits(w, 15, 15) === 0 || bits(w, 14, 12) === 0b000,
    result: LSE,
  },
  // CAS/CASA/CASL/CASAL (B, H, W, X): size 001000 1 L 1 Rs o0 11111 Rn Rt (o2=1, o1=1 in the exclusive group).
  { instructions: 'CAS, CASB, CASH (all orderings)', mask: 0x3fa07c00, value: 0x08a07c00, result: LSE },
  // CASP: 0 sz 001000 0 L 1 Rs o0 11111 Rn Rt, with even Rs and Rt (odd pairs are unallocated). LDXP/STXP share
  // o1=1 but have bit 31 set.
  { instructions: 'CASP (all orderings)', mask: 0xbfa17c01, value: 0x08207c00, result: LSE },
  // LDAPUR*/STLUR*: size 011001 opc 0 imm9 00 Rn Rt (MTE's STG/LDG in the same space have bit 21 set). The
  // sign-extending forms stop at LDAPURSW: size=1x with opc=11, and size=11 with opc=10, are unallocated.
  {
    instructions: 'LDAPUR, LDAPURB, LDAPURH, LDAPURSB, LDAPURSH, LDAPURSW, STLUR, STLURB, STLURH',
    mask: 0x3f200c00,
    value: 0x19000000,
    where: (w) => !(bits(w, 31, 31) === 1 && bits(w, 23, 22) === 0b11) && !(bits(w, 31, 30) === 0b11 && bits(w, 23, 22) === 0b10),
    result: { class: 'rcpc2', feature: 'LRCPC2', introduced: 'ARMv8.4' },
  },
  // CRC32B/H/W/X, CRC32CB/CH/CW/CX: sf 0 0 11010110 Rm 010 C sz Rn Rd (Data-processing, 2 source); sz=11 (X)
  // exactly when sf=1.
  {
    instructions: 'CRC32B, CRC32H, CRC32W, CRC32X, CRC32CB, CRC32CH, CRC32CW, CRC32CX',
    mask: 0x7fe0e000,
    value: 0x1ac04000,
    where: (w) => (bits(w, 11, 10) === 0b11) === (bits(w, 31, 31) === 1),
    result: { class: 'crc32', feature: 'CRC32', introduced: 'ARMv8.0 (optional; mandatory from ARMv8.1)' },
  },
  // Crypto AES: 01001110 00 10100 001xx 10 Rn Rd (AESE, AESD, AESMC, AESIMC).
  {
    instructions: 'AESE, AESD, AESMC, AESIMC',
    mask: 0xffffcc00,
    value: 0x4e284800,
    result: { class: 'aes', feature: 'AES', introduced: 'ARMv8.0 (optional Cryptographic Extension)' },
  },
  // PMULL/PMULL2 with the 1Q arrangement (size=11) belong to the AES feature; the 8H form is ARMv8.0.
  {
    instructions: 'PMULL, PMULL2 (.1Q)',
    mask: 0xbfe0fc00,
    value: 0x0ee0e000,
    result: { class: 'aes', feature: 'PMULL', introduced: 'ARMv8.0 (optional Cryptographic Extension)' },
  },
  // Crypto three-register SHA: 01011110 00 0 Rm 0 opcode 00 Rn Rd. opcode 0xx: SHA1C/P/M/SU0; 1xx: SHA256H/H2/SU1.
  {
    instructions: 'SHA1C, SHA1P, SHA1M, SHA1SU0, SHA256H, SHA256H2, SHA256SU1',
    mask: 0xffe08c00,
    value: 0x5e000000,
    result: (w) => ({
      class: bits(w, 14, 14) ? 'sha256' : 'sha1',
      feature: bits(w, 14, 14) ? 'SHA256' : 'SHA1',
      introduced: 'ARMv8.0 (optional Cryptographic Extension)',
    }),
  },
  // Crypto two-register SHA: 01011110 00 10100 opcode 10 Rn Rd. 0000x: SHA1H, SHA1SU1; 00010: SHA256SU0.
  {
    instructions: 'SHA1H, SHA1SU1, SHA256SU0',
    mask: 0xffffcc00,
    value: 0x5e280800,
    where: (w) => bits(w, 13, 12) !== 0b11,
    result: (w) => ({
      class: bits(w, 13, 12) === 0b10 ? 'sha256' : 'sha1',
      feature: bits(w, 13, 12) === 0b10 ? 'SHA256' : 'SHA1',
      introduced: 'ARMv8.0 (optional Cryptographic Extension)',
    }),
  },
  // Crypto three-register SHA512: 11001110 011 Rm 1 O 00 opcode Rn Rd. O=0: SHA512H, SHA512H2, SHA512SU1, RAX1;
  // O=1: SM3PARTW1, SM3PARTW2, SM4EKEY.
  {
    instructions: 'SHA512H, SHA512H2, SHA512SU1, RAX1, SM3PARTW1, SM3PARTW2, SM4EKEY',
    mask: 0xffe0b000,
    value: 0xce608000,
    where: (w) => !(bits(w, 14, 14) === 1 && bits(w, 11, 10) === 0b11),
    result: (w) => {
      const op = bits(w, 11, 10);
      if (bits(w, 14, 14) === 0) return op === 0b11 ? SHA3 : SHA512;
      return op === 0b10 ? SM4 : SM3;
    },
  },
  // Crypto two-register SHA512: 11001110 11000000 1000 opcode Rn Rd. 00: SHA512SU0; 01: SM4E.
  {
    instructions: 'SHA512SU0, SM4E',
    mask: 0xfffff000,
    value: 0xcec08000,
    where: (w) => bits(w, 11, 10) <= 0b01,
    result: (w) => (bits(w, 11, 10) === 0b01 ? SM4 : SHA512),
  },
  // Crypto four-register: 11001110 0 Op0 Rm 0 Ra Rn Rd. 00: EOR3, 01: BCAX (SHA3); 10: SM3SS1; 11 unallocated.
  {
    instructions: 'EOR3, BCAX, SM3SS1',
    mask: 0xff808000,
    value: 0xce000000,
    where: (w) => bits(w, 22, 21) !== 0b11,
    result: (w) => (bits(w, 22, 21) === 0b10 ? SM3 : SHA3),
  },
  // XAR: 11001110 100 Rm imm6 Rn Rd.
  { instructions: 'XAR', mask: 0xffe00000, value: 0xce800000, result: SHA3 },
  // SM3TT1A/1B/2A/2B: 11001110 010 Rm 10 imm2 opcode Rn Rd.
  { instructions: 'SM3TT1A, SM3TT1B, SM3TT2A, SM3TT2B', mask: 0xffe0c000, value: 0xce408000, result: SM3 },
  // SDOT/UDOT (vector): 0 Q U 01110 10 0 Rm 1 0010 1 Rn Rd (Advanced SIMD three same (extra), opcode 0010).
  { instructions: 'SDOT, UDOT (vector)', mask: 0x9fe0fc00, value: 0x0e809400, result: DOTPROD },
  // SDOT/UDOT (by element): 0 Q U 01111 10 L M Rm 1110 H 0 Rn Rd.
  { instructions: 'SDOT, UDOT (by element)', mask: 0x9fc0f400, value: 0x0f80e000, result: DOTPROD },
  // FJCVTZS: 0 0 0 11110 01 1 11 110 000000 Rn Rd.
  {
    instructions: 'FJCVTZS',
    mask: 0xfffffc00,
    value: 0x1e7e0000,
    result: { class: 'jscvt', feature: 'JSCVT', introduced: 'ARMv8.3' },
  },
  // Scalar floating-point with ftype=11 (half precision): M/sf 0 S 11110 11 1 ... — data-processing 1/2/3-source,
  // compare, conditional compare/select, immediate, and conversions to/from integer (FMOV, SCVTF, FCVTZS, ...).
  // FCVT Sd,Hn and FCVT Dd,Hn (1-source opcode 00010x) convert from half and are ARMv8.0.
  {
    instructions: 'scalar half-precision FADD, FMUL, FMADD, FCMP, FCSEL, FMOV, SCVTF, FCVTZS, ... (ftype=11)',
    mask: 0x5fe00000,
    value: 0x1ee00000,
    where: (w) => !(bits(w, 14, 10) === 0b10000 && (bits(w, 20, 15) & 0b111110) === 0b000100),
    result: FP16,
  },
  // Conversion between floating-point and fixed-point with ftype=11: sf 0 0 11110 11 0 rmode opcode scale Rn Rd.
  { instructions: 'SCVTF, UCVTF, FCVTZS, FCVTZU (scalar, fixed-point, half precision)', mask: 0x7fe00000, value: 0x1ec00000, result: FP16 },
  // Floating-point data-processing (3 source) with ftype=11: 0 0 0 11111 11 o1 Rm o0 Ra Rn Rd.
  { instructions: 'FMADD, FMSUB, FNMADD, FNMSUB (half precision)', mask: 0xffc00000, value: 0x1fc00000, result: FP16 },
  // Advanced SIMD three same (FP16): 0 Q U 01110 a 1 0 Rm 00 opcode 1 Rn Rd.
  { instructions: 'Advanced SIMD three same (FP16)', mask: 0x9f60c400, value: 0x0e400400, result: FP16 },
  // Advanced SIMD two-register miscellaneous (FP16): 0 Q U 01110 a 1111 00 opcode 10 Rn Rd.
  { instructions: 'Advanced SIMD two-register miscellaneous (FP16)', mask: 0x9f7e0c00, value: 0x0e780800, result: FP16 },
  // Advanced SIMD scalar three same FP16: 01 U 11110 a 1 0 Rm 00 opcode 1 Rn Rd.
  { instructions: 'Advanced SIMD scalar three same FP16', mask: 0xdf60c400, value: 0x5e400400, result: FP16 },
  // Advanced SIMD scalar two-register miscellaneous FP16: 01 U 11110 a 1111 00 opcode 10 Rn Rd.
  { instructions: 'Advanced SIMD scalar two-register miscellaneous FP16', mask: 0xdf7e0c00, value: 0x5e780800, result: FP16 },
  // Advanced SIMD across lanes, FP16: 0 Q 0 01110 o1 0 11000 opcode 10 Rn Rd with opcode 01100 (FMAXNMV,
  // FMINNMV) or 01111 (FMAXV, FMINV); the single-precision forms have U=1.
  {
    instructions: 'FMAXNMV, FMINNMV, FMAXV, FMINV (half precision)',
    mask: 0xbf7e0c00,
    value: 0x0e300800,
    where: (w) => bits(w, 16, 12) === 0b01100 || bits(w, 16, 12) === 0b01111,
    result: FP16,
  },
  // FMOV (vector, immediate), half precision: 0 Q 0 0111100000 a b c 1111 1 1 d e f g h Rd (op=0, cmode=1111, o2=1).
  { instructions: 'FMOV (vector, immediate, half precision)', mask: 0xbff8fc00, value: 0x0f00fc00, result: FP16 },
  // Shift by immediate with immh=001x (half precision): 0 Q U 011110 immh immb opcode 1 Rn Rd, opcode 11100
  // (SCVTF, UCVTF) or 11111 (FCVTZS, FCVTZU); and the scalar forms, 01 U 111110 ...
  {
    instructions: 'SCVTF, UCVTF, FCVTZS, FCVTZU (vector, fixed-point, half precision)',
    mask: 0x9ff00400,
    value: 0x0f100400,
    where: (w) => bits(w, 15, 11) === 0b11100 || bits(w, 15, 11) === 0b11111,
    result: FP16,
  },
  {
    instructions: 'SCVTF, UCVTF, FCVTZS, FCVTZU (scalar, fixed-point, half precision)',
    mask: 0xdff00400,
    value: 0x5f100400,
    where: (w) => bits(w, 15, 11) === 0b11100 || bits(w, 15, 11) === 0b11111,
    result: FP16,
  },
  // FMLA/FMLS/FMUL/FMULX (by element, vector and scalar) with size=00: 0 Q U 01111 00 L M Rm opcode H 0 Rn Rd.
  {
    instructions: 'FMLA, FMLS, FMUL, FMULX (by element, half precision)',
    mask: 0x9fc00400,
    value: 0x0f000000,
    where: fp16ByElement,
    result: FP16,
  },
  {
    instructions: 'FMLA, FMLS, FMUL, FMULX (scalar by element, half precision)',
    mask: 0xdfc00400,
    value: 0x5f000000,
    where: fp16ByElement,
    result: FP16,
  },
];

/**
 * Which optional (or never-implemented) part of A64 an instruction word belongs to, for the encoding groups that
 * separate the generations the sweep runs: LSE atomics, LDAPR/LDAPUR (RCpc), DotProd, FP16, SVE, CRC32,
 * AES/PMULL/SHA1/SHA256, SHA512/SHA3/SM3/SM4, FJCVTZS, and UDF. Anything else (including ARMv8.0 base
 * instructions) is `undefined`: this is not a disassembler.
 */
export function classifyA64Instruction(word: number): A64Classification | undefined {
  const w = word >>> 0;
  for (const rule of RULES) {
    if (((w & rule.mask) >>> 0) !== rule.value) continue;
    if (rule.where && !rule.where(w)) continue;
    return typeof rule.result === 'function' ? rule.result(w) : { ...rule.result };
  }
  return undefined;
}

/** Verdicts that count as a passing run: the classifier's FailureKind 'ok', or a plain 'pass'. */
const PASSING = new Set(['ok', 'pass', 'passed']);

/** `a` implements every feature `b` does: what runs on `b` should run on `a`. */
function covers(a: CpuModel, b: CpuModel): boolean {
  return b.features.every((f) => a.features.includes(f));
}

/**
 * The oldest model the image ran on, and every model it failed on, from one verdict per model run.
 *
 * A passing model is the baseline only if no newer model that implements all of its features failed: the image
 * then runs on that generation and everything after it. "Newer" is judged by features as well as generation,
 * because the models are not one chain: a64fx (the SVE stand-in) lacks DotProd and LDAPR, so an image built for
 * Neoverse N1 fails there and still runs on Graviton2; that failure is reported in `failsOn` but does not move
 * the baseline. A model that ran more than once passes only if every run passed. Names outside
 * ARM64_CPU_MODELS are ignored: there is no generation to place them in.
 */
export function oldestPassing(results: Array<{ model: string; verdict: string }>): { baseline?: CpuModel; failsOn: CpuModel[] } {
  const passed = new Map<CpuModel, boolean>();
  for (const r of results) {
    const model = modelNamed(r.model);
    if (!model) continue;
    passed.set(model, (passed.get(model) ?? true) && PASSING.has(r.verdict));
  }
  const ran = [...passed.keys()].sort(byGeneration);
  const failsOn = ran.filter((m) => !passed.get(m));
  const baseline = ran.find(
    (m) => passed.get(m) && !failsOn.some((f) => f.generation > m.generation && covers(f, m)),
  );
  return baseline ? { baseline, failsOn } : { failsOn };
}
