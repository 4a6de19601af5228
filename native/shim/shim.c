/*
 * mini-docker-shim: the small piece of C between Node.js and the kernel.
 *
 * Why it exists: Node is multithreaded, and the kernel refuses unshare(CLONE_NEWUSER) and
 * setns() into a mount namespace from a threaded process; and no JavaScript can run between
 * fork() and exec(). runc solves the same problem for Go with nsexec. This shim is a generic
 * executor of a list of operations that TypeScript prepares (lib/engine/runtime/ops.ts): it
 * knows no images, no cgroups and no networks, only syscalls.
 *
 * Protocol (see lib/engine/runtime/shim.ts):
 *   fd 3 (in)  the operation list, one per line, fields separated by TAB, ended by "end";
 *              later the single line "go" (or EOF to abort).
 *   fd 4 (out) status lines: "pid N", "started", "error CODE MESSAGE", "exit N".
 *
 * Lines of the list:
 *   option NAME VALUE        debug, stdin, tty, clone (namespace flags, decimal),
 *                            detach (stay as the monitor), log PATH, exitfile PATH,
 *                            join PID (exec: enter PID's namespaces and fork instead of clone)
 *   onexit ARGV...           what the monitor executes after the container exited
 *   host OP ARGS...          run in the shim itself, before clone (e.g. its own mount ns)
 *   child OP ARGS...         run in the container's process after "go", ending with exec
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <linux/close_range.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <grp.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CONFIG_FD 3
#define STATUS_FD 4
#define MAX_OPS 512
#define MAX_ARGS 256
#define MAX_ENV 512

struct op {
  int argc;
  char **argv; /* argv[0] is the operation's name */
};

static struct op host_ops[MAX_OPS], child_ops[MAX_OPS];
static int n_host, n_child;
static int opt_debug, opt_stdin, opt_tty, opt_detach;
static unsigned long opt_clone;
static pid_t opt_join;
static char *opt_log, *opt_exitfile;
static char *onexit[MAX_ARGS + 1];
static int n_onexit;
static int log_fd = -1;
static int engine_mnt_ns = -1; /* the mount namespace the shim was started in */
static int out_pipe[2] = {-1, -1}, errout_pipe[2] = {-1, -1}, in_pipe[2] = {-1, -1};
static char *env[MAX_ENV + 1];
static int n_env;

static pid_t child_pid = -1;
static int sync_pipe[2], err_pipe[2], sig_pipe[2];
static int pty_master = -1;
static int console_sock[2] = {-1, -1};
static struct termios saved_termios;
static int termios_saved;

static char *title_start;
static size_t title_len;
static char label[64]; /* which container: the engine passes its short ID as argv[1] */

/* ---- small helpers --------------------------------------------------------------------- */

static void status_line(const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  if (write(STATUS_FD, buf, n) < 0) { /* Node went away: nothing to tell */ }
}

static void explain(const char *fmt, ...) {
  if (!opt_debug) return;
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  dprintf(STDERR_FILENO, "[explain] %-12s %s\n", "shim", buf);
}

/* What `ps` shows for this process: which stage of starting a container it is in. */
static void set_stage(const char *stage) {
  char comm[16];
  snprintf(comm, sizeof comm, "shim:%s", stage);
  prctl(PR_SET_NAME, comm, 0, 0, 0);
  if (title_start) {
    memset(title_start, 0, title_len);
    snprintf(title_start, title_len, "mini-docker-shim [%s]: %s", label, stage);
  }
}

static void restore_terminal(void) {
  if (termios_saved) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
  termios_saved = 0;
}

/* ---- parsing the operation list -------------------------------------------------------- */

static char *unescape(char *s) {
  char *r = s, *w = s;
  while (*r) {
    if (*r == '\\' && r[1]) {
      r++;
      *w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r;
      r++;
    } else {
      *w++ = *r++;
    }
  }
  *w = 0;
  return s;
}

static int split(char *line, char **fields, int max) {
  int n = 0;
  char *p = line;
  while (n < max) {
    fields[n++] = p;
    char *tab = strchr(p, '\t');
    if (!tab) break;
    *tab = 0;
    p = tab + 1;
  }
  for (int i = 0; i < n; i++) unescape(fields[i]);
  return n;
}

/* Reads one line from fd (unbuffered, so that nothing after it is consumed). */
static char *read_line(int fd) {
  size_t cap = 256, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (len == 0) { free(buf); return NULL; }
      break;
    }
    if (c == '\n') break;
    if (len + 2 > cap) buf = realloc(buf, cap *= 2);
    buf[len++] = c;
  }
  buf[len] = 0;
  return buf;
}

