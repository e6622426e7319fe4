/* The operator's maintenance commands without sharp edges: listing the
 * snapshots (with and without a daemon), naming one by its seq or a unique
 * prefix of its id, a refused ambiguous prefix that names the candidates, and
 * a long operation that says it is still working on a terminal (only there). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/harness.h"

static struct oj_env e;

static void setup(void) { env_setup(&e, true); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

/* Takes a snapshot after one more change; its id (as printed) into id. */
static void snapshot_after_a_change(int n, char *id, size_t len)
{
    char lock[32];
    snprintf(lock, sizeof lock, "lock-%d", n);
    struct oj_out a = OJ(&e, "lock", "acquire", lock, "--holder", "me");
    cr_assert_eq(a.code, 0, "%s", a.err);
    struct oj_out s = OJ(&e, "maintenance", "snapshot");
    cr_assert_eq(s.code, 0, "%s", s.err);
    snprintf(id, len, "%.*s", (int)strcspn(s.out, "\n"), s.out);
    oj_out_free(&a);
    oj_out_free(&s);
}

static long long file_size(const char *id)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/.oj/snapshots/%s.json", e.dir, id);
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* `oj maintenance snapshots --json`: the ids, newest first, checked against
 * the files; returns how many. */
static int listed(char ids[][64], int max)
{
    struct oj_out o = OJ(&e, "maintenance", "snapshots", "--json");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j, "not JSON: %s", o.out);
    cJSON *list = cJSON_GetObjectItem(j, "snapshots");
    int n = 0;
    double prev_seq = 1e18;
    for (cJSON *s = list ? list->child : NULL; s && n < max; s = s->next, n++) {
        const char *id = cJSON_GetObjectItem(s, "id")->valuestring;
        double seq = cJSON_GetObjectItem(s, "sequence")->valuedouble;
        snprintf(ids[n], 64, "%s", id);
        cr_expect_lt(seq, prev_seq, "newest (highest seq) first: %s", o.out);
        prev_seq = seq;
        cr_expect_eq((long long)seq, atoll(id), "the seq is the id's: %s", id);
        cr_expect_eq((long long)cJSON_GetObjectItem(s, "bytes")->valuedouble, file_size(id),
                     "the size is the file's: %s", id);
        cr_expect_gt(cJSON_GetObjectItem(s, "time_ms")->valuedouble, 1.7e12, "%s", id);
    }
    cJSON_Delete(j);
    oj_out_free(&o);
    return n;
}

