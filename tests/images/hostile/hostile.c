/*
 * pare-test/hostile: a deliberately malicious but harmless program for
 * pare's containment tests. See README.md beside this file.
 *
 *   hostile                  attempts, one JSON line each on stdout, then
 *                            serve them over HTTP on $PORT (default 8084)
 *   hostile attempts         attempts only, then exit 0
 *   hostile forkbomb [MAX]   fork until fork fails (or MAX, default 4096)
 *   hostile fill-disk SIZE   write zeros to /tmp/fill up to SIZE bytes
 *                            (suffix K, M or G) or an error, then remove it
 *
 * Every attempt is a probe or a marker: nothing outside /.pare/out and /tmp
 * is written, nothing is deleted; each attempt runs in a child process of
 * its own so that namespace changes, mounts and ptrace links end with it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CANARY "pare-hostile-canary"
#define ADDED "pare-hostile-added"
#define OUT "/.pare/out"
#define MNT "/tmp/pare-hostile-mnt"
#define DEFAULT_PORT 8084
#define DEFAULT_FORKS 4096

struct result {
    char name[32];
    int ok;
    int err; /* errno of the failing step; 0 if ok */
    char detail[400];
};

/* ---- result helpers ---------------------------------------------------- */

static void detail(struct result *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

/* Record a failed step: errno now, and what was tried. */
static void fail(struct result *r, const char *what) {
    r->ok = 0;
    r->err = errno;
    detail(r, "%s: %s", what, strerror(errno));
}

static void succeed(struct result *r, const char *fmt, ...) {
    va_list ap;
    r->ok = 1;
    r->err = 0;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

/* Append s to buf (of size n, at *len) as a JSON string body. */
static void json_escape(char *buf, size_t n, size_t *len, const char *s) {
    for (; *s && *len + 7 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[(*len)++] = '\\';
            buf[(*len)++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            *len += (size_t)snprintf(buf + *len, n - *len, "\\u%04x", c);
        } else {
            buf[(*len)++] = (char)c;
        }
    }
    buf[*len] = '\0';
}

static void append(char *buf, size_t n, size_t *len, const char *s) {
    size_t l = strlen(s);
    if (*len + l >= n)
        l = n - *len - 1;
    memcpy(buf + *len, s, l);
    *len += l;
    buf[*len] = '\0';
}

/* {"attempt":...,"ok":...,"errno":...,"detail":...} */
static void result_json(const struct result *r, char *buf, size_t n) {
    size_t len = 0;
    buf[0] = '\0';
    append(buf, n, &len, "{\"attempt\":\"");
    json_escape(buf, n, &len, r->name);
    append(buf, n, &len, r->ok ? "\",\"ok\":true,\"errno\":" : "\",\"ok\":false,\"errno\":");
    if (r->err) {
        const char *e = strerrorname_np(r->err);
        char num[16];
        if (!e) {
            snprintf(num, sizeof num, "%d", r->err);
            e = num;
        }
        append(buf, n, &len, "\"");
        json_escape(buf, n, &len, e);
        append(buf, n, &len, "\"");
    } else {
        append(buf, n, &len, "null");
    }
    append(buf, n, &len, ",\"detail\":\"");
    json_escape(buf, n, &len, r->detail);
    append(buf, n, &len, "\"}");
}

static long sys_keyctl(long cmd, long a, long b, long c, long d) {
    return syscall(SYS_keyctl, cmd, a, b, c, d);
}

static void mkdir_mnt(void) {
    if (mkdir(MNT, 0700) && errno != EEXIST)
        perror("mkdir " MNT);
}

/* ---- attempts ---------------------------------------------------------- */

static void a_keyctl_read_session(struct result *r) {
    char payload[256];
    long id = sys_keyctl(KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, (long)"user", (long)CANARY, 0);
    if (id < 0)
        return fail(r, "keyctl(KEYCTL_SEARCH, session, \"user\", \"" CANARY "\")");
    long n = sys_keyctl(KEYCTL_READ, id, (long)payload, sizeof payload - 1, 0);
    if (n < 0)
        return fail(r, "keyctl(KEYCTL_READ)");
    payload[n < (long)sizeof payload ? n : (long)sizeof payload - 1] = '\0';
    succeed(r, "key %ld, %ld bytes: %s", id, n, payload);
}

static void a_add_key(struct result *r) {
    static const char payload[] = "planted by pare-test/hostile";
    long id = syscall(SYS_add_key, "user", ADDED, payload, sizeof payload - 1, KEY_SPEC_SESSION_KEYRING);
    if (id < 0)
        return fail(r, "add_key(\"user\", \"" ADDED "\", session)");
    succeed(r, "key %ld added to the session keyring", id);
}

static void a_unshare_user(struct result *r) {
    if (unshare(CLONE_NEWUSER))
        return fail(r, "unshare(CLONE_NEWUSER)");
    succeed(r, "new user namespace");
}

static void a_unshare_ns_mount(struct result *r) {
    mkdir_mnt();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
        return fail(r, "unshare(CLONE_NEWUSER|CLONE_NEWNS)");
    if (mount("pare-hostile", MNT, "tmpfs", 0, "size=1m"))
        return fail(r, "unshare ok; mount tmpfs on " MNT);
    succeed(r, "new user+mount namespace, tmpfs mounted on " MNT " in it");
}

static void a_clone_newns(struct result *r) {
    long pid = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0)
        return fail(r, "clone(CLONE_NEWNS)");
    if (pid == 0)
        _exit(0);
    waitpid((pid_t)pid, NULL, 0);
    succeed(r, "child %ld in a new mount namespace", pid);
}

static void a_mount_tmpfs(struct result *r) {
    mkdir_mnt();
    if (mount("pare-hostile", MNT, "tmpfs", 0, "size=1m"))
        return fail(r, "mount tmpfs on " MNT);
    if (umount2(MNT, MNT_DETACH))
        return succeed(r, "mounted tmpfs on " MNT "; umount failed: %s", strerror(errno));
    succeed(r, "mounted (and unmounted) tmpfs on " MNT);
}

static void a_setns(struct result *r) {
    char self[64] = "?", one[64] = "?";
    ssize_t n;
    if ((n = readlink("/proc/self/ns/mnt", self, sizeof self - 1)) >= 0)
        self[n] = '\0';
    if ((n = readlink("/proc/1/ns/mnt", one, sizeof one - 1)) >= 0)
        one[n] = '\0';
    const char *same = strcmp(self, one) ? "another" : "our own";
    int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(r, "open /proc/1/ns/mnt");
    if (setns(fd, CLONE_NEWNS)) {
        fail(r, "setns(/proc/1/ns/mnt)");
        size_t l = strlen(r->detail);
        snprintf(r->detail + l, sizeof r->detail - l, " (pid 1 is in %s mount namespace)", same);
        return;
    }
    succeed(r, "joined pid 1's mount namespace (%s, %s)", one, same);
}

static void a_io_uring_setup(struct result *r) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    long fd = syscall(SYS_io_uring_setup, 4, &p);
    if (fd < 0)
        return fail(r, "io_uring_setup(4)");
    close((int)fd);
    succeed(r, "io_uring fd %ld", fd);
}

