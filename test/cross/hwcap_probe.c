/* Prints the aarch64 CPU features that tern's kernel dispatch reads from getauxval(AT_HWCAP).
 * Cross-compiled and run under qemu-aarch64 with CPU models that have and lack dotprod, it checks
 * the facts the aarch64 tests rely on: `-cpu max` reports asimddp, `-cpu cortex-a53` does not. */
#include <stdio.h>
#include <sys/auxv.h>

#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif

int main(void) {
  unsigned long hwcap = getauxval(AT_HWCAP);
  printf("asimd=%d asimddp=%d\n", (hwcap & HWCAP_ASIMD) != 0, (hwcap & HWCAP_ASIMDDP) != 0);
  return 0;
}
