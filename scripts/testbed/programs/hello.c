/* A minimal program: built static for arm64 at 4 KiB and 64 KiB max-page-size, and dynamic (PT_INTERP). */
#include <stdio.h>
int main(void) {
  puts("hello from meshcheck test bed");
  return 0;
}