/* The whole list, read in large chunks: nothing follows "end" until the shim has answered with
 * "pid N", so reading up to the end of what is there never swallows the later "go". */
static char *read_list(int fd) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 4096 > cap) buf = realloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += r;
    buf[len] = 0;
    if ((len >= 5 && strcmp(buf + len - 5, "\nend\n") == 0) || strcmp(buf, "end\n") == 0) return buf;
  }
  buf[len] = 0;
  return buf;
}

static int read_config(void) {
  char *text = read_list(CONFIG_FD), *next = text, *line;
  while (next && *next) {
    line = next;
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    next = nl ? nl + 1 : NULL;
    if (strcmp(line, "end") == 0) return 0;
    char *f[MAX_ARGS + 2];
    int n = split(line, f, MAX_ARGS + 1);
    if (strcmp(f[0], "option") == 0 && n == 3) {
      if (!strcmp(f[1], "debug")) opt_debug = atoi(f[2]);
      else if (!strcmp(f[1], "stdin")) opt_stdin = atoi(f[2]);
      else if (!strcmp(f[1], "tty")) opt_tty = atoi(f[2]);
      else if (!strcmp(f[1], "clone")) opt_clone = strtoul(f[2], NULL, 10);
      else if (!strcmp(f[1], "detach")) opt_detach = atoi(f[2]);
      else if (!strcmp(f[1], "join")) opt_join = atoi(f[2]);
      else if (!strcmp(f[1], "log")) opt_log = f[2];
      else if (!strcmp(f[1], "exitfile")) opt_exitfile = f[2];
      continue;
    }
    if (strcmp(f[0], "onexit") == 0) {
      for (int i = 1; i < n && n_onexit < MAX_ARGS; i++) onexit[n_onexit++] = f[i];
      continue;
    }
    struct op *list = NULL;
    int *count = NULL;
    if (!strcmp(f[0], "host")) list = host_ops, count = &n_host;
    else if (!strcmp(f[0], "child")) list = child_ops, count = &n_child;
    if (!list || n < 2 || *count >= MAX_OPS) {
      status_line("error 125 shim: bad line in operation list: %s", f[0]);
      return -1;
    }
    struct op *op = &list[(*count)++];
    op->argc = n - 1;
    op->argv = calloc(n, sizeof(char *));
    for (int i = 1; i < n; i++) op->argv[i - 1] = f[i];
  }
  status_line("error 125 shim: operation list ended without \"end\"");
  return -1;
}

/* ---- the operations -------------------------------------------------------------------- */

static const struct { unsigned long flag; const char *name; } mount_flags[] = {
  {MS_RDONLY, "MS_RDONLY"}, {MS_NOSUID, "MS_NOSUID"}, {MS_NODEV, "MS_NODEV"},
  {MS_NOEXEC, "MS_NOEXEC"}, {MS_REMOUNT, "MS_REMOUNT"}, {MS_BIND, "MS_BIND"},
  {MS_MOVE, "MS_MOVE"}, {MS_REC, "MS_REC"}, {MS_PRIVATE, "MS_PRIVATE"},
  {MS_SLAVE, "MS_SLAVE"}, {MS_SHARED, "MS_SHARED"}, {MS_STRICTATIME, "MS_STRICTATIME"},
  {MS_NOATIME, "MS_NOATIME"},
};
static const struct { unsigned long flag; const char *name; } clone_flags[] = {
  {CLONE_NEWNS, "CLONE_NEWNS"}, {CLONE_NEWUTS, "CLONE_NEWUTS"}, {CLONE_NEWIPC, "CLONE_NEWIPC"},
  {CLONE_NEWUSER, "CLONE_NEWUSER"}, {CLONE_NEWPID, "CLONE_NEWPID"}, {CLONE_NEWNET, "CLONE_NEWNET"},
  {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
};

static const char *flag_names(unsigned long flags, int clone) {
  static char buf[512];
  buf[0] = 0;
  size_t n = clone ? sizeof clone_flags / sizeof *clone_flags : sizeof mount_flags / sizeof *mount_flags;
  for (size_t i = 0; i < n; i++) {
    unsigned long f = clone ? clone_flags[i].flag : mount_flags[i].flag;
    if (flags & f) {
      if (buf[0]) strcat(buf, "|");
      strcat(buf, clone ? clone_flags[i].name : mount_flags[i].name);
      flags &= ~f;
    }
  }
  if (flags) snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s0x%lx", buf[0] ? "|" : "", flags);
  if (!buf[0]) strcpy(buf, "0");
  return buf;
}

static const char *nul(const char *s) { return s && *s ? s : NULL; }
static const char *q(const char *s) {
  static char bufs[4][4200];
  static int i;
  char *b = bufs[i++ % 4];
  if (!nul(s)) return "NULL";
  snprintf(b, sizeof bufs[0], "\"%s\"", s);
  return b;
}

/* Failure inside an operation: message for the person, docker's exit code. */
static char fail_msg[2048];
static int fail_code;
static int fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(fail_msg, sizeof fail_msg, fmt, ap);
  va_end(ap);
  fail_code = code;
  return -1;
}
#define SYSFAIL(what, ...) fail(125, what ": %s", ##__VA_ARGS__, strerror(errno))

