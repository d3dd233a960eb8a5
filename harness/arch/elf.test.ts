import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { bufferSource, ElfFormatError, loadsOnPageSize, readElf } from './elf.ts';
import { pageSizeFromAuxv } from './host.ts';

describe('ELF reader on bad input', () => {
  test('non-ELF and truncated files are refused with the reason', async () => {
    await expect(readElf(bufferSource(Buffer.from('#!/bin/sh\necho hi\n')))).rejects.toThrow(/not an ELF file/);
    await expect(readElf(bufferSource(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])))).rejects.toThrow(ElfFormatError);
  });

  test('program headers past the end of the file are refused', async () => {
    // The first 64 bytes of this very Node binary, without the rest of the file.
    const head = readFileSync(process.execPath).subarray(0, 64);
    await expect(readElf(bufferSource(head))).rejects.toThrow(/past the end of the file/);
  });

  test('page-size compatibility follows the smallest PT_LOAD alignment', () => {
    expect(loadsOnPageSize({ loadAlign: { min: 4096, max: 4096 } }, 65536)).toBe(false);
    expect(loadsOnPageSize({ loadAlign: { min: 65536, max: 65536 } }, 65536)).toBe(true);
    expect(loadsOnPageSize({ loadAlign: { min: 65536, max: 65536 } }, 4096)).toBe(true);
  });
});

describe('kernel page size from the auxiliary vector', () => {
  test('this process: AT_PAGESZ is present and a power of two', () => {
    const size = pageSizeFromAuxv(readFileSync('/proc/self/auxv'));
    expect(size).toBeGreaterThanOrEqual(4096);
    expect(Math.log2(size!) % 1).toBe(0);
  });

  test('finds AT_PAGESZ among other entries and stops at AT_NULL', () => {
    const v = Buffer.alloc(16 * 4);
    v.writeBigUInt64LE(33n, 0); // AT_SYSINFO_EHDR
    v.writeBigUInt64LE(0x7fffn, 8);
    v.writeBigUInt64LE(6n, 16); // AT_PAGESZ
    v.writeBigUInt64LE(65536n, 24);
    expect(pageSizeFromAuxv(v, 64, true)).toBe(65536);
    expect(pageSizeFromAuxv(Buffer.alloc(32), 64, true)).toBeUndefined();
  });
});
