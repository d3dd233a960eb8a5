import { describe, expect, test } from 'vitest';
import { normalizeArch, normalizePlatform, parsePlatform, PlatformSyntaxError } from './platform.ts';

describe('platform normalisation', () => {
  test.each([
    ['aarch64', 'arm64'],
    ['x86_64', 'amd64'],
    ['x64', 'amd64'],
    ['ARM64', 'arm64'],
    ['armv7l', 'arm'],
    ['ppc64el', 'ppc64le'],
    ['riscv64', 'riscv64'],
  ])('%s → %s', (raw, norm) => expect(normalizeArch(raw)).toBe(norm));

  test.each([
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/aarch64', 'linux/arm64'],
    ['arm64', 'linux/arm64'],
    ['linux/arm64/v9', 'linux/arm64/v9'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/armv6l', 'linux/arm/v6'],
    ['Linux/X86_64', 'linux/amd64'],
  ])('%s → %s', (raw, norm) => expect(normalizePlatform(raw)).toBe(norm));

  test('bad platforms name themselves and the fix', () => {
    expect(() => parsePlatform('linux//arm64')).toThrow(PlatformSyntaxError);
    expect(() => parsePlatform('a/b/c/d')).toThrow(/os\/arch\[\/variant\], for example linux\/arm64/);
  });
});