Test(maintenance, snapshots_are_listed_and_named_by_seq_or_unique_prefix, .init = setup,
     .fini = teardown, .timeout = 90)
{
    cr_assert_eq(env_start_daemon(&e), 0);
    struct oj_out o = OJ(&e, "maintenance", "snapshots");
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "no snapshots") != NULL, "%s", o.out);
    oj_out_free(&o);

    char taken[3][64];
    for (int i = 0; i < 3; i++)
        snapshot_after_a_change(i, taken[i], sizeof taken[i]);
    char ids[8][64];
    cr_assert_eq(listed(ids, 8), 3);
    for (int i = 0; i < 3; i++)
        cr_expect_str_eq(ids[i], taken[2 - i], "newest first");

    o = OJ(&e, "maintenance", "snapshots");
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "SEQ") && strstr(o.out, "SIZE") && strstr(o.out, taken[0]),
              "%s", o.out);
    cr_expect(strstr(o.out, taken[2]) < strstr(o.out, taken[0]), "newest first: %s", o.out);
    oj_out_free(&o);

    /* Every id starts with zeros: a prefix of all three names them all. */
    o = OJ(&e, "maintenance", "restore-snapshot", "--id", "0000", "--yes");
    cr_expect_eq(o.code, 2, "ambiguous: %s", o.err);
    cr_expect(strstr(o.err, "matches 3 snapshots") && strstr(o.err, taken[0]) &&
                  strstr(o.err, taken[1]) && strstr(o.err, taken[2]),
              "the candidates named: %s", o.err);
    oj_out_free(&o);

    /* The seq alone names the oldest of the three. */
    char seq[32];
    snprintf(seq, sizeof seq, "%lld", atoll(taken[0]));
    o = OJ(&e, "maintenance", "restore-snapshot", "--id", seq, "--yes");
    cr_expect_eq(o.code, 0, "by seq %s: %s", seq, o.err);
    char want[128];
    snprintf(want, sizeof want, "restored snapshot %s ", taken[0]);
    cr_expect(strstr(o.out, want) != NULL, "%s", o.out);
    oj_out_free(&o);

    /* A unique prefix of the whole id (the zeros and the seq, then the '-'). */
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%.21s", taken[1]);
    o = OJ(&e, "maintenance", "restore-snapshot", "--id", prefix, "--yes");
    cr_expect_eq(o.code, 0, "by prefix %s: %s", prefix, o.err);
    snprintf(want, sizeof want, "restored snapshot %s ", taken[1]);
    cr_expect(strstr(o.out, want) != NULL, "%s", o.out);
    oj_out_free(&o);

    o = OJ(&e, "maintenance", "restore-snapshot", "--id", "999999", "--yes");
    cr_expect_eq(o.code, 4, "%s", o.err);
    cr_expect(strstr(o.err, "oj maintenance snapshots") != NULL, "says how to list: %s", o.err);
    oj_out_free(&o);

    /* Without a daemon: the same list from disk, the same prefix rules. */
    char before[8][64];
    cr_assert_geq(listed(before, 8), 1);
    o = OJ(&e, "daemon", "stop");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    int stopped = listed(ids, 8);
    bool kept = false;
    for (int i = 0; i < stopped; i++)
        kept = kept || strcmp(ids[i], before[0]) == 0;
    cr_expect(kept, "the newest snapshot before the stop is listed after it: %s", before[0]);
    o = OJ(&e, "maintenance", "restore-snapshot", "--id", "0000", "--yes");
    cr_expect_eq(o.code, 2, "ambiguous offline too: %s", o.err);
    cr_expect(strstr(o.err, "give more of the id") != NULL, "%s", o.err);
    oj_out_free(&o);
    snprintf(seq, sizeof seq, "%lld", atoll(ids[stopped - 1]));
    o = OJ(&e, "maintenance", "restore-snapshot", "--id", seq, "--yes");
    cr_expect_eq(o.code, 0, "by seq offline: %s", o.err);
    snprintf(want, sizeof want, "restored snapshot %s ", ids[stopped - 1]);
    cr_expect(strstr(o.out, want) != NULL, "%s", o.out);
    oj_out_free(&o);
}

/* Restoring the newest snapshot right after it was taken drops nothing, and
 * says so plainly (it once read "no longer has no record written after it"). */
Test(maintenance, a_restore_that_drops_nothing_says_so_plainly, .init = setup, .fini = teardown)
{
    struct oj_out o = OJ(&e, "daemon", "start");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "maintenance", "snapshot");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "maintenance", "restore-snapshot", "--latest", "--yes");
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "nothing was written after it, so the live state lost nothing") &&
                  !strstr(o.out, "no longer has no"),
              "%s", o.out);
    oj_out_free(&o);
}

/* ---- progress on a terminal ------------------------------------------------------------- */

/* What `oj` wrote to its terminal (and, when piped, to its stderr pipe). */
struct tty_run {
    pid_t pid;
    int master; /* the pty: stdin, stdout and (unless piped) stderr */
    int err;    /* the read end of the stderr pipe, or -1 */
    char screen[65536];
    size_t nscreen;
    char piped[65536];
    size_t npiped;
};

/* Starts `oj -C <project> args...` on a new pty; with `pipe_stderr`, its
 * stderr goes to a pipe instead (what a script sees). */
