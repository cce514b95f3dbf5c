/* Prints which libc.so.6 the dynamic loader gave this program, then starts and joins two threads
 * (with --no-threads it stops after the first line). Under qemu-aarch64 it checks the tests'
 * qemu command (TERN_AARCH64_RUN): the cross sysroot's ld.so must get the sysroot's libc even
 * where the host has another arm64 libc, since with a libc of another glibc build the first
 * pthread_create never returns (docs/reliability.md, "The aarch64 hang"). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *worker(void *arg) { return arg; }

int main(int argc, char **argv) {
  Dl_info info;
  if (!dladdr((void *)&gnu_get_libc_version, &info) || !info.dli_fname) {
    printf("libc: unknown\n");
    return 1;
  }
  printf("libc: %s\n", info.dli_fname);
  fflush(stdout);
  if (argc > 1 && strcmp(argv[1], "--no-threads") == 0)
    return 0;
  pthread_t threads[2];
  for (long i = 0; i < 2; ++i)
    if (pthread_create(&threads[i], NULL, worker, (void *)i) != 0) {
      printf("threads: pthread_create failed\n");
      return 1;
    }
  for (int i = 0; i < 2; ++i)
    pthread_join(threads[i], NULL);
  printf("threads: 2 joined\n");
  return 0;
}