static int path_exists(const char *p) {
  struct stat st;
  return lstat(p, &st) == 0;
}

/* exec with docker's rules: a name without '/' is searched in the container's $PATH. */
/* #region lesson-01-exec */
static int do_exec(struct op *op) {
  const char *file = op->argv[1];
  char **argv = &op->argv[1];
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (int i = 0; i < n_env; i++)
    if (!strncmp(env[i], "PATH=", 5)) path = env[i] + 5;
  explain("execve(%s) with %d environment variables", q(file), n_env);
  set_stage("exec");
  if (strchr(file, '/')) {
    execve(file, argv, env);
    if (errno == ENOENT) return fail(127, "exec: \"%s\": stat %s: no such file or directory", file, file);
    if (errno == EACCES) return fail(126, "exec: \"%s\": permission denied", file);
    return fail(126, "exec: \"%s\": %s", file, strerror(errno));
  }
  int saw_eacces = 0;
  char candidate[4096];
  for (const char *p = path; *p;) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    snprintf(candidate, sizeof candidate, "%.*s/%s", (int)len, len ? p : ".", file);
    execve(candidate, argv, env);
    if (errno == EACCES) saw_eacces = 1;
    else if (errno != ENOENT && errno != ENOTDIR)
      return fail(126, "exec: \"%s\": %s", file, strerror(errno));
    p = colon ? colon + 1 : p + len;
  }
  if (saw_eacces) return fail(126, "exec: \"%s\": permission denied", file);
  return fail(127, "exec: \"%s\": executable file not found in $PATH", file);
}
/* #endregion lesson-01-exec */

/* The container's terminal comes from its own devpts (like runc's console socket): a pty made
 * on the host's devpts would be a name that does not exist inside, and `tty` would say
 * "not a tty". The master end goes to the shim over a socket, as SCM_RIGHTS. */
static int make_console(void) {
  explain("open(\"/dev/ptmx\"); send the master to the shim; the slave becomes fds 0, 1, 2");
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return SYSFAIL("open /dev/ptmx");
  char name[128];
  if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0) return SYSFAIL("unlock the pty");
  int slave = open(name, O_RDWR | O_NOCTTY);
  if (slave < 0) return SYSFAIL("open %s", name);
  if (ioctl(slave, TIOCSCTTY, 0) < 0) return SYSFAIL("make %s the controlling terminal", name);
  char byte = 'c';
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  if (sendmsg(console_sock[1], &msg, 0) < 0) return SYSFAIL("send the terminal to the shim");
  close(master);
  close(console_sock[1]);
  dup2(slave, 0), dup2(slave, 1), dup2(slave, 2);
  if (slave > 2) close(slave);
  return 0;
}

