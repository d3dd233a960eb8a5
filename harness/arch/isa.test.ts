import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseQemuCpuHelp } from './host.ts';
import {
  ARM64_CPU_MODELS,
  type CpuModel,
  classifyA64Instruction,
  oldestPassing,
  parseQemuTranslationLog,
  sweepModels,
} from './isa.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/qemu-logs/${name}`, import.meta.url), 'utf8');
const model = (name: string): CpuModel => {
  const m = ARM64_CPU_MODELS.find((x) => x.name === name);
  if (!m) throw new Error(`no model ${name}`);
  return m;
};

/*
 * Instruction words from binutils 2.40 (Debian): each line was assembled with aarch64-linux-gnu-as
 * -march=armv9-a+sve2-bitperm+sha3+sm4+fp16+dotprod+crypto+rcpc (the SME lines: -march=armv9-a+sme) and read back
 * with aarch64-linux-gnu-objdump -d; the text is objdump's. `as -march=armv8-a` rejects every one of them except
 * the two UDFs, which is what makes them the instructions an ARMv8.0 core lacks.
 */
const FEATURE_WORDS: ReadonlyArray<readonly [number, string, string, string]> = [
  [0xf8210002, 'ldadd x1, x2, [x0]', 'lse', 'LSE'],
  [0xf8e10001, 'ldaddal x1, x1, [x0]', 'lse', 'LSE'],
  [0x38210002, 'ldaddb w1, w2, [x0]', 'lse', 'LSE'],
  [0xb8e310a4, 'ldclral w3, w4, [x5]', 'lse', 'LSE'],
  [0xf8a623e7, 'ldeora x6, x7, [sp]', 'lse', 'LSE'],
  [0xf8613062, 'ldsetl x1, x2, [x3]', 'lse', 'LSE'],
  [0xb8214062, 'ldsmax w1, w2, [x3]', 'lse', 'LSE'],
  [0xf8215062, 'ldsmin x1, x2, [x3]', 'lse', 'LSE'],
  [0xb8216062, 'ldumax w1, w2, [x3]', 'lse', 'LSE'],
  [0x78e17062, 'lduminalh w1, w2, [x3]', 'lse', 'LSE'],
  [0xf8218062, 'swp x1, x2, [x3]', 'lse', 'LSE'],
  [0xb8e18062, 'swpal w1, w2, [x3]', 'lse', 'LSE'],
  [0xf821001f, 'stadd x1, [x0]', 'lse', 'LSE'],
  [0xc8a17c62, 'cas x1, x2, [x3]', 'lse', 'LSE'],
  [0x88e1fc62, 'casal w1, w2, [x3]', 'lse', 'LSE'],
  [0x08a17c62, 'casb w1, w2, [x3]', 'lse', 'LSE'],
  [0x48207c82, 'casp x0, x1, x2, x3, [x4]', 'lse', 'LSE'],
  [0x0860fc82, 'caspal w0, w1, w2, w3, [x4]', 'lse', 'LSE'],
  [0xf8bfc001, 'ldapr x1, [x0]', 'rcpc', 'LRCPC'],
  [0xb8bfc001, 'ldapr w1, [x0]', 'rcpc', 'LRCPC'],
  [0x38bfc001, 'ldaprb w1, [x0]', 'rcpc', 'LRCPC'],
  [0xd9408001, 'ldapur x1, [x0, #8]', 'rcpc2', 'LRCPC2'],
  [0x991fc001, 'stlur w1, [x0, #-4]', 'rcpc2', 'LRCPC2'],
  [0x4e829420, 'sdot v0.4s, v1.16b, v2.16b', 'dotprod', 'DotProd'],
  [0x2e829420, 'udot v0.2s, v1.8b, v2.8b', 'dotprod', 'DotProd'],
  [0x4fa2e020, 'sdot v0.4s, v1.16b, v2.4b[1]', 'dotprod', 'DotProd'],
  [0x2fa5e883, 'udot v3.2s, v4.8b, v5.4b[3]', 'dotprod', 'DotProd'],
  [0x1ee12800, 'fadd h0, h0, h1', 'fp16', 'FP16'],
  [0x1eec1000, 'fmov h0, #5.000000000000000000e-01', 'fp16', 'FP16'],
  [0x1ee20021, 'scvtf h1, w1', 'fp16', 'FP16'],
  [0x1ef80020, 'fcvtzs w0, h1', 'fp16', 'FP16'],
  [0x1ee60000, 'fmov w0, h0', 'fp16', 'FP16'],
  [0x1ee12000, 'fcmp h0, h1', 'fp16', 'FP16'],
  [0x4e421420, 'fadd v0.8h, v1.8h, v2.8h', 'fp16', 'FP16'],
  [0x0ef8f820, 'fabs v0.4h, v1.4h', 'fp16', 'FP16'],
  [0x4f321020, 'fmla v0.8h, v1.8h, v2.h[3]', 'fp16', 'FP16'],
  [0x5e421c20, 'fmulx h0, h1, h2', 'fp16', 'FP16'],
  [0x5ef9d820, 'frecpe h0, h1', 'fp16', 'FP16'],
  [0x2598e3e0, 'ptrue p0.s', 'sve', 'SVE'],
  [0xa540a000, 'ld1w {z0.s}, p0/z, [x0]', 'sve', 'SVE'],
  [0x04a20020, 'add z0.s, z1.s, z2.s', 'sve', 'SVE'],
  [0x25a08000, 'cntp x0, p0, p0.s', 'sve', 'SVE'],
  [0x25e11c01, 'whilelo p1.d, x0, x1', 'sve', 'SVE'],
  [0x85804001, 'ldr z1, [x0]', 'sve', 'SVE'],
  [0x1ac24020, 'crc32b w0, w1, w2', 'crc32', 'CRC32'],
  [0x9ac25c20, 'crc32cx w0, w1, x2', 'crc32', 'CRC32'],
  [0x4e284820, 'aese v0.16b, v1.16b', 'aes', 'AES'],
  [0x4e287862, 'aesimc v2.16b, v3.16b', 'aes', 'AES'],
  [0x0ee2e020, 'pmull v0.1q, v1.1d, v2.1d', 'aes', 'PMULL'],
  [0x4ee2e020, 'pmull2 v0.1q, v1.2d, v2.2d', 'aes', 'PMULL'],
  [0x5e020020, 'sha1c q0, s1, v2.4s', 'sha1', 'SHA1'],
  [0x5e280820, 'sha1h s0, s1', 'sha1', 'SHA1'],
  [0x5e024020, 'sha256h q0, q1, v2.4s', 'sha256', 'SHA256'],
  [0x5e282820, 'sha256su0 v0.4s, v1.4s', 'sha256', 'SHA256'],
  [0x5e026020, 'sha256su1 v0.4s, v1.4s, v2.4s', 'sha256', 'SHA256'],
  [0xce628020, 'sha512h q0, q1, v2.2d', 'sha512', 'SHA512'],
  [0xcec08020, 'sha512su0 v0.2d, v1.2d', 'sha512', 'SHA512'],
  [0xce628820, 'sha512su1 v0.2d, v1.2d, v2.2d', 'sha512', 'SHA512'],
  [0xce020c20, 'eor3 v0.16b, v1.16b, v2.16b, v3.16b', 'sha3', 'SHA3'],
  [0xce220c20, 'bcax v0.16b, v1.16b, v2.16b, v3.16b', 'sha3', 'SHA3'],
  [0xce628c20, 'rax1 v0.2d, v1.2d, v2.2d', 'sha3', 'SHA3'],
  [0xce822820, 'xar v0.2d, v1.2d, v2.2d, #10', 'sha3', 'SHA3'],
  [0xce420c20, 'sm3ss1 v0.4s, v1.4s, v2.4s, v3.4s', 'sm3', 'SM3'],
  [0xce429020, 'sm3tt1a v0.4s, v1.4s, v2.s[1]', 'sm3', 'SM3'],
  [0xcec08420, 'sm4e v0.4s, v1.4s', 'sm4', 'SM4'],
  [0xce62c820, 'sm4ekey v0.4s, v1.4s, v2.4s', 'sm4', 'SM4'],
  [0x1e7e0020, 'fjcvtzs w0, d1', 'jscvt', 'JSCVT'],
  [0x00000000, 'udf #0', 'udf', 'none'],
  [0x00001234, 'udf #4660', 'udf', 'none'],
  [0x0f129020, 'fmul v0.4h, v1.4h, v2.h[1]', 'fp16', 'FP16'],
  [0x5f129020, 'fmul h0, h1, v2.h[1]', 'fp16', 'FP16'],
  [0x9ef80020, 'fcvtzs x0, h1', 'fp16', 'FP16'],
  [0x4ef8d820, 'fcmeq v0.8h, v1.8h, #0.0', 'fp16', 'FP16'],
  [0x38218062, 'swpb w1, w2, [x3]', 'lse', 'LSE'],
  [0x78e14062, 'ldsmaxalh w1, w2, [x3]', 'lse', 'LSE'],
  [0x08207c82, 'casp w0, w1, w2, w3, [x4]', 'lse', 'LSE'],
  [0x4488a020, 'sqabs z0.s, p0/m, z1.s', 'sve', 'SVE'],
  [0x4582b020, 'bext z0.s, z1.s, z2.s', 'sve', 'SVE'],
  [0x1fc20c20, 'fmadd h0, h1, h2, h3', 'fp16', 'FP16'],
  [0x1fe28c20, 'fnmsub h0, h1, h2, h3', 'fp16', 'FP16'],
  [0x1ed8f020, 'fcvtzs w0, h1, #4', 'fp16', 'FP16'],
  [0x9ec2f420, 'scvtf h0, x1, #3', 'fp16', 'FP16'],
  [0x4e30c820, 'fmaxnmv h0, v1.8h', 'fp16', 'FP16'],
  [0x0eb0f820, 'fminv h0, v1.4h', 'fp16', 'FP16'],
  [0x4f03fe00, 'fmov v0.8h, #1.000000000000000000e+00', 'fp16', 'FP16'],
  [0x4f1dfc20, 'fcvtzs v0.8h, v1.8h, #3', 'fp16', 'FP16'],
  [0x2f1ee420, 'ucvtf v0.4h, v1.4h, #2', 'fp16', 'FP16'],
  [0x5f1ee420, 'scvtf h0, h1, #2', 'fp16', 'FP16'],
  [0x6f329820, 'fmulx v0.8h, v1.8h, v2.h[7]', 'fp16', 'FP16'],
  [0x0f025020, 'fmls v0.4h, v1.4h, v2.h[0]', 'fp16', 'FP16'],
  // -march=armv9-a+sme
  [0x80812000, 'fmopa za0.s, p0/m, p1/m, z0.s, z1.s', 'sme', 'SME'],
  [0xe09f0000, 'ld1w {za0h.s[w12, 0]}, p0/z, [x0, xzr, lsl #2]', 'sme', 'SME'],
  [0xc00800ff, 'zero {za}', 'sme', 'SME'],
];