static void a_bpf_map_create(struct result *r) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    if (fd < 0)
        return fail(r, "bpf(BPF_MAP_CREATE, array)");
    close((int)fd);
    succeed(r, "bpf map fd %ld", fd);
}

static void a_perf_event_open(struct result *r) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd < 0)
        return fail(r, "perf_event_open(software cpu-clock, self)");
    close((int)fd);
    succeed(r, "perf event fd %ld", fd);
}

static void a_keyctl(struct result *r) {
    long id = sys_keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
    if (id < 0)
        return fail(r, "keyctl(KEYCTL_GET_KEYRING_ID, session)");
    char desc[200] = "";
    long n = sys_keyctl(KEYCTL_DESCRIBE, id, (long)desc, sizeof desc - 1, 0);
    if (n < 0)
        snprintf(desc, sizeof desc, "(describe: %s)", strerror(errno));
    desc[sizeof desc - 1] = '\0';
    succeed(r, "session keyring %ld: %s", id, desc);
}

static void a_userfaultfd(struct result *r) {
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return fail(r, "userfaultfd()");
    close((int)fd);
    succeed(r, "userfaultfd fd %ld", fd);
}

static void a_af_packet(struct result *r) {
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0)
        return fail(r, "socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)");
    close(fd);
    succeed(r, "packet socket opened (nothing read or sent)");
}