static int receive_console(void) {
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  ssize_t r;
  do r = recvmsg(console_sock[0], &msg, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
  struct cmsghdr *c = r > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1; /* the child failed before: its error says why */
  memcpy(&pty_master, CMSG_DATA(c), sizeof(int));
  return 0;
}

static int run_op(struct op *op) {
  const char *name = op->argv[0];
  char **a = op->argv;
  int n = op->argc;
#define NEED(k) if (n < (k) + 1) return fail(125, "shim: %s needs %d arguments", name, k)

  if (!strcmp(name, "unshare")) {
    NEED(1);
    unsigned long flags = strtoul(a[1], NULL, 10);
    explain("unshare(%s)", flag_names(flags, 1));
    if (unshare(flags) < 0) return SYSFAIL("unshare(%s)", flag_names(flags, 1));
  } else if (!strcmp(name, "private")) {
    NEED(1);
    explain("mount(NULL, %s, NULL, MS_REC|MS_PRIVATE, NULL)  -- stop mount events leaking to or from the host", q(a[1]));
    if (mount(NULL, a[1], NULL, MS_REC | MS_PRIVATE, NULL) < 0) return SYSFAIL("make %s private", a[1]);
  } else if (!strcmp(name, "mount") || !strcmp(name, "mount-if-exists")) {
    NEED(5);
    unsigned long flags = strtoul(a[4], NULL, 10);
    if (name[5] && !path_exists(a[2])) return 0;
    explain("mount(%s, %s, %s, %s, %s)", q(a[1]), q(a[2]), q(a[3]), flag_names(flags, 0), q(a[5]));
    if (mount(nul(a[1]), a[2], nul(a[3]), flags, nul(a[5])) < 0)
      return SYSFAIL("mount %s on %s (type %s)", a[1], a[2], a[3]);
    /* A bind mount ignores MS_RDONLY and friends until it is remounted (mount(2), "Creating a bind mount"). */
    if ((flags & MS_BIND) && (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))) {
      unsigned long rf = MS_BIND | MS_REMOUNT | (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_REC));
      /* Keep the flags the mount already has: in a user namespace they are locked, and a
       * remount that drops one fails with EPERM (mount_namespaces(7), "locked mounts"). */
      struct statvfs sv;
      if (statvfs(a[2], &sv) == 0) {
        if (sv.f_flag & ST_NOSUID) rf |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV) rf |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC) rf |= MS_NOEXEC;
        if (sv.f_flag & ST_RDONLY) rf |= MS_RDONLY;
      }
      explain("mount(NULL, %s, NULL, %s, NULL)", q(a[2]), flag_names(rf, 0));
      if (mount(NULL, a[2], NULL, rf, NULL) < 0) return SYSFAIL("remount %s", a[2]);
    }
  } else if (!strcmp(name, "mkdir")) {
    NEED(2);
    explain("mkdir(%s, 0%s)", q(a[1]), a[2]);
    if (mkdir(a[1], strtoul(a[2], NULL, 8)) < 0 && errno != EEXIST) return SYSFAIL("mkdir %s", a[1]);
  } else if (!strcmp(name, "touch")) {
    NEED(1);
    explain("open(%s, O_CREAT)", q(a[1]));
    int fd = open(a[1], O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno != EEXIST && errno != EISDIR) return SYSFAIL("create %s", a[1]);
    if (fd >= 0) close(fd);
  } else if (!strcmp(name, "symlink")) {
    NEED(2);
    explain("symlink(%s, %s)", q(a[1]), q(a[2]));
    if (symlink(a[1], a[2]) < 0 && errno != EEXIST) return SYSFAIL("symlink %s", a[2]);
  } else if (!strcmp(name, "pivot_root")) {
    NEED(1);
    /* #region lesson-03-shim-pivot-root */
    /* pivot_root(".", ".") (pivot_root(2), NOTES): the old root ends up mounted on top of the
     * new one, so no put_old directory has to be created in the image; unmounting "." then
     * detaches the old root, and with it every path back to the host's files. */
    explain("chdir(%s)", q(a[1]));
    if (chdir(a[1]) < 0) return SYSFAIL("chdir %s", a[1]);
    explain("pivot_root(\".\", \".\")");
    if (syscall(SYS_pivot_root, ".", ".") < 0) return SYSFAIL("pivot_root to %s", a[1]);
    explain("umount2(\".\", MNT_DETACH)  -- the host's tree is gone from here on");
    if (umount2(".", MNT_DETACH) < 0) return SYSFAIL("unmount the old root");
    /* #endregion lesson-03-shim-pivot-root */
    if (chdir("/") < 0) return SYSFAIL("chdir /");
  } else if (!strcmp(name, "chroot")) {
    NEED(1);
    /* #region lesson-02-shim-chroot */
    explain("chroot(%s); chdir(\"/\")", q(a[1]));
    if (chroot(a[1]) < 0) return SYSFAIL("chroot %s", a[1]);
    if (chdir("/") < 0) return SYSFAIL("chdir /");
    /* #endregion lesson-02-shim-chroot */
  } else if (!strcmp(name, "chdir")) {
    NEED(1);
    explain("chdir(%s)", q(a[1]));
    if (chdir(a[1]) < 0) return SYSFAIL("chdir to working directory %s", a[1]);
  } else if (!strcmp(name, "sethostname")) {
    NEED(1);
    explain("sethostname(%s)", q(a[1]));
    if (sethostname(a[1], strlen(a[1])) < 0) return SYSFAIL("sethostname %s", a[1]);
  } else if (!strcmp(name, "ifup")) {
    NEED(1);
    /* The loopback of a new network namespace starts down (network_namespaces(7)). */
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", a[1]);
    int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    explain("ioctl(SIOCSIFFLAGS, %s, IFF_UP)", q(a[1]));
    if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr) < 0) return SYSFAIL("read flags of %s", a[1]);
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0) return SYSFAIL("bring %s up", a[1]);
    close(sk);
  } else if (!strcmp(name, "console")) {
    return make_console();
  } else if (!strcmp(name, "setgroups")) {
    gid_t groups[MAX_ARGS];
    for (int i = 1; i < n; i++) groups[i - 1] = strtoul(a[i], NULL, 10);
    explain("setgroups(%d groups)", n - 1);
    if (setgroups(n - 1, groups) < 0) return SYSFAIL("setgroups");
  } else if (!strcmp(name, "setgid")) {
    NEED(1);
    gid_t g = strtoul(a[1], NULL, 10);
    explain("setresgid(%s, %s, %s)", a[1], a[1], a[1]);
    if (setresgid(g, g, g) < 0) return SYSFAIL("setgid %s", a[1]);
  } else if (!strcmp(name, "setuid")) {
    NEED(1);
    uid_t u = strtoul(a[1], NULL, 10);
    explain("setresuid(%s, %s, %s)", a[1], a[1], a[1]);
    if (setresuid(u, u, u) < 0) return SYSFAIL("setuid %s", a[1]);
  } else if (!strcmp(name, "env")) {
    NEED(1);
    if (n_env >= MAX_ENV) return fail(125, "too many environment variables");
    env[n_env++] = a[1];
    env[n_env] = NULL;
  } else if (!strcmp(name, "exec")) {
    NEED(1);
    return do_exec(op);
  } else {
    return fail(125, "shim: unknown operation %s", name);
  }
  return 0;
}