/*
 * ARMv8.0 instructions that sit next to the encodings above (exclusive and acquire/release loads and stores,
 * register-offset loads, Advanced SIMD by element, half-precision conversions, ...). Assembled the same way with
 * aarch64-linux-gnu-as -march=armv8-a (binutils 2.40): none of them may be classified.
 */
const BASE_WORDS: ReadonlyArray<readonly [number, string]> = [
  [0xc85f7c01, 'ldxr x1, [x0]'],
  [0xc8027c01, 'stxr w2, x1, [x0]'],
  [0x885ffc01, 'ldaxr w1, [x0]'],
  [0x8802fc01, 'stlxr w2, w1, [x0]'],
  [0xc8dffc01, 'ldar x1, [x0]'],
  [0xc89ffc01, 'stlr x1, [x0]'],
  [0xc87f0801, 'ldxp x1, x2, [x0]'],
  [0xc8230801, 'stxp w3, x1, x2, [x0]'],
  [0x887f8801, 'ldaxp w1, w2, [x0]'],
  [0xf9400401, 'ldr x1, [x0, #8]'],
  [0xf8626801, 'ldr x1, [x0, x2]'],
  [0xf85f8001, 'ldur x1, [x0, #-8]'],
  [0x38626801, 'ldrb w1, [x0, x2]'],
  [0xb81fcc01, 'str w1, [x0, #-4]!'],
  [0xf8408401, 'ldr x1, [x0], #8'],
  [0xf8400801, 'ldtr x1, [x0]'],
  [0xf8a16800, 'prfm pldl1keep, [x0, x1]'],
  [0x4ea28420, 'add v0.4s, v1.4s, v2.4s'],
  [0x4ea29c20, 'mul v0.4s, v1.4s, v2.4s'],
  [0x6fa20020, 'mla v0.4s, v1.4s, v2.s[1]'],
  [0x4fa2c020, 'sqdmulh v0.4s, v1.4s, v2.s[1]'],
  [0x4fa21020, 'fmla v0.4s, v1.4s, v2.s[1]'],
  [0x4fc29820, 'fmul v0.2d, v1.2d, v2.d[1]'],
  [0x4e22d420, 'fadd v0.4s, v1.4s, v2.4s'],
  [0x4ee0f820, 'fabs v0.2d, v1.2d'],
  [0x2e22c020, 'umull v0.8h, v1.8b, v2.8b'],
  [0x0e22e020, 'pmull v0.8h, v1.8b, v2.8b'],
  [0x4e010c21, 'dup v1.16b, w1'],
  [0x6e004000, 'ext v0.16b, v0.16b, v0.16b, #8'],
  [0x6f00e400, 'movi v0.2d, #0x0'],
  [0x0e0c3c20, 'mov w0, v1.s[1]'],
  [0x1e212800, 'fadd s0, s0, s1'],
  [0x1e612800, 'fadd d0, d0, d1'],
  [0x1ee24020, 'fcvt s0, h1'],
  [0x1ee2c020, 'fcvt d0, h1'],
  [0x1e23c020, 'fcvt h0, s1'],
  [0x1e63c020, 'fcvt h0, d1'],
  [0x1e780020, 'fcvtzs w0, d1'],
  [0x9e660020, 'fmov x0, d1'],
  [0x1e270020, 'fmov s0, w1'],
  [0x1e6f1000, 'fmov d0, #1.500000000000000000e+00'],
  [0x9e620020, 'scvtf d0, x1'],
  [0x1e612000, 'fcmp d0, d1'],
  [0x1e210400, 'fccmp s0, s1, #0x0, eq'],
  [0x1e620c20, 'fcsel d0, d1, d2, eq'],
  [0x1e674020, 'frintx d0, d1'],
  [0x1f420c20, 'fmadd d0, d1, d2, d3'],
  [0x9ac20c20, 'sdiv x0, x1, x2'],
  [0x9ac22020, 'lsl x0, x1, x2'],
  [0xdac00020, 'rbit x0, x1'],
  [0x90000000, 'adrp x0, 0'],
  [0x14000000, 'b .'],
  [0x94000000, 'bl .'],
  [0xd65f03c0, 'ret'],
  [0xd503201f, 'nop'],
  [0xd4000001, 'svc #0x0'],
  [0xd4200000, 'brk #0x0'],
  [0xd4400000, 'hlt #0x0'],
  [0xd53bd040, 'mrs x0, tpidr_el0'],
  [0x4c407000, 'ld1 {v0.16b}, [x0]'],
  [0x4c9fa800, 'st1 {v0.4s, v1.4s}, [x0], #32'],
  [0xa8c17bfd, 'ldp x29, x30, [sp], #16'],
  [0xadbf07e0, 'stp q0, q1, [sp, #-32]!'],
  [0xd2800020, 'mov x0, #0x1'],
  [0xf2a00020, 'movk x0, #0x1, lsl #16'],
  [0x92401c20, 'and x0, x1, #0xff'],
  [0x37180000, 'tbnz w0, #3, .'],
  [0xb4000000, 'cbz x0, .'],
  [0x1f020c20, 'fmadd s0, s1, s2, s3'],
  [0x1f628c20, 'fnmsub d0, d1, d2, d3'],
  [0x1e18f020, 'fcvtzs w0, s1, #4'],
  [0x9e42f420, 'scvtf d0, x1, #3'],
  [0x6e30c820, 'fmaxnmv s0, v1.4s'],
  [0x6eb0f820, 'fminv s0, v1.4s'],
  [0x4f03f600, 'fmov v0.4s, #1.000000000000000000e+00'],
  [0x6f03f600, 'fmov v0.2d, #1.000000000000000000e+00'],
  [0x4f3dfc20, 'fcvtzs v0.4s, v1.4s, #3'],
  [0x6f7ee420, 'ucvtf v0.2d, v1.2d, #2'],
  [0x5f3ee420, 'scvtf s0, s1, #2'],
  [0x4f1d0420, 'sshr v0.8h, v1.8h, #3'],
  [0x6fa29820, 'fmulx v0.4s, v1.4s, v2.s[3]'],
  [0x4fc25020, 'fmls v0.2d, v1.2d, v2.d[0]'],
  [0x4e70a820, 'smaxv h0, v1.8h'],
  [0x4f0787e0, 'movi v0.8h, #0xff'],
];