static void a_raw_icmp(struct result *r) {
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0)
        return fail(r, "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)");
    close(fd);
    succeed(r, "raw ICMP socket opened (nothing sent)");
}

static void a_host_loopback(struct result *r) {
    const char *env = getenv("PARE_HOSTILE_HOST_PORT");
    int port = env && *env ? atoi(env) : 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(r, "socket(AF_INET, SOCK_STREAM)");
    char what[64];
    snprintf(what, sizeof what, "connect 127.0.0.1:%d", port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) && errno != EINPROGRESS) {
        fail(r, what);
        close(fd);
        return;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int n = poll(&pfd, 1, 2000);
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (n == 0) {
        errno = ETIMEDOUT;
        fail(r, what);
    } else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl)) {
        fail(r, what);
    } else if (soerr) {
        errno = soerr;
        fail(r, what);
    } else {
        succeed(r, "connected to 127.0.0.1:%d", port);
    }
    close(fd);
}

static void a_ptrace_pid1(struct result *r) {
    /* PTRACE_SEIZE: the permission check of PTRACE_ATTACH without stopping
     * pid 1; the link ends when this child exits. */
    if (ptrace(PTRACE_SEIZE, 1, 0, 0))
        return fail(r, "ptrace(PTRACE_SEIZE, 1)");
    succeed(r, "ptrace link to pid 1 (seized, not stopped; released on exit)");
}

static void a_proc1_mem(struct result *r) {
    int fd = open("/proc/1/mem", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(r, "open /proc/1/mem");
    close(fd);
    succeed(r, "opened /proc/1/mem for reading (nothing read)");
}

static void a_proc1_root(struct result *r) {
    DIR *d = opendir("/proc/1/root" OUT);
    if (!d)
        return fail(r, "opendir /proc/1/root" OUT);
    char names[300] = "";
    size_t len = 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        count++;
        if (len + strlen(e->d_name) + 2 < sizeof names)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? "," : "", e->d_name);
    }
    closedir(d);
    succeed(r, "%d entries: %s", count, names);
}

static void a_proc_keys(struct result *r) {
    FILE *f = fopen("/proc/keys", "re");
    if (!f)
        return fail(r, "open /proc/keys");
    char line[512];
    int lines = 0, canary = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        if (strstr(line, CANARY))
            canary = 1;
    }
    fclose(f);
    succeed(r, "%d keys listed; canary %s", lines, canary ? "listed" : "not listed");
}

/* The report channel: /.pare/out is where pare's tracer writes its report. */
static int have_out(struct result *r) {
    struct stat st;
    if (stat(OUT, &st)) {
        fail(r, "stat " OUT);
        return 0;
    }
    return 1;
}

static void a_pare_out_mkdir_tmp(struct result *r) {
    if (!have_out(r))
        return;
    if (mkdir(OUT "/.report.json.tmp", 0755))
        return fail(r, "mkdir " OUT "/.report.json.tmp");
    succeed(r, "made " OUT "/.report.json.tmp");
}

