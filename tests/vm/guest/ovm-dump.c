/* ovm-dump OUTDIR [ARG...]: the payload of the round-trip case.
 * Creates OUTDIR and writes its whole argv (argv[0] included) to OUTDIR/argv
 * and its environment to OUTDIR/env, each string followed by a NUL byte,
 * then creates OUTDIR/done.  Built static on the host (gcc -static -O2). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int dump(const char *dir, const char *name, char **v) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  for (; v && *v; v++)
    if (write_all(fd, *v, strlen(*v) + 1) < 0) return -1;
  return close(fd);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) return 3;
  if (dump(argv[1], "argv", argv) < 0 || dump(argv[1], "env", environ) < 0) return 4;
  char *none[] = {NULL};
  if (dump(argv[1], "done", none) < 0) return 5;
  return 0;
}