const hex = (w: number): string => `0x${w.toString(16).padStart(8, '0')}`;

describe('classifyA64Instruction on words assembled by binutils', () => {
  test.each(FEATURE_WORDS.map(([w, asm, cls, feature]) => [hex(w), asm, cls, feature] as const))(
    '%s %s -> %s',
    (w, _asm, cls, feature) => {
      expect(classifyA64Instruction(Number(w))).toMatchObject({ class: cls, feature });
    },
  );

  test.each(BASE_WORDS.map(([w, asm]) => [hex(w), asm] as const))('%s %s (ARMv8.0) -> undefined', (w) => {
    expect(classifyA64Instruction(Number(w))).toBeUndefined();
  });

  test('every class the table expects is covered, and each says when it came', () => {
    const classes = new Set(FEATURE_WORDS.map(([, , cls]) => cls));
    for (const c of ['lse', 'rcpc', 'rcpc2', 'dotprod', 'fp16', 'sve', 'sme', 'crc32', 'aes', 'sha1', 'sha256', 'sha512', 'sha3', 'sm3', 'sm4', 'jscvt', 'udf']) {
      expect(classes, c).toContain(c);
    }
    expect(classifyA64Instruction(0xf8e10001)).toEqual({ class: 'lse', feature: 'LSE', introduced: 'ARMv8.1' });
    expect(classifyA64Instruction(0xf8bfc001)?.introduced).toBe('ARMv8.3');
    expect(classifyA64Instruction(0x00000000)?.introduced).toMatch(/never/);
  });

  test('every feature a word needs is named in the model table (UDF needs none)', () => {
    const known = new Set(ARM64_CPU_MODELS.flatMap((m) => m.features));
    for (const [, asm, , feature] of FEATURE_WORDS) {
      if (feature !== 'none') expect(known, `${asm}: ${feature}`).toContain(feature);
    }
  });

  test('words are read as unsigned 32-bit values', () => {
    expect(classifyA64Instruction(0xf8e10001 | 0)).toMatchObject({ class: 'lse' }); // a negative int32
    expect(classifyA64Instruction(0x1_f8e10001)).toMatchObject({ class: 'lse' });
  });
});