static void a_pare_out_forge(struct result *r) {
    static const char forged[] =
        "{\"forged_by\":\"pare-test/hostile\",\"files\":[\"/etc/shadow\"],\"exit_code\":0}\n";
    if (!have_out(r))
        return;
    int fd = open(OUT "/report.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return fail(r, "open " OUT "/report.json for writing");
    ssize_t n = write(fd, forged, sizeof forged - 1);
    if (n < 0) {
        fail(r, "write " OUT "/report.json");
        close(fd);
        return;
    }
    close(fd);
    succeed(r, "wrote %zd bytes to " OUT "/report.json", n);
}

/* Make TMP (by make()) and rename it over /.pare/out/report.json. */
static void replace_report(struct result *r, const char *tmp, int (*make)(const char *), const char *what) {
    if (!have_out(r))
        return;
    if (make(tmp))
        return fail(r, what);
    if (rename(tmp, OUT "/report.json")) {
        fail(r, "rename over " OUT "/report.json");
        unlink(tmp);
        return;
    }
    succeed(r, "%s, renamed over " OUT "/report.json", what);
}

static int make_symlink(const char *path) { return symlink("/etc/shadow", path); }
static int make_fifo(const char *path) { return mkfifo(path, 0644); }

static void a_pare_out_symlink(struct result *r) {
    replace_report(r, OUT "/.hostile-link", make_symlink, "symlink -> /etc/shadow");
}

static void a_pare_out_fifo(struct result *r) {
    replace_report(r, OUT "/.hostile-fifo", make_fifo, "mkfifo");
}

static const struct {
    const char *name;
    void (*fn)(struct result *);
} ATTEMPTS[] = {
    {"keyctl_read_session", a_keyctl_read_session},
    {"add_key", a_add_key},
    {"unshare_user", a_unshare_user},
    {"unshare_ns_mount", a_unshare_ns_mount},
    {"clone_newns", a_clone_newns},
    {"mount_tmpfs", a_mount_tmpfs},
    {"setns", a_setns},
    {"io_uring_setup", a_io_uring_setup},
    {"bpf_map_create", a_bpf_map_create},
    {"perf_event_open", a_perf_event_open},
    {"keyctl", a_keyctl},
    {"userfaultfd", a_userfaultfd},
    {"af_packet", a_af_packet},
    {"raw_icmp", a_raw_icmp},
    {"host_loopback", a_host_loopback},
    {"ptrace_pid1", a_ptrace_pid1},
    {"proc1_mem", a_proc1_mem},
    {"proc1_root", a_proc1_root},
    {"proc_keys", a_proc_keys},
    {"pare_out_mkdir_tmp", a_pare_out_mkdir_tmp},
    {"pare_out_forge", a_pare_out_forge},
    {"pare_out_symlink", a_pare_out_symlink},
    {"pare_out_fifo", a_pare_out_fifo},
};
#define N_ATTEMPTS (sizeof ATTEMPTS / sizeof ATTEMPTS[0])

static struct result RESULTS[N_ATTEMPTS];

/* Run one attempt in a child; its result comes back through a pipe. */
static void run_attempt(size_t i, struct result *r) {
    int fds[2];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", ATTEMPTS[i].name);
    if (pipe2(fds, O_CLOEXEC))
        return fail(r, "pipe (harness)");
    pid_t pid = fork();
    if (pid < 0) {
        fail(r, "fork (harness)");
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        alarm(10);
        ATTEMPTS[i].fn(r);
        ssize_t w = write(fds[1], r, sizeof *r);
        _exit(w == (ssize_t)sizeof *r ? 0 : 1);
    }
    close(fds[1]);
    struct result got;
    ssize_t n;
    do
        n = read(fds[0], &got, sizeof got);
    while (n < 0 && errno == EINTR);
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n == (ssize_t)sizeof got) {
        *r = got;
    } else if (WIFSIGNALED(status)) {
        r->ok = 0;
        r->err = 0;
        detail(r, "attempt killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else {
        r->ok = 0;
        r->err = 0;
        detail(r, "attempt exited with status %d and no result", WEXITSTATUS(status));
    }
}

static void run_attempts(void) {
    char line[1024];
    for (size_t i = 0; i < N_ATTEMPTS; i++) {
        run_attempt(i, &RESULTS[i]);
        result_json(&RESULTS[i], line, sizeof line);
        printf("%s\n", line);
        fflush(stdout);
    }
}

/* ---- HTTP -------------------------------------------------------------- */

static volatile sig_atomic_t stopping;
static void on_stop(int sig) {
    (void)sig;
    stopping = 1;
}

static void respond(int fd, int status, const char *reason, const char *body) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, reason, strlen(body));
    if (write(fd, head, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
        perror("write response");
}

static void serve(void) {
    static char attempts_body[N_ATTEMPTS * 1024 + 64];
    size_t len = 0;
    char line[1024];
    append(attempts_body, sizeof attempts_body, &len, "{\"attempts\":[");
    for (size_t i = 0; i < N_ATTEMPTS; i++) {
        result_json(&RESULTS[i], line, sizeof line);
        if (i)
            append(attempts_body, sizeof attempts_body, &len, ",");
        append(attempts_body, sizeof attempts_body, &len, line);
    }
    append(attempts_body, sizeof attempts_body, &len, "]}\n");

    const char *env = getenv("PORT");
    int port = env && *env ? atoi(env) : DEFAULT_PORT;
    int one = 1;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(s, (struct sockaddr *)&sa, sizeof sa) || listen(s, 16)) {
        perror("listen");
        exit(1);
    }
    /* A client that connects and hangs up at once (a readiness check) must not kill
     * the server when it answers: write errors instead of SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    /* PID 1 ignores SIGTERM unless it has a handler. */
    struct sigaction act = {.sa_handler = on_stop};
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    fprintf(stderr, "pare-test/hostile listening on %d\n", port);
    while (!stopping) {
        int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue; /* EINTR on SIGTERM: the loop test ends it */
        struct timeval tv = {.tv_sec = 5};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char req[4096];
        size_t got = 0;
        while (got < sizeof req - 1) {
            ssize_t n = read(c, req + got, sizeof req - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        req[got] = '\0';
        char method[8] = "", path[256] = "";
        if (sscanf(req, "%7s %255s", method, path) != 2)
            respond(c, 400, "Bad Request", "{\"error\":\"bad request\"}\n");
        else if (strcmp(method, "GET") && strcmp(method, "HEAD"))
            respond(c, 405, "Method Not Allowed", "{\"error\":\"method not allowed\"}\n");
        else if (!strcmp(path, "/"))
            respond(c, 200, "OK", attempts_body);
        else if (!strcmp(path, "/health"))
            respond(c, 200, "OK", "{\"status\":\"ok\"}\n");
        else
            respond(c, 404, "Not Found", "{\"error\":\"not found\"}\n");
        close(c);
    }
    close(s);
}

/* ---- forkbomb, fill-disk ----------------------------------------------- */

static int forkbomb(long max) {
    pid_t *pids = calloc((size_t)max, sizeof *pids);
    long n = 0;
    int err = 0;
    if (!pids)
        return 1;
    while (n < max) {
        pid_t pid = fork();
        if (pid < 0) {
            err = errno;
            break;
        }
        if (pid == 0) {
            /* Die with the parent; otherwise sleep until killed. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            sleep(30);
            _exit(0);
        }
        pids[n++] = pid;
    }
    printf("{\"mode\":\"forkbomb\",\"forked\":%ld,\"max\":%ld,\"stopped_by\":\"%s\"}\n", n, max,
           err ? strerrorname_np(err) : "max");
    fflush(stdout);
    sleep(3);
    for (long i = 0; i < n; i++)
        kill(pids[i], SIGKILL);
    for (long i = 0; i < n; i++)
        waitpid(pids[i], NULL, 0);
    free(pids);
    return 0;
}

static long long parse_size(const char *s) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0)
        return -1;
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    }
    return *end ? -1 : v;
}

static int fill_disk(long long size) {
    static char zeros[1 << 20];
    long long written = 0;
    int err = 0;
    int fd = open("/tmp/fill", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        err = errno;
    } else {
        while (written < size) {
            size_t chunk = size - written < (long long)sizeof zeros ? (size_t)(size - written) : sizeof zeros;
            ssize_t n = write(fd, zeros, chunk);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                err = errno;
                break;
            }
            written += n;
        }
        if (!err && fsync(fd))
            err = errno;
        close(fd);
        unlink("/tmp/fill");
    }
    printf("{\"mode\":\"fill-disk\",\"requested\":%lld,\"written\":%lld,\"ok\":%s,\"errno\":", size, written,
           err ? "false" : "true");
    if (err)
        printf("\"%s\"}\n", strerrorname_np(err));
    else
        printf("null}\n");
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: hostile [attempts | forkbomb [MAX] | fill-disk SIZE]\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc == 1) {
        run_attempts();
        serve();
        return 0;
    }
    if (!strcmp(argv[1], "attempts") && argc == 2) {
        run_attempts();
        return 0;
    }
    if (!strcmp(argv[1], "forkbomb") && argc <= 3) {
        long max = argc == 3 ? strtol(argv[2], NULL, 10) : DEFAULT_FORKS;
        return max > 0 ? forkbomb(max) : usage();
    }
    if (!strcmp(argv[1], "fill-disk") && argc == 3) {
        long long size = parse_size(argv[2]);
        return size >= 0 ? fill_disk(size) : usage();
    }
    return usage();
}