static int run_ops(struct op *ops, int count) {
  for (int i = 0; i < count; i++)
    if (run_op(&ops[i]) < 0) return -1;
  return 0;
}

/* ---- the container's process ----------------------------------------------------------- */

static void child_report_and_exit(void) {
  char buf[2200];
  int len = snprintf(buf, sizeof buf, "%d %s", fail_code, fail_msg);
  if (write(err_pipe[1], buf, len) < 0) { /* parent gone */ }
  _exit(fail_code ? fail_code : 125);
}

static int child_main(void *arg) {
  (void)arg;
  close(sync_pipe[1]);
  close(err_pipe[0]);
  close(sig_pipe[0]);
  close(sig_pipe[1]);
  if (console_sock[0] >= 0) close(console_sock[0]);
  /* #region lesson-08-wait-go */
  set_stage("wait-go");
  char go = 0;
  ssize_t r;
  do r = read(sync_pipe[0], &go, 1); while (r < 0 && errno == EINTR);
  if (r != 1 || go != 'g') _exit(125); /* the engine aborted the start */
  close(sync_pipe[0]);
  /* #endregion lesson-08-wait-go */
  set_stage("setup");

  /* A session of its own: signals typed at the host's terminal are forwarded by the shim, not
   * delivered twice. With a tty, the pty becomes the controlling terminal (op "console"). */
  setsid();
  if (out_pipe[1] >= 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(errout_pipe[1], STDERR_FILENO);
  }
  if (in_pipe[0] >= 0) dup2(in_pipe[0], STDIN_FILENO);
  else if (!opt_tty && (!opt_stdin || opt_detach)) {
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0), close(null);
  }
  /* Whatever the engine's caller left open (a shell's pipe, a terminal fd) is no business of the
   * container: every fd from 3 up closes at exec (close_range(2); runc does the same). */
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3; fd < 1024; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  /* Ignored signals stay ignored across exec: give the command the defaults. */
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  run_ops(child_ops, n_child); /* returns only on failure (the last op is exec) */
  if (!fail_code) fail(125, "shim: the operation list has no exec");
  child_report_and_exit();
  return 125;
}

/* ---- the shim's own process ------------------------------------------------------------ */

static void on_signal(int sig) {
  int saved = errno;
  if (sig != SIGCHLD && sig != SIGWINCH && child_pid > 0) kill(child_pid, sig);
  unsigned char b = sig;
  if (write(sig_pipe[1], &b, 1) < 0) { /* pipe full: a wakeup is already pending */ }
  errno = saved;
}