describe('the model table matches what this QEMU tells a guest', () => {
  /** Linux arch/arm64/include/uapi/asm/hwcap.h bit numbers of the features the table names. */
  const HWCAP: Readonly<Record<string, number>> = {
    AES: 3, PMULL: 4, SHA1: 5, SHA256: 6, CRC32: 7, LSE: 8, FP16: 9, RDM: 12, JSCVT: 13, FCMA: 14, LRCPC: 15,
    SHA3: 17, SM3: 18, SM4: 19, DotProd: 20, SHA512: 21, SVE: 22, FHM: 23, LRCPC2: 26, FlagM: 27, PAuth: 30,
  };
  const HWCAP2: Readonly<Record<string, number>> = { SVE2: 1, I8MM: 13, BF16: 14, RNG: 16, BTI: 17, MTE: 18, SME: 23 };
  const captured = fixture('hwcaps.txt')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [name = '', cap = '0', cap2 = '0'] = l.split(' ');
      return { name, cap: BigInt(cap), cap2: BigInt(cap2) };
    });

  test('the fixture covers every model this QEMU has', () => {
    expect(captured.map((c) => c.name)).toEqual(['cortex-a53', 'cortex-a72', 'neoverse-n1', 'a64fx', 'max']);
  });

  test.each(captured.map((c) => [c.name, c] as const))('%s: features = HWCAP bits', (name, c) => {
    const fromHwcap = [
      ...Object.entries(HWCAP).filter(([, bit]) => (c.cap >> BigInt(bit)) & 1n),
      ...Object.entries(HWCAP2).filter(([, bit]) => (c.cap2 >> BigInt(bit)) & 1n),
    ].map(([f]) => f);
    expect([...model(name).features].sort()).toEqual(fromHwcap.sort());
  });

  test('every feature of the table has a HWCAP bit, so the check above is complete', () => {
    for (const f of ARM64_CPU_MODELS.flatMap((m) => m.features)) expect(f in HWCAP || f in HWCAP2, f).toBe(true);
  });

  test('generations run oldest first; every newer model in the Graviton chain implements what the older one does', () => {
    const gens = ARM64_CPU_MODELS.map((m) => m.generation);
    expect(gens).toEqual([...gens].sort((a, b) => a - b));
    const chain = ['cortex-a53', 'cortex-a72', 'neoverse-n1', 'neoverse-v1', 'max'].map(model);
    for (const [older, newer] of chain.slice(0, -1).map((m, i) => [m, chain[i + 1]!] as const)) {
      expect(older.features.filter((f) => !newer.features.includes(f)), `${older.name} -> ${newer.name}`).toEqual([]);
    }
    // a64fx is beside that chain, not in it: it lacks what Graviton2 has.
    expect(model('neoverse-n1').features.filter((f) => !model('a64fx').features.includes(f))).toEqual(['DotProd', 'LRCPC']);
  });
});

