/* LD_PRELOAD test double for a disk that fills: write(2) and pwrite(2) to a file whose path ends with
 * $LOOM_TEST_ENOSPC_SUFFIX fail with ENOSPC once $LOOM_TEST_ENOSPC_WRITES_OK such calls have gone through (the
 * first failing call writes half its bytes, as a filling disk does; every later one fails). Used by the disk-full
 * integration test (tests/mpi/trust_test.py disk_full); never part of the product. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int matches(int fd) {
  const char* suffix = getenv("LOOM_TEST_ENOSPC_SUFFIX");
  if (!suffix || !*suffix) return 0;
  char link[64];
  char target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return 0;
  target[n] = '\0';
  const size_t length = strlen(suffix);
  return (size_t)n >= length && strcmp(target + n - length, suffix) == 0;
}

static long allowed(void) {
  const char* ok = getenv("LOOM_TEST_ENOSPC_WRITES_OK");
  return ok ? atol(ok) : 0;
}

static long calls = 0;
static int full = 0;

/* -1: pass the call through; else the number of bytes to write before failing (0: fail at once). */
static ssize_t budget(int fd, size_t size) {
  if (!matches(fd) || calls++ < allowed()) return -1;
  if (!full && size > 1) {
    full = 1;
    return (ssize_t)(size / 2);
  }
  return 0;
}

ssize_t write(int fd, const void* data, size_t size) {
  static ssize_t (*real)(int, const void*, size_t) = NULL;
  if (!real) real = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  const ssize_t n = budget(fd, size);
  if (n > 0) return real(fd, data, (size_t)n);
  if (n == 0) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, data, size);
}

ssize_t pwrite(int fd, const void* data, size_t size, off_t offset) {
  static ssize_t (*real)(int, const void*, size_t, off_t) = NULL;
  if (!real) real = (ssize_t(*)(int, const void*, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
  const ssize_t n = budget(fd, size);
  if (n > 0) return real(fd, data, (size_t)n, offset);
  if (n == 0) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, data, size, offset);
}