static void copy_winsize(void) {
  struct winsize ws;
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ioctl(pty_master, TIOCSWINSZ, &ws);
}

/* #region lesson-01-exit-code */
static int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}
/* #endregion lesson-01-exit-code */

static int write_all(int fd, const char *buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    buf += w, n -= w;
  }
  return 0;
}

/* ---- the monitor of a detached container: logs and exit status ------------------------- */

/* RFC 3339 with nanoseconds, UTC, as docker's json-file log driver writes it. */
static void now_rfc3339(char *out, size_t n) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + k, n - k, ".%09ldZ", ts.tv_nsec);
}

/* #region lesson-11-log-record */
/* One json-lines record: {"log":"...","stream":"stdout","time":"..."} */
static void log_record(const char *stream, const char *data, size_t len) {
  if (log_fd < 0) return;
  char *out = malloc(len * 6 + 128), *w = out, t[64];
  w += sprintf(w, "{\"log\":\"");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = data[i];
    if (c == '"' || c == '\\') *w++ = '\\', *w++ = c;
    else if (c == '\n') *w++ = '\\', *w++ = 'n';
    else if (c == '\r') *w++ = '\\', *w++ = 'r';
    else if (c == '\t') *w++ = '\\', *w++ = 't';
    else if (c < 0x20 || c == 0x7f) w += sprintf(w, "\\u%04x", c);
    else *w++ = c;
  }
  now_rfc3339(t, sizeof t);
  w += sprintf(w, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, t);
  write_all(log_fd, out, w - out);
  free(out);
}
/* #endregion lesson-11-log-record */

/* Output arrives in chunks; the log holds lines (a partial line waits for the rest, up to 16 KiB,
 * as docker splits long lines). */
struct line_buf { const char *stream; char buf[16384]; size_t len; };
static struct line_buf out_lines = {.stream = "stdout"}, err_lines = {.stream = "stderr"};

static void log_chunk(struct line_buf *lb, const char *data, size_t len) {
  for (size_t i = 0; i < len; i++) {
    lb->buf[lb->len++] = data[i];
    if (data[i] == '\n' || lb->len == sizeof lb->buf) {
      log_record(lb->stream, lb->buf, lb->len);
      lb->len = 0;
    }
  }
}

static void log_flush(struct line_buf *lb) {
  if (lb->len) log_record(lb->stream, lb->buf, lb->len);
  lb->len = 0;
}

/* #region lesson-11-exit-file */
static void write_exit_file(int code) {
  if (!opt_exitfile) return;
  char tmp[4200], t[64], body[256];
  snprintf(tmp, sizeof tmp, "%s.tmp", opt_exitfile);
  now_rfc3339(t, sizeof t);
  int n = snprintf(body, sizeof body, "{\"exitCode\":%d,\"finishedAt\":\"%s\"}\n", code, t);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  write_all(fd, body, n);
  close(fd);
  rename(tmp, opt_exitfile); /* atomic: readers see no file or the whole record */
}
/* #endregion lesson-11-exit-file */

/* Waits for the container's process: relays its terminal in the foreground, or, detached,
 * keeps its output in the log. */