describe('sweepModels', () => {
  // `qemu-aarch64-static -cpu help` of Debian's QEMU 7.2.22, as printed (it exits 1 afterwards).
  const QEMU_72_CPU_HELP = 'Available CPUs:\n  a64fx\n  cortex-a35\n  cortex-a53\n  cortex-a57\n  cortex-a72\n  cortex-a76\n  max\n  neoverse-n1\n';
  const qemu72 = parseQemuCpuHelp(QEMU_72_CPU_HELP);

  test('QEMU 7.2: oldest first, a64fx stands in for the missing neoverse-v1, with a note that says what it lacks', () => {
    const { models, missing } = sweepModels(qemu72);
    expect(models.map((m) => m.name)).toEqual(['cortex-a53', 'cortex-a72', 'neoverse-n1', 'a64fx', 'max']);
    expect(missing).toHaveLength(1);
    expect(missing[0]?.name).toBe('neoverse-v1');
    expect(missing[0]?.note).toMatch(/a64fx stands in for SVE/);
    expect(missing[0]?.note).toMatch(/DotProd/);
    expect(missing[0]?.note).toMatch(/LRCPC/);
  });

  test('with neoverse-v1 available, a64fx is not run', () => {
    const { models, missing } = sweepModels([...qemu72, 'neoverse-v1']);
    expect(models.map((m) => m.name)).toEqual(['cortex-a53', 'cortex-a72', 'neoverse-n1', 'neoverse-v1', 'max']);
    expect(missing).toEqual([]);
  });

  test('without any SVE model the note says SVE is not exercised', () => {
    const { models, missing } = sweepModels(['cortex-a53', 'max']);
    expect(models.map((m) => m.name)).toEqual(['cortex-a53', 'max']);
    expect(missing.map((m) => m.name)).toEqual(['cortex-a72', 'neoverse-n1', 'neoverse-v1']);
    expect(missing.find((m) => m.name === 'neoverse-v1')?.note).toMatch(/SVE code paths are not exercised/);
    expect(missing.find((m) => m.name === 'cortex-a72')?.note).toMatch(/does not list CPU model cortex-a72/);
  });

  test('an unknown requested name is a configuration note, not an error; order follows generations, not the request', () => {
    const { models, missing } = sweepModels(qemu72, ['max', 'cortex-a76', 'cortex-a53', 'graviton9', 'cortex-a53']);
    expect(models.map((m) => m.name)).toEqual(['cortex-a53', 'max']);
    expect(missing.map((m) => m.name)).toEqual(['cortex-a76', 'graviton9']);
    expect(missing[0]?.note).toMatch(/not a CPU model meshcheck knows.*check the configuration/);
  });

  test('a64fx can be asked for explicitly', () => {
    expect(sweepModels(qemu72, ['a64fx', 'neoverse-n1']).models.map((m) => m.name)).toEqual(['neoverse-n1', 'a64fx']);
  });

  test('an emulator that lists nothing (the probe failed) gives an empty sweep with a note per model', () => {
    const { models, missing } = sweepModels([]);
    expect(models).toEqual([]);
    expect(missing.map((m) => m.name)).toEqual(['cortex-a53', 'cortex-a72', 'neoverse-n1', 'neoverse-v1', 'max']);
  });
});

