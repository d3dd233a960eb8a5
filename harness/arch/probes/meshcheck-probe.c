/*
 * meshcheck-probe: a tiny static program built for every architecture meshcheck checks
 * (scripts/build-probes.ts → dist/probes/linux-<arch>/meshcheck-probe). Run natively it tells what the kernel
 * offers; run as a foreign binary it goes through binfmt_misc, so it tells what the emulator passes on. That
 * difference is the point: user-mode QEMU 7.2 answers ENOPROTOOPT / EPROTONOSUPPORT for socket calls a mesh
 * data plane needs, whatever the host kernel could do.
 *
 *   meshcheck-probe caps     one JSON line: {"machine": uname -m, "checks": [{name, ok, errno, code, error}]}
 *   meshcheck-probe spin N   a fixed integer workload of N steps; prints its result (CPU emulation cost)
 *   meshcheck-probe true     exits 0 at once (process start cost)
 *
 * Static, no dependencies beyond libc, so it runs in an empty container and under qemu-user without a sysroot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <netinet/in.h>
#include <unistd.h>

/* The kernel's numbers, spelled out so the probe does not depend on which netfilter headers a sysroot ships. */
#ifndef SOL_IP
#define SOL_IP 0
#endif
#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT 19 /* include/uapi/linux/in.h */
#endif
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80 /* include/uapi/linux/netfilter_ipv4.h */
#endif
#ifndef SO_MARK
#define SO_MARK 36 /* include/uapi/asm-generic/socket.h */
#endif
#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif
#define NETLINK_NETFILTER 12 /* include/uapi/linux/netlink.h */

/*
 * errno numbers differ between architectures (mips, sparc, alpha, parisc), so the probe also prints the name,
 * taken from the target's own <errno.h>. The caller judges by name, not by number.
 */
static const char *errno_name(int e) {
  switch (e) {
    case 0: return "";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ENOSYS: return "ENOSYS";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOENT: return "ENOENT";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ENOTCONN: return "ENOTCONN";
    case EBADF: return "EBADF";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    default: return "";
  }
}

/* strerror text is plain ASCII from glibc, but escape it anyway so the line is always valid JSON. */
static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static int first_check = 1;

static void report(const char *name, int err) {
  printf("%s{\"name\":", first_check ? "" : ",");
  first_check = 0;
  json_string(name);
  printf(",\"ok\":%s,\"errno\":%d,\"code\":", err == 0 ? "true" : "false", err);
  json_string(errno_name(err));
  printf(",\"error\":");
  json_string(err == 0 ? "" : strerror(err));
  putchar('}');
}

/* Each check gets a fresh socket, so no call's outcome depends on another's (e.g. a mark already set). */
static int inet_socket(int *err) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  *err = fd < 0 ? errno : 0;
  return fd;
}

static int check_setsockopt(int level, int option) {
  int err;
  int fd = inet_socket(&err);
  if (fd < 0) return err;
  int one = 1;
  err = setsockopt(fd, level, option, &one, sizeof one) == 0 ? 0 : errno;
  close(fd);
  return err;
}

static int check_original_dst(void) {
  int err;
  int fd = inet_socket(&err);
  if (fd < 0) return err;
  struct sockaddr_in dst;
  socklen_t len = sizeof dst;
  memset(&dst, 0, sizeof dst);
  /* On a fresh socket a kernel with the option answers ENOENT (no conntrack entry): the option exists. */
  err = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &len) == 0 ? 0 : errno;
  close(fd);
  return err;
}

static int check_netfilter_netlink(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

static int caps(void) {
  struct utsname u;
  if (uname(&u) != 0) strcpy(u.machine, "unknown");
  printf("{\"machine\":");
  json_string(u.machine);
  printf(",\"checks\":[");
  report("IP_TRANSPARENT", check_setsockopt(SOL_IP, IP_TRANSPARENT));
  report("SO_ORIGINAL_DST", check_original_dst());
  report("SO_MARK", check_setsockopt(SOL_SOCKET, SO_MARK));
  report("NETLINK_NETFILTER", check_netfilter_netlink());
  printf("]}\n");
  return fflush(stdout) == 0 ? 0 : 1;
}

/*
 * The workload: xorshift64 (Marsaglia 2003) drives loads and stores into a 64 KiB table and a call through a
 * table of four functions. A pure shift/xor loop translates almost one-to-one under QEMU's TCG (measured 1.1x
 * here), which would understate emulation; servers such as Envoy spend their time in loads, stores and indirect
 * calls (virtual dispatch), and TCG resolves every indirect branch through a lookup helper. Each step depends on
 * the last and the count comes from argv, so the compiler cannot fold or vectorise the loop; the printed result
 * keeps it live.
 */
typedef unsigned long long u64;
static u64 table[8192];
__attribute__((noinline)) static u64 mix0(u64 x) { return x * 0xBF58476D1CE4E5B9ULL; }
__attribute__((noinline)) static u64 mix1(u64 x) { return x ^ (x >> 31); }
__attribute__((noinline)) static u64 mix2(u64 x) { return x + 0x9E3779B97F4A7C15ULL; }
__attribute__((noinline)) static u64 mix3(u64 x) { return (x << 7) | (x >> 57); }
static u64 (*const mixers[4])(u64) = {mix0, mix1, mix2, mix3};

static int spin(const char *arg) {
  char *end;
  errno = 0;
  u64 n = strtoull(arg, &end, 10);
  if (errno || *end || end == arg || arg[0] == '-') {
    fprintf(stderr, "meshcheck-probe: spin needs a non-negative integer, got \"%s\"\n", arg);
    return 2;
  }
  u64 x = 0x9E3779B97F4A7C15ULL, acc = 0;
  for (u64 i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    u64 *slot = &table[x & 8191];
    *slot += x;
    acc += mixers[(x >> 20) & 3](*slot);
  }
  printf("%llu\n", acc ^ x);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "caps") == 0) return caps();
  if (argc >= 3 && strcmp(argv[1], "spin") == 0) return spin(argv[2]);
  if (argc >= 2 && strcmp(argv[1], "true") == 0) return 0;
  fprintf(stderr, "usage: meshcheck-probe caps | spin N | true\n");
  return 2;
}
