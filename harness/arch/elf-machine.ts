/**
 * ELF e_machine numbers → OCI architecture names. Shared by the ELF reader and the binfmt_misc parser
 * (a qemu handler's magic is an ELF header prefix whose bytes 18–19 hold e_machine).
 * Numbers from the System V gABI / glibc elf.h (EM_*).
 */
export const ELF_MACHINES: Readonly<Record<number, { arch: string; name: string }>> = {
  3: { arch: '386', name: 'i386' },
  8: { arch: 'mips', name: 'mips' },
  20: { arch: 'ppc', name: 'ppc' },
  21: { arch: 'ppc64', name: 'ppc64' }, // ppc64le when little-endian
  22: { arch: 's390x', name: 's390x' },
  40: { arch: 'arm', name: 'arm' },
  62: { arch: 'amd64', name: 'x86_64' },
  183: { arch: 'arm64', name: 'aarch64' },
  243: { arch: 'riscv64', name: 'riscv64' }, // riscv32 when ELFCLASS32
  258: { arch: 'loong64', name: 'loongarch64' },
};

/** Architecture of an ELF file from its machine number, class and byte order. */
export function archOfMachine(machine: number, bits: 32 | 64, endian: 'little' | 'big'): { arch: string; name: string } {
  const known = ELF_MACHINES[machine];
  if (!known) return { arch: `unknown(${machine})`, name: `EM_${machine}` };
  if (machine === 21 && endian === 'little') return { arch: 'ppc64le', name: 'ppc64le' };
  if (machine === 243 && bits === 32) return { arch: 'riscv32', name: 'riscv32' };
  if (machine === 8 && bits === 64) return { arch: endian === 'little' ? 'mips64le' : 'mips64', name: 'mips64' };
  return known;
}