describe('parseQemuTranslationLog on logs captured from QEMU 7.2.22', () => {
  // [fixture, CPU model it ran on, pc, word, class of the word]. See fixtures/qemu-logs/README.md.
  const CASES = [
    ['lse-cortex-a53.txt', 'cortex-a53', '0x00400548', 0xf8e10001, 'lse'],
    ['dotprod-cortex-a72.txt', 'cortex-a72', '0x00400550', 0x4e829420, 'dotprod'],
    ['dotprod-a64fx.txt', 'a64fx', '0x00400550', 0x4e829420, 'dotprod'],
    ['sve-neoverse-n1.txt', 'neoverse-n1', '0x00400538', 0x2598e3e0, 'sve'],
    ['rcpc-cortex-a72.txt', 'cortex-a72', '0x00400540', 0xf8bfc021, 'rcpc'],
    ['rcpc-a64fx.txt', 'a64fx', '0x00400540', 0xf8bfc021, 'rcpc'],
    ['fp16-cortex-a72.txt', 'cortex-a72', '0x00400538', 0x1eec1000, 'fp16'],
    ['sha512-neoverse-n1.txt', 'neoverse-n1', '0x00400544', 0xce628020, 'sha512'],
    ['jscvt-neoverse-n1.txt', 'neoverse-n1', '0x00400544', 0x1e7e0001, 'jscvt'],
    ['udf-max.txt', 'max', '0x00400804', 0x00000000, 'udf'],
    ['lse-interleaved-cortex-a53.txt', 'cortex-a53', '0x00400590', 0xf8e10001, 'lse'],
    ['docker-lse-cortex-a53.txt', 'cortex-a53', '0x00400548', 0xf8e10001, 'lse'],
  ] as const;

  test.each(CASES)('%s (%s)', (file, cpu, pc, word, cls) => {
    const insn = parseQemuTranslationLog(fixture(file));
    expect(insn).toMatchObject({ pc, word, block: 'main' });
    expect(insn?.text).toMatch(/^\.byte\s/); // QEMU 7.2's disassembler knows none of these
    const c = classifyA64Instruction(insn?.word ?? -1);
    expect(c?.class).toBe(cls);
    // The model it died on lacks the feature (UDF is no feature: it dies everywhere) ...
    if (c && c.feature !== 'none') {
      expect(model(cpu).features).not.toContain(c.feature);
      // ... and the sweep has a model that has it, which is where the image would run.
      expect(ARM64_CPU_MODELS.some((m) => m.features.includes(c.feature))).toBe(true);
    }
  });

  test('the captured streams really are mixed: program output and the qemu line sit in the text', () => {
    expect(fixture('lse-interleaved-cortex-a53.txt')).toMatch(/^probe: about to use an LSE atomic$/m);
    for (const f of ['lse-interleaved-cortex-a53.txt', 'docker-lse-cortex-a53.txt']) {
      expect(fixture(f).trimEnd().split('\n').at(-1)).toBe('qemu: uncaught target signal 4 (Illegal instruction) - core dumped');
    }
  });

  test("a64fx: the hex column is byte-swapped, the .byte list is not; decoded lines are swapped back", () => {
    const log = fixture('dotprod-a64fx.txt');
    expect(log).toContain('0x00400550:  2094824e  .byte    0x20, 0x94, 0x82, 0x4e');
    // A later block that ends in a decoded-looking line (in an a64fx log, garbage): its hex is swapped back.
    const later = `${log}\n----------------\nIN: other\n0x00400600:  fd030091  str      d17, [x4, #0x600]\n`;
    // The dotprod block still wins: it ends in a known SIGILL cause; the later one does not.
    expect(parseQemuTranslationLog(later)).toMatchObject({ pc: '0x00400550', word: 0x4e829420 });
    const noSuspect = log.replace(/^0x00400550:.*$/m, '0x00400550:  fd030091  str      d17, [x4, #0x600]');
    expect(parseQemuTranslationLog(noSuspect)).toMatchObject({ pc: '0x00400550', word: 0x910003fd }); // mov x29, sp
  });

  test('in a swapped log `.byte` means nothing: a block ending in `ret` shown as .byte is not preferred', () => {
    const log = `${fixture('dotprod-a64fx.txt')}\n----------------\nIN: worker\n0x00400700:  c0035fd6  .byte    0xc0, 0x03, 0x5f, 0xd6\n`;
    expect(parseQemuTranslationLog(log)).toMatchObject({ word: 0x4e829420, block: 'main' });
  });
});

