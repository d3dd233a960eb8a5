import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { handlersFor, parseBinfmtEntry } from './binfmt.ts';

// Read off /proc/sys/fs/binfmt_misc/qemu-aarch64 on the test bed (Debian 12 qemu-user-static, binfmt-support).
const debianAarch64 = readFileSync(new URL('./fixtures/binfmt-qemu-aarch64.txt', import.meta.url), 'utf8');

describe('binfmt_misc entries', () => {
  test("Debian's qemu-aarch64 handler: enabled, flags PF, takes 64-bit little-endian aarch64 ELF", () => {
    const h = parseBinfmtEntry('qemu-aarch64', debianAarch64);
    expect(h).toMatchObject({
      name: 'qemu-aarch64',
      enabled: true,
      interpreter: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P',
      rawFlags: 'PF',
      flags: { preserveArgv0: true, fixBinary: true, credentials: false, openBinary: false },
      offset: 0,
      arch: 'arm64',
      bits: 64,
      endian: 'little',
    });
  });

  test('a disabled handler applies to nothing; the global switch off disables all', () => {
    const off = parseBinfmtEntry('qemu-aarch64', debianAarch64.replace(/^enabled/, 'disabled'));
    expect(off.enabled).toBe(false);
    expect(handlersFor({ mounted: true, enabled: true, handlers: [off] }, 'arm64')).toEqual([]);
    const on = parseBinfmtEntry('qemu-aarch64', debianAarch64);
    expect(handlersFor({ mounted: true, enabled: true, handlers: [on] }, 'arm64')).toHaveLength(1);
    expect(handlersFor({ mounted: true, enabled: false, handlers: [on] }, 'arm64')).toEqual([]);
  });

  test('the masked e_machine byte decides the arch (tonistiigi/binfmt riscv64 layout)', () => {
    // Magic and mask as tonistiigi/binfmt registers qemu-riscv64 (EM_RISCV = 0xf3), flags POCF.
    const h = parseBinfmtEntry(
      'qemu-riscv64',
      [
        'enabled',
        'interpreter /usr/bin/qemu-riscv64',
        'flags: POCF',
        'offset 0',
        'magic 7f454c460201010000000000000000000200f300',
        'mask ffffffffffffff00fffffffffffffffffeffffff',
      ].join('\n'),
    );
    expect(h).toMatchObject({ arch: 'riscv64', flags: { fixBinary: true, openBinary: true, credentials: true } });
  });

  test('an extension handler has no arch', () => {
    const h = parseBinfmtEntry('jar', 'enabled\ninterpreter /usr/bin/jexec\nflags: \nextension .jar');
    expect(h.extension).toBe('.jar');
    expect(h.arch).toBeUndefined();
  });
});
