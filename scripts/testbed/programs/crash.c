/*
 * Dies the way a broken binary dies, for real: `crash segv|bus|ill|abort|ok`. The failure classifier's tests use
 * what the shell, Docker and QEMU print for these deaths.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "ok";
  if (strcmp(mode, "segv") == 0) {
    volatile int *p = (volatile int *)0;
    *p = 1;
  } else if (strcmp(mode, "bus") == 0) {
    /* Touching a mapping past the end of its file raises SIGBUS on every architecture. */
    char path[] = "/tmp/meshcheck-crash-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { perror("mkstemp"); return 2; }
    unlink(path);
    volatile char *m = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) { perror("mmap"); return 2; }
    m[0] = 1;
  } else if (strcmp(mode, "ill") == 0) {
#if defined(__x86_64__)
    __asm__ volatile("ud2");
#elif defined(__aarch64__)
    __asm__ volatile(".inst 0x00000000"); /* UDF #0 */
#endif
  } else if (strcmp(mode, "abort") == 0) {
    abort();
  }
  puts("crash: nothing happened");
  return 0;
}