describe('parseQemuTranslationLog on the shapes a log can take', () => {
  const block = (name: string, ...insns: string[]): string => `----------------\nIN: ${name}\n${insns.join('\n')}\n\n`;

  test('nothing to find', () => {
    expect(parseQemuTranslationLog('')).toBeUndefined();
    expect(parseQemuTranslationLog('qemu: uncaught target signal 4 (Illegal instruction) - core dumped\n')).toBeUndefined();
    expect(parseQemuTranslationLog('----------------\nIN: main\n\n')).toBeUndefined();
  });

  test('a tail that starts inside a block, with no IN: header at all, has no block name', () => {
    expect(parseQemuTranslationLog('0x00400544:  93407c21  sxtw     x1, w1\n0x00400548:  f8e10001  .byte    0x01, 0x00, 0xe1, 0xf8\n')).toEqual({
      pc: '0x00400548',
      word: 0xf8e10001,
      text: '.byte    0x01, 0x00, 0xe1, 0xf8',
    });
  });

  test('a block without a symbol ("IN: ") has no block name', () => {
    expect(parseQemuTranslationLog(block('', '0x00400548:  f8e10001  .byte    0x01, 0x00, 0xe1, 0xf8'))?.block).toBeUndefined();
  });

  test('CRLF line ends (docker run -t) and output glued to the front of a line', () => {
    const text = block('main', '0x00400544:  93407c21  sxtw     x1, w1', 'probe: no newline0x00400548:  f8e10001  .byte    0x01, 0x00, 0xe1, 0xf8').replaceAll('\n', '\r\n');
    expect(parseQemuTranslationLog(text)).toMatchObject({ pc: '0x00400548', word: 0xf8e10001, block: 'main' });
  });

  test('another thread translated after the fault: the latest block ending in a suspect instruction wins', () => {
    const text =
      block('main', '0x00400544:  93407c21  sxtw     x1, w1', '0x00400548:  f8e10001  .byte    0x01, 0x00, 0xe1, 0xf8') +
      block('worker', '0x00401000:  d503201f  nop', '0x00401004:  d65f03c0  ret');
    expect(parseQemuTranslationLog(text)).toMatchObject({ pc: '0x00400548', block: 'main' });
  });

  test('with no suspect anywhere it is the last instruction of the last block', () => {
    const text = block('a', '0x00400544:  93407c21  sxtw     x1, w1') + block('b', '0x00401004:  d65f03c0  ret');
    expect(parseQemuTranslationLog(text)).toEqual({ pc: '0x00401004', word: 0xd65f03c0, text: 'ret', block: 'b' });
  });

  test('a disassembler that decodes the instruction (newer QEMU, capstone) still yields the word from the hex column', () => {
    const text = block('main', '0x00400548:  f8e10001  ldaddal  x1, x1, [x0]');
    expect(parseQemuTranslationLog(text)).toMatchObject({ word: 0xf8e10001, text: 'ldaddal  x1, x1, [x0]' });
  });

  test('host code of other -d items (out_asm) is not read as guest instructions', () => {
    const text = `${block('main', '0x00400548:  f8e10001  .byte    0x01, 0x00, 0xe1, 0xf8')}OUT: [size=64]\n0x7f0000001000:  deadbeef  movq     %rax, %rbx\n`;
    expect(parseQemuTranslationLog(text)).toMatchObject({ pc: '0x00400548', word: 0xf8e10001 });
  });

  test('only the tail of a much larger log', () => {
    const big = block('start', ...Array.from({ length: 5000 }, (_, i) => `0x${(0x400000 + i * 4).toString(16).padStart(8, '0')}:  d503201f  nop`));
    const tail = fixture('lse-cortex-a53.txt');
    expect(parseQemuTranslationLog(big + tail)).toMatchObject({ pc: '0x00400548', word: 0xf8e10001 });
  });
});

