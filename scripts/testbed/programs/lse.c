/*
 * Uses an ARMv8.1 LSE atomic (ldaddal) when built with -march=armv8.2-a -mno-outline-atomics: runs on
 * neoverse-n1 (ARMv8.2) and dies with SIGILL on cortex-a53 (ARMv8.0). The ISA sweep's reference binary.
 */
#include <stdio.h>
long counter = 40;
int main(int argc, char **argv) {
  (void)argv;
  long before = __atomic_fetch_add(&counter, argc + 1, __ATOMIC_SEQ_CST);
  printf("lse ok %ld -> %ld\n", before, counter);
  return 0;
}