static void start_on_a_tty(struct tty_run *t, char *const args[], bool pipe_stderr)
{
    memset(t, 0, sizeof *t);
    t->err = -1;
    int fds[2] = {-1, -1};
    if (pipe_stderr)
        cr_assert_eq(pipe(fds), 0);
    int slave;
    cr_assert_eq(openpty(&t->master, &slave, NULL, NULL, NULL), 0, "openpty: %s",
                 strerror(errno));
    t->pid = fork();
    cr_assert_geq(t->pid, 0);
    if (t->pid == 0) {
        setsid();
        ioctl(slave, TIOCSCTTY, 0);
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(pipe_stderr ? fds[1] : slave, 2);
        char *argv[16] = {e.oj, "-C", e.dir};
        int n = 3;
        for (int i = 0; args[i] && n < 15; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(e.oj, argv);
        _exit(127);
    }
    close(slave);
    if (pipe_stderr) {
        close(fds[1]);
        t->err = fds[0];
    }
    fcntl(t->master, F_SETFL, O_NONBLOCK);
    if (t->err >= 0)
        fcntl(t->err, F_SETFL, O_NONBLOCK);
}

/* Reads what is there (waiting up to ms for something); false at the end of both. */
static bool tty_read(struct tty_run *t, int ms)
{
    if (t->master < 0 && t->err < 0)
        return false;
    struct pollfd p[2] = {{.fd = t->master, .events = POLLIN}, {.fd = t->err, .events = POLLIN}};
    if (poll(p, 2, ms) <= 0) /* a closed one (-1) is skipped */
        return true;
    if (t->master >= 0 && p[0].revents) {
        ssize_t r = read(t->master, t->screen + t->nscreen, sizeof t->screen - 1 - t->nscreen);
        if (r > 0)
            t->nscreen += (size_t)r;
        else if (r == 0 || errno != EAGAIN) /* EIO: the other side closed */
            close(t->master), t->master = -1;
        t->screen[t->nscreen] = '\0';
    }
    if (t->err >= 0 && p[1].revents) {
        ssize_t r = read(t->err, t->piped + t->npiped, sizeof t->piped - 1 - t->npiped);
        if (r > 0)
            t->npiped += (size_t)r;
        else if (r == 0 || errno != EAGAIN)
            close(t->err), t->err = -1;
        t->piped[t->npiped] = '\0';
    }
    return t->master >= 0 || t->err >= 0;
}

/* The progress line of `what`, refreshed in place: at least two, each at the
 * line's start, the first after a second. */
static bool shows_progress_of(struct tty_run *t, const char *what)
{
    tty_read(t, 50);
    char first[200], again[200];
    snprintf(first, sizeof first, "\roj: still working: %s (1.", what);
    snprintf(again, sizeof again, "\roj: still working: %s (", what);
    const char *at = strstr(t->screen, first);
    return at && strstr(at + 1, again);
}

static bool shows_progress(void *arg)
{
    return shows_progress_of(arg, "restoring the snapshot");
}

static bool shows_start_progress(void *arg)
{
    return shows_progress_of(arg, "starting the daemon (loading its state)");
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads to the end and reaps (30 s at most); returns the exit status, -1 if
 * it did not end. */
static int tty_finish(struct tty_run *t)
{
    int status = 0;
    pid_t got = 0;
    double deadline = mono_s() + 30;
    while (mono_s() < deadline) {
        bool open_ = tty_read(t, 100);
        if (got == 0)
            got = waitpid(t->pid, &status, WNOHANG);
        if (got == t->pid && !open_)
            break;
    }
    if (got != t->pid) {
        kill(t->pid, SIGKILL);
        waitpid(t->pid, NULL, 0);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A snapshot named as the newest whose file is a FIFO: reading it blocks
 * until its other end is opened and closed (then it is empty: unusable). */
static void fifo_snapshot(char *path, size_t len)
{
    snprintf(path, len, "%s/.oj/snapshots/00000000000099999999-20990101T000000Z.json", e.dir);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/.oj/snapshots", e.dir);
    mkdir(dir, 0700);
    cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo %s: %s", path, strerror(errno));
}

/* Lets the blocked reader go: it sees the end of an empty file. */
static bool release_fifo(void *path)
{
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* A restore held for seconds by a snapshot that is slow to read: on a
 * terminal, "still working: ... (1.2s)" on stderr, rewritten in place and
 * wiped before the result; with stderr piped, not a byte of it. */
Test(maintenance, a_long_operation_says_it_is_still_working_on_a_terminal_only, .init = setup,
     .fini = teardown, .timeout = 120)
{
    cr_assert_eq(env_start_daemon(&e), 0);
    char fifo[512];
    fifo_snapshot(fifo, sizeof fifo);
    char *restore[] = {"maintenance", "restore-snapshot", "--id", "99999999", "--yes", NULL};

    static struct tty_run t;
    start_on_a_tty(&t, restore, false);
    cr_assert(wait_until(shows_progress, &t, 20000),
              "no progress line on the terminal after a second: '%s'", t.screen);
    cr_assert(wait_until(release_fifo, fifo, 20000), "the restore never read the snapshot");
    int rc = tty_finish(&t);
    cr_expect_eq(rc, 1, "an empty snapshot is unusable (exit %d)", rc);
    const char *last = t.screen, *at;
    while ((at = strstr(last + 1, "\roj: still working")) != NULL)
        last = at;
    const char *wiped = strstr(last, "\r\033[K");
    cr_expect(wiped != NULL, "the line is wiped when it ends: '%s'", last);
    cr_expect(wiped && strstr(wiped, "oj: snapshot") && strstr(wiped, "unusable"),
              "then the result: '%s'", last);

    /* The same, piped: a script's log gets the result and nothing else. */
    static struct tty_run p;
    double t0 = mono_s();
    start_on_a_tty(&p, restore, true);
    while (mono_s() - t0 < 2.0) /* the progress would show after 1 s */
        tty_read(&p, 100);
    cr_expect_eq(waitpid(p.pid, NULL, WNOHANG), 0, "the restore must still be held after 2 s");
    cr_assert(wait_until(release_fifo, fifo, 20000), "the restore never read the snapshot");
    cr_expect_eq(tty_finish(&p), 1);
    cr_expect(strstr(p.piped, "unusable") != NULL, "the result on the pipe: '%s'", p.piped);
    cr_expect(strstr(p.piped, "still working") == NULL && strstr(p.screen, "still working") == NULL,
              "no progress when stderr is piped: '%s' '%s'", p.piped, p.screen);
    unlink(fifo);
}

/* A start-up that takes a while to load its state (here: a snapshot slow to
 * read) says so on a terminal, then wipes the line for its result. */
Test(maintenance, a_slow_start_up_says_it_is_still_working, .init = setup, .fini = teardown,
     .timeout = 120)
{
    cr_assert_eq(env_start_daemon(&e), 0);
    struct oj_out o = OJ(&e, "lock", "acquire", "x", "--holder", "me");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "daemon", "stop");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    char fifo[512];
    fifo_snapshot(fifo, sizeof fifo);

    char *start[] = {"daemon", "start", NULL};
    static struct tty_run t;
    start_on_a_tty(&t, start, false);
    cr_assert(wait_until(shows_start_progress, &t, 20000),
              "no progress line while the daemon loads: '%s'", t.screen);
    cr_assert(wait_until(release_fifo, fifo, 20000), "the start-up never read the snapshot");
    cr_expect_eq(tty_finish(&t), 1, "an empty newest snapshot refuses the start: '%s'",
                 t.screen);
    const char *last = t.screen, *at;
    while ((at = strstr(last + 1, "\roj: still working")) != NULL)
        last = at;
    const char *wiped = strstr(last, "\r\033[K");
    cr_expect(wiped && strstr(wiped, "daemon failed to start"), "wiped, then the result: '%s'",
              last);
    unlink(fifo);
}