describe('oldestPassing', () => {
  const runs = (verdicts: Record<string, string>): Array<{ model: string; verdict: string }> =>
    Object.entries(verdicts).map(([m, verdict]) => ({ model: m, verdict }));
  const names = (r: { baseline?: CpuModel; failsOn: CpuModel[] }) => ({ baseline: r.baseline?.name, failsOn: r.failsOn.map((m) => m.name) });

  test('an LSE image: fails on ARMv8.0, runs from Graviton2 on', () => {
    const r = oldestPassing(runs({ max: 'ok', 'cortex-a53': 'illegal-instruction', 'neoverse-n1': 'ok', 'cortex-a72': 'illegal-instruction', a64fx: 'ok' }));
    expect(names(r)).toEqual({ baseline: 'neoverse-n1', failsOn: ['cortex-a53', 'cortex-a72'] });
  });

  test('passing everywhere: the oldest model is the baseline', () => {
    expect(names(oldestPassing(runs({ 'cortex-a53': 'ok', 'cortex-a72': 'pass', 'neoverse-n1': 'ok', max: 'ok' })))).toEqual({
      baseline: 'cortex-a53',
      failsOn: [],
    });
  });

  test('a newer model that failed vetoes the older ones it covers', () => {
    expect(names(oldestPassing(runs({ 'cortex-a53': 'ok', 'cortex-a72': 'timeout', 'neoverse-n1': 'ok', max: 'ok' })))).toEqual({
      baseline: 'neoverse-n1',
      failsOn: ['cortex-a72'],
    });
    expect(names(oldestPassing(runs({ 'cortex-a53': 'ok', 'neoverse-n1': 'ok', max: 'segfault' })))).toEqual({
      baseline: undefined,
      failsOn: ['max'],
    });
  });

  test('a64fx failing (it lacks DotProd) does not move a Graviton2 baseline, and is still reported', () => {
    const r = oldestPassing(runs({ 'cortex-a53': 'illegal-instruction', 'cortex-a72': 'illegal-instruction', 'neoverse-n1': 'ok', a64fx: 'illegal-instruction', max: 'ok' }));
    expect(names(r)).toEqual({ baseline: 'neoverse-n1', failsOn: ['cortex-a53', 'cortex-a72', 'a64fx'] });
  });

  test('an SVE image: only the SVE models pass', () => {
    const r = oldestPassing(runs({ 'cortex-a53': 'illegal-instruction', 'cortex-a72': 'illegal-instruction', 'neoverse-n1': 'illegal-instruction', a64fx: 'ok', max: 'ok' }));
    expect(names(r)).toEqual({ baseline: 'a64fx', failsOn: ['cortex-a53', 'cortex-a72', 'neoverse-n1'] });
  });

  test('a model that ran twice passes only if both runs passed; unknown names and no runs', () => {
    expect(names(oldestPassing(runs({ 'cortex-a53': 'ok', max: 'ok' }).concat({ model: 'cortex-a53', verdict: 'timeout' })))).toEqual({
      baseline: 'max',
      failsOn: ['cortex-a53'],
    });
    expect(names(oldestPassing([{ model: 'cortex-a76', verdict: 'ok' }]))).toEqual({ baseline: undefined, failsOn: [] });
    expect(oldestPassing([])).toEqual({ failsOn: [] });
  });
});