static int supervise(void) {
  int status = 0, done = 0;
  int relay_stdin = opt_tty && opt_stdin && !opt_detach;
  char buf[16384];
  set_stage(opt_detach ? "monitor" : "running");
  if (opt_tty && !opt_detach) {
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
      struct termios raw = saved_termios;
      cfmakeraw(&raw);
      termios_saved = 1;
      atexit(restore_terminal);
      tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    copy_winsize();
  }
  int out = out_pipe[0], err = errout_pipe[0];
  for (;;) {
    struct pollfd fds[5];
    int nfds = 0, master_i = -1, stdin_i = -1, out_i = -1, err_i = -1;
    fds[nfds++] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
    if (pty_master >= 0) master_i = nfds, fds[nfds++] = (struct pollfd){.fd = pty_master, .events = POLLIN};
    if (relay_stdin) stdin_i = nfds, fds[nfds++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
    if (out >= 0) out_i = nfds, fds[nfds++] = (struct pollfd){.fd = out, .events = POLLIN};
    if (err >= 0) err_i = nfds, fds[nfds++] = (struct pollfd){.fd = err, .events = POLLIN};
    /* After the exit, read what is left: stop at the first quiet moment. */
    if (done && master_i < 0 && out_i < 0 && err_i < 0) break;
    int ready = poll(fds, nfds, done ? 100 : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (done && ready == 0) break;
    if (fds[0].revents & POLLIN) {
      unsigned char sigs[64];
      ssize_t k = read(sig_pipe[0], sigs, sizeof sigs);
      for (ssize_t i = 0; i < k; i++)
        if (sigs[i] == SIGWINCH && opt_tty && !opt_detach) copy_winsize();
    }
    if (!done && waitpid(child_pid, &status, WNOHANG) == child_pid) done = 1;
    if (master_i >= 0 && fds[master_i].revents) {
      ssize_t k = read(pty_master, buf, sizeof buf);
      if (k > 0) {
        if (opt_detach) log_chunk(&out_lines, buf, k);
        else write_all(STDOUT_FILENO, buf, k);
      } else if (!(k < 0 && errno == EINTR)) {
        close(pty_master); /* EIO: every slave end is closed */
        pty_master = -1;
      }
    }
    if (out_i >= 0 && fds[out_i].revents) {
      ssize_t k = read(out, buf, sizeof buf);
      if (k > 0) log_chunk(&out_lines, buf, k);
      else if (!(k < 0 && errno == EINTR)) close(out), out = -1;
    }
    if (err_i >= 0 && fds[err_i].revents) {
      ssize_t k = read(err, buf, sizeof buf);
      if (k > 0) log_chunk(&err_lines, buf, k);
      else if (!(k < 0 && errno == EINTR)) close(err), err = -1;
    }
    if (stdin_i >= 0 && fds[stdin_i].revents) {
      ssize_t k = read(STDIN_FILENO, buf, sizeof buf);
      if (k > 0) write_all(pty_master, buf, k);
      else if (k == 0 || errno != EINTR) relay_stdin = 0;
    }
  }
  log_flush(&out_lines);
  log_flush(&err_lines);
  restore_terminal();
  return exit_code_of(status);
}

/* #region lesson-11-join */
/* exec: enter the namespaces of a running container's process. The user namespace comes first:
 * it gives the capabilities the others then ask for (setns(2)). The pid namespace applies to
 * children, hence the fork afterwards. */
static int join_namespaces(pid_t target) {
  static const struct { const char *name; int type; } order[] = {
    {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
    {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
  };
  int fds[7];
  for (int i = 0; i < 7; i++) {
    char path[64], self[64];
    struct stat a, b;
    snprintf(path, sizeof path, "/proc/%d/ns/%s", target, order[i].name);
    snprintf(self, sizeof self, "/proc/self/ns/%s", order[i].name);
    fds[i] = -1;
    if (stat(path, &a) < 0) {
      if (errno == ENOENT && i == 0) return fail(125, "container process %d is gone", target);
      continue;
    }
    if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue; /* shared */
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) return SYSFAIL("open %s", path);
  }
  for (int i = 0; i < 7; i++) {
    if (fds[i] < 0) continue;
    explain("setns(open(\"/proc/%d/ns/%s\"), CLONE_NEW%s)", target, order[i].name,
            order[i].type == CLONE_NEWNS ? "NS" : order[i].type == CLONE_NEWUSER ? "USER" :
            order[i].type == CLONE_NEWIPC ? "IPC" : order[i].type == CLONE_NEWUTS ? "UTS" :
            order[i].type == CLONE_NEWNET ? "NET" : order[i].type == CLONE_NEWPID ? "PID" : "CGROUP");
    if (setns(fds[i], order[i].type) < 0) return SYSFAIL("join the %s namespace of %d", order[i].name, target);
    close(fds[i]);
  }
  return 0;
}
/* #endregion lesson-11-join */

static int make_pipes(void) {
  if (!opt_detach) return 0;
  if (opt_log) {
    log_fd = open(opt_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (log_fd < 0) return SYSFAIL("open log file %s", opt_log);
  }
  if (!opt_tty && (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(errout_pipe, O_CLOEXEC) < 0))
    return SYSFAIL("pipe");
  /* -d -i: stdin stays open (a pipe the monitor holds), as docker keeps it for attach. */
  if (!opt_tty && opt_stdin && pipe2(in_pipe, O_CLOEXEC) < 0) return SYSFAIL("pipe");
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1) {
    snprintf(label, sizeof label, "%s", argv[1]);
    char *space = strchr(label, ' ');
    if (space) *space = 0;
  }
  if (argc > 0) {
    title_start = argv[0];
    title_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) - argv[0]);
  }
  if (fcntl(CONFIG_FD, F_GETFD) < 0 || fcntl(STATUS_FD, F_GETFD) < 0) {
    fprintf(stderr, "mini-docker-shim: this program is started by mini-docker, with its operation list on fd 3 and a status pipe on fd 4\n");
    return 125;
  }
  fcntl(CONFIG_FD, F_SETFD, FD_CLOEXEC);
  fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN); /* the engine may be gone when the monitor reports */
  set_stage("config");
  if (read_config() < 0) return 125;
  engine_mnt_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);

  if (run_ops(host_ops, n_host) < 0 || make_pipes() < 0 || (opt_join && join_namespaces(opt_join) < 0)) {
    status_line("error %d %s", fail_code, fail_msg);
    return fail_code;
  }
  if (opt_tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console_sock) < 0) {
    status_line("error 125 socketpair: %s", strerror(errno));
    return 125;
  }
  if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0 || pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
    status_line("error 125 pipe: %s", strerror(errno));
    return 125;
  }

  if (opt_join) {
    explain("fork()  -- the child is born in the joined pid namespace");
    set_stage("fork");
    child_pid = fork();
    if (child_pid == 0) _exit(child_main(NULL));
  } else {
    /* #region lesson-08-clone */
    const size_t stack_size = 1 << 20;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    explain("clone(%s|SIGCHLD)", flag_names(opt_clone, 1));
    set_stage("clone");
    child_pid = clone(child_main, stack + stack_size, (int)opt_clone | SIGCHLD, NULL);
    /* #endregion lesson-08-clone */
  }
  if (child_pid < 0) {
    status_line("error 125 %s: %s", opt_join ? "fork" : "clone", strerror(errno));
    return 125;
  }
  close(sync_pipe[0]);
  close(err_pipe[1]);
  if (console_sock[1] >= 0) close(console_sock[1]);
  if (out_pipe[1] >= 0) close(out_pipe[1]), close(errout_pipe[1]);
  if (in_pipe[0] >= 0) close(in_pipe[0]);

  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH};
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaction(forwarded[i], &sa, NULL);

  /* #region lesson-08-go */
  status_line("pid %d", child_pid);
  set_stage("parent-setup");
  /* The engine now sets up what must be done from outside (id maps, cgroup, network). */
  char *line = read_line(CONFIG_FD);
  if (!line || strcmp(line, "go") != 0) {
    kill(child_pid, SIGKILL);
    waitpid(child_pid, NULL, 0);
    return 125;
  }
  free(line);
  explain("write(sync pipe, \"g\")  -- the child may go on");
  if (write(sync_pipe[1], "g", 1) != 1) {
    status_line("error 125 sync pipe: %s", strerror(errno));
    return 125;
  }
  close(sync_pipe[1]);
  /* #endregion lesson-08-go */
  if (opt_tty) {
    receive_console();
    close(console_sock[0]);
  }

  /* The error pipe is close-on-exec: EOF means the command was executed. */
  char msg[2300];
  ssize_t len = 0, r;
  while ((r = read(err_pipe[0], msg + len, sizeof msg - 1 - len)) > 0 || (r < 0 && errno == EINTR))
    if (r > 0) len += r;
  close(err_pipe[0]);
  if (len > 0) {
    msg[len] = 0;
    int status;
    while (waitpid(child_pid, &status, 0) < 0 && errno == EINTR) {}
    int code = atoi(msg);
    char *text = strchr(msg, ' ');
    status_line("error %d %s", code ? code : 125, text ? text + 1 : msg);
    return code ? code : 125;
  }
  /* #region lesson-11-monitor */
  status_line("started");
  if (opt_detach) {
    /* From here on nobody listens: the engine's CLI has returned. */
    close(CONFIG_FD);
    close(STATUS_FD);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2), close(null);
    if (chdir("/") < 0) { /* stay where we are */ }
  }
  int code = supervise();
  write_exit_file(code);
  if (!opt_detach) status_line("exit %d", code);
  if (n_onexit > 0) {
    /* The engine decides what an exit means (restart policies, --rm): hand over to it, back in
     * the engine's mount namespace -- in the shim's own, the rootfs overlay is still mounted. */
    set_stage("on-exit");
    if (engine_mnt_ns >= 0 && setns(engine_mnt_ns, CLONE_NEWNS) == 0 && chdir("/") == 0) execv(onexit[0], onexit);
  }
  /* #endregion lesson-11-monitor */
  return code;
}
