/* The engine never waits (docs/architecture.md, "Threads in the daemon"): while
 * a slow git, tmux or restore runs, the daemon still answers `oj status` at
 * once, and what changes the state meanwhile is neither lost nor reordered.
 *
 * The slowness is real and held by the test, not timed: a `git` or `tmux`
 * first on the daemon's PATH that waits for a go file before it runs the
 * real one, and a snapshot that is a FIFO, so a restore's read of it blocks
 * until the test writes its end. The old daemon ran all of these on its one
 * engine thread, so `oj status` waited for them. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "clock.h"
#include "state.h"
#include "wal.h"

static struct oj_env e;
static pid_t bg; /* an oj command left running in the background, stopped at teardown */

static void setup(void) { env_setup(&e, true); }
static void teardown(void)
{
    if (bg > 0) {
        kill(bg, SIGKILL);
        child_wait_exit(bg, 5000);
        bg = 0;
    }
    cr_expect(env_teardown(&e), "sanitizer report in the daemon log");
}

/* A path in the project. Lives until the next call but three. */
static const char *in_project(const char *rel)
{
    static char bufs[4][PATH_MAX];
    static int next;
    char *p = bufs[next++ % 4];
    snprintf(p, sizeof bufs[0], "%s/%s", e.dir, rel);
    return p;
}

static bool exists(void *path) { return access(path, F_OK) == 0; }

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    cr_assert_geq(fd, 0, "cannot create %s: %s", path, strerror(errno));
    close(fd);
}

static void start_daemon(void)
{
    struct oj_out o = OJ(&e, "daemon", "start");
    cr_assert_eq(o.code, 0, "oj daemon start (%d): %s", o.code, o.err);
    oj_out_free(&o);
}

/* How long the daemon is allowed for a Status while something slow runs:
 * well under the slow thing, which the test holds until it lets it go (git
 * and the restore for up to 30 s; tmux until the daemon's 5 s limit for a
 * tmux command kills it). Generous for a loaded machine running the
 * sanitizer build; an engine waiting for the slow thing never answers within
 * it. */
#define STATUS_DEADLINE_S 2.0

static void expect_status_answers(const char *while_what)
{
    struct oj_out o = OJ(&e, "status");
    cr_expect_eq(o.code, 0, "oj status while %s: exit %d: %s", while_what, o.code, o.err);
    cr_expect_lt(o.secs, STATUS_DEADLINE_S, "oj status took %.2f s while %s", o.secs,
                 while_what);
    oj_out_free(&o);
}

/* Puts a program `name` first on the PATH the daemon will inherit: it runs
 * `script` (sh; $REAL is the real program, $DIR the project) and then the
 * real one with the same arguments. */
static void wrap_program(const char *name, const char *script)
{
    char real[PATH_MAX] = "", cmd[64];
    snprintf(cmd, sizeof cmd, "command -v %s", name);
    char *find[] = {"sh", "-c", cmd, NULL};
    cr_assert_eq(run_prog("/", 10000, real, sizeof real, find), 0, "no %s on PATH", name);
    real[strcspn(real, "\n")] = '\0';
    const char *bindir = in_project("wrapped-bin");
    mkdir(bindir, 0700);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", bindir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\nREAL='%s'\nDIR='%s'\n%s\nexec \"$REAL\" \"$@\"\n", real, e.dir, script);
    fclose(f);
    cr_assert_eq(chmod(path, 0755), 0);
    /* Criterion runs each test in a process of its own: this PATH is the test's. */
    char newpath[PATH_MAX * 2];
    snprintf(newpath, sizeof newpath, "%s:%s", bindir, getenv("PATH"));
    setenv("PATH", newpath, 1);
}

/* The wrapper's wait: it says it started (file `started`), then waits for the
 * file `go` (30 s at most). */
#define HOLD(started, go)                                                                          \
    ": > \"$DIR/" started "\"; i=0; while [ ! -e \"$DIR/" go "\" ] && [ $i -lt 3000 ]; do "   \
    "sleep 0.01; i=$((i+1)); done"

/* ---- git ---------------------------------------------------------------------------------- */

static const char *quick_runbook =
    "{\"pipelines\":{\"quick\":{\"inputs\":[],\"phases\":[{\"name\":\"step\","
    "\"run\":\"echo made\"}]}}}";

static bool pipeline_done(void *id)
{
    struct oj_out o = OJ(&e, "pipeline", "status", (char *)id, "--json");
    bool done = o.code == 0 && strstr(o.out, "\"done\"") != NULL;
    oj_out_free(&o);
    return done;
}

/* `oj workspace cleanup` while git takes its time removing a worktree (a big
 * one, a slow disk): `oj status` answers meanwhile, and the cleanup still
 * removes and journals it once git is done. */
Test(nowait, status_answers_while_git_worktree_remove_is_slow, .init = setup, .fini = teardown,
     .timeout = 120)
{
    wrap_program("git", "case \" $* \" in *\" worktree remove \"*) " HOLD("git-started",
                                                                         "git-go") ";; esac");
    start_daemon();
    cr_assert_eq(env_write_runbook(&e, "quick", quick_runbook), 0);
    struct oj_out r = OJ(&e, "run", "quick");
    cr_assert_eq(r.code, 0, "oj run: %s", r.err);
    char id[16];
    snprintf(id, sizeof id, "%.*s", (int)strcspn(r.out, "\n"), r.out);
    oj_out_free(&r);
    cr_assert(wait_until(pipeline_done, id, 20000), "pipeline %s never finished", id);

    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/cleanup.out", e.dir);
    char *args[] = {"workspace", "cleanup", "--stale", NULL};
    bg = oj_spawn_bg(&e, out, NULL, args);
    cr_assert(wait_until(exists, (void *)in_project("git-started"), 20000),
              "git worktree remove never started");
    expect_status_answers("git worktree remove waits");
    struct oj_out l = OJ(&e, "workspace", "list");
    cr_expect_eq(l.code, 0, "oj workspace list while git worktree remove waits: %s", l.err);
    oj_out_free(&l);

    touch(in_project("git-go"));
    int rc = child_wait_exit(bg, 30000);
    bg = 0;
    cr_expect_eq(rc, 0, "the cleanup failed (%d)", rc);
    char *printed = read_file(out);
    cr_expect(printed && strstr(printed, id), "the cleanup names the removed workspace: %s",
              printed ? printed : "(nothing)");
    free(printed);
    struct oj_out after = OJ(&e, "workspace", "list");
    cr_expect(after.code == 0 && strstr(after.out, id) == NULL,
              "the removal is journaled, the workspace gone: %s", after.out);
    oj_out_free(&after);
}

/* `oj run` asks git whether the project can have worktrees before it starts
 * a pipeline: a slow git holds up that one `oj run`, not the daemon. */
Test(nowait, status_answers_while_oj_run_asks_a_slow_git, .init = setup, .fini = teardown,
     .timeout = 120)
{
    wrap_program("git", "case \" $* \" in *\" rev-parse \"*) " HOLD("git-started",
                                                                  "git-go") ";; esac");
    start_daemon();
    cr_assert_eq(env_write_runbook(&e, "quick", quick_runbook), 0);
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/run.out", e.dir);
    char *args[] = {"run", "quick", NULL};
    bg = oj_spawn_bg(&e, out, NULL, args);
    cr_assert(wait_until(exists, (void *)in_project("git-started"), 20000),
              "git rev-parse never started");
    expect_status_answers("oj run's git rev-parse waits");
    cr_expect_eq(waitpid(bg, NULL, WNOHANG), 0, "oj run did not wait for git");
    touch(in_project("git-go"));
    int rc = child_wait_exit(bg, 30000);
    bg = 0;
    cr_expect_eq(rc, 0, "oj run (%d)", rc);
    char *printed = read_file(out), id[16] = "";
    if (printed)
        snprintf(id, sizeof id, "%.*s", (int)strcspn(printed, "\n"), printed);
    free(printed);
    cr_expect(id[0] == 'p' && wait_until(pipeline_done, id, 20000),
              "the pipeline (%s) started once git answered, and ran", id);
}

/* ---- restore ---------------------------------------------------------------------------- */

/* A snapshot named as the newest whose file is a FIFO: a restore of it blocks
 * in reading it until the test opens and closes its other end (it then finds
 * an empty, unusable snapshot). Returns its id. */
static const char *fifo_snapshot(void)
{
    static const char id[] = "00000000000099999999-20990101T000000Z";
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.oj/snapshots/%s.json", e.dir, id);
    mkdir(in_project(".oj/snapshots"), 0700);
    cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo %s: %s", path, strerror(errno));
    return id;
}

/* Whether someone reads the FIFO: opening its write end does not block then. */
static bool fifo_has_reader(void *path)
{
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(fd); /* the reader sees the end of an empty file */
    return true;
}

static int in_flight(void)
{
    struct oj_out o = OJ(&e, "status", "--verbose", "--json");
    cJSON *j = cJSON_Parse(o.out);
    const cJSON *n = j ? cJSON_GetObjectItemCaseSensitive(j, "requests_in_flight") : NULL;
    int v = cJSON_IsNumber(n) ? n->valueint : -1;
    cJSON_Delete(j);
    oj_out_free(&o);
    return v;
}

static bool two_in_flight(void *arg)
{
    (void)arg;
    return in_flight() >= 2;
}

static bool in_flight_at_least(void *n) { return in_flight() >= *(int *)n; }

static bool has_lock(const char *name)
{
    struct oj_out o = OJ(&e, "lock", "status", name);
    bool held = o.code == 0;
    oj_out_free(&o);
    return held;
}

/* A restore whose snapshot is slow to read: `oj status` and other reads are
 * answered meanwhile; a change asked for meanwhile waits for the restore and
 * then runs (not lost, not run before it). */
Test(nowait, status_answers_while_a_restore_reads_its_snapshot, .init = setup, .fini = teardown,
     .timeout = 120)
{
    start_daemon();
    struct oj_out a = OJ(&e, "lock", "acquire", "before", "--holder", "me");
    cr_assert_eq(a.code, 0, "%s", a.err);
    oj_out_free(&a);
    const char *id = fifo_snapshot();
    char fifo[PATH_MAX];
    snprintf(fifo, sizeof fifo, "%s/.oj/snapshots/%s.json", e.dir, id);

    char *restore[] = {"maintenance", "restore-snapshot", "--id", (char *)id, "--yes", NULL};
    bg = oj_spawn_bg(&e, NULL, NULL, restore);
    /* Opening the write end would end the read at once: wait for the reader
     * by asking the daemon instead (the restore is a request in flight). The
     * change below must come after it: started earlier, it would simply run
     * first (a race of the test's, seen once under load). */
    int one = 1;
    cr_assert(wait_until(in_flight_at_least, &one, 20000), "the restore never reached the daemon");
    struct oj_out first = OJ(&e, "status");
    cr_expect_lt(first.secs, STATUS_DEADLINE_S, "oj status took %.2f s during a restore",
                 first.secs);
    oj_out_free(&first);
    char *acquire[] = {"lock", "acquire", "during", "--holder", "me", NULL};
    pid_t writer = oj_spawn_bg(&e, NULL, NULL, acquire);
    cr_assert(wait_until(two_in_flight, NULL, 20000),
              "the restore and the lock acquire never were both in flight");
    expect_status_answers("a restore reads its snapshot");
    struct oj_out l = OJ(&e, "lock", "list");
    cr_expect(l.code == 0 && strstr(l.out, "before"), "reads see the state as it was: %s %s",
              l.out, l.err);
    oj_out_free(&l);
    cr_expect_eq(waitpid(writer, NULL, WNOHANG), 0, "the change did not wait for the restore");

    cr_assert(wait_until(fifo_has_reader, fifo, 20000), "the restore never read the snapshot");
    int rc = child_wait_exit(bg, 30000);
    bg = 0;
    cr_expect_eq(rc, 1, "an empty snapshot is unusable: the restore fails (%d)", rc);
    cr_expect_eq(child_wait_exit(writer, 30000), 0, "the change that waited ran after it");
    cr_expect(has_lock("before") && has_lock("during"), "nothing lost");
    unlink(fifo);
}

/* ---- tmux --------------------------------------------------------------------------------- */

/* A tmux first on the daemon's PATH that holds the tmux command `cmd` while
 * the file hold-<cmd> exists: it says so (held-<cmd>) and waits for go-<cmd>. */
static void slow_tmux(void)
{
    wrap_program("tmux",
                 "for a in \"$@\"; do case \"$a\" in capture-pane|list-panes|new-session)\n"
                 "  if [ -e \"$DIR/hold-$a\" ]; then : > \"$DIR/held-$a\"; i=0\n"
                 "    while [ ! -e \"$DIR/go-$a\" ] && [ $i -lt 3000 ]; do sleep 0.01; "
                 "i=$((i+1)); done; fi;; esac; done");
}

static void start_agent(char id[32])
{
    cr_assert_eq(env_start_agent(&e, "agent", id, 32), 0, "cannot start a session");
}

/* `oj session capture` while tmux is slow to show the screen: the capture
 * waits for tmux, the daemon does not. */
Test(nowait, status_answers_while_tmux_capture_is_slow, .init = setup, .fini = teardown,
     .timeout = 120)
{
    slow_tmux();
    start_daemon();
    char id[32];
    start_agent(id);
    touch(in_project("hold-capture-pane"));
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/capture.out", e.dir);
    char *args[] = {"session", "capture", id, NULL};
    bg = oj_spawn_bg(&e, out, NULL, args);
    cr_assert(wait_until(exists, (void *)in_project("held-capture-pane"), 20000),
              "tmux capture-pane never started");
    expect_status_answers("tmux capture-pane waits");
    struct oj_out l = OJ(&e, "session", "list");
    cr_expect(l.code == 0 && strstr(l.out, id), "oj session list: %s %s", l.out, l.err);
    oj_out_free(&l);
    cr_expect_eq(waitpid(bg, NULL, WNOHANG), 0, "the capture did not wait for tmux");
    touch(in_project("go-capture-pane"));
    int rc = child_wait_exit(bg, 30000);
    bg = 0;
    cr_expect_eq(rc, 0, "the capture failed once tmux answered (%d)", rc);
}

/* The once-a-second tick's list-panes held by a slow tmux: requests, reads
 * and changes alike, are answered meanwhile. */
Test(nowait, status_answers_while_the_ticks_list_panes_is_slow, .init = setup, .fini = teardown,
     .timeout = 120)
{
    slow_tmux();
    start_daemon();
    char id[32];
    start_agent(id);
    touch(in_project("hold-list-panes"));
    cr_assert(wait_until(exists, (void *)in_project("held-list-panes"), 20000),
              "the tick's list-panes never ran");
    expect_status_answers("the tick's tmux list-panes waits");
    struct oj_out a = OJ(&e, "lock", "acquire", "meanwhile", "--holder", "me");
    cr_expect(a.code == 0 && a.secs < STATUS_DEADLINE_S,
              "a change that needs no tmux: exit %d after %.2f s: %s", a.code, a.secs, a.err);
    oj_out_free(&a);
    unlink(in_project("hold-list-panes"));
    touch(in_project("go-list-panes"));
    struct oj_out k = OJ(&e, "session", "kill", id);
    cr_expect_eq(k.code, 0, "oj session kill once tmux answers again: %s", k.err);
    oj_out_free(&k);
}

/* `oj session start` while tmux is slow to make the session: the start
 * answers once it runs; `oj status` and `oj session list` do not wait. */
Test(nowait, status_answers_while_tmux_new_session_is_slow, .init = setup, .fini = teardown,
     .timeout = 120)
{
    slow_tmux();
    start_daemon();
    touch(in_project("hold-new-session"));
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/start.out", e.dir);
    char *args[] = {"session", "start", "--name", "slow", "--", "sleep", "600", NULL};
    bg = oj_spawn_bg(&e, out, NULL, args);
    cr_assert(wait_until(exists, (void *)in_project("held-new-session"), 20000),
              "tmux new-session never started");
    expect_status_answers("tmux new-session waits");
    struct oj_out l = OJ(&e, "session", "list");
    cr_expect(l.code == 0 && strstr(l.out, "slow") && strstr(l.out, "starting"),
              "the session is listed while it starts: %s %s", l.out, l.err);
    oj_out_free(&l);
    touch(in_project("go-new-session"));
    int rc = child_wait_exit(bg, 30000);
    bg = 0;
    cr_expect_eq(rc, 0, "oj session start (%d)", rc);
    char *printed = read_file(out);
    cr_expect(printed && strstr(printed, "started session"), "%s", printed ? printed : "");
    free(printed);
    struct oj_out after = OJ(&e, "session", "list");
    cr_expect(strstr(after.out, "slow") && strstr(after.out, "running"), "%s", after.out);
    oj_out_free(&after);
}

/* ---- snapshots and compaction ------------------------------------------------------------ */

#define BIG_STATE_LOCKS 3000 /* a snapshot of them is several pipe buffers long */

static void big_wal_of(const char *kind, int n);

/* A WAL of n locks of distinct names (seqs 1..n), written before the start. */
static void big_wal(int n)
{
    big_wal_of("lock", n);
}

static void big_wal_of(const char *kind, int n)
{
    mkdir(in_project(".oj"), 0700);
    FILE *f = fopen(in_project(".oj/wal.jsonl"), "w");
    cr_assert_not_null(f);
    int64_t now = oj_wall_ms();
    char pad[1024];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    bool lock = strcmp(kind, "lock") == 0;
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "%s-%d", lock ? "lock" : "old", i);
        cJSON *v = cJSON_CreateObject();
        if (lock) {
            cJSON_AddStringToObject(v, "holder", "test@host:4242");
            cJSON_AddStringToObject(v, "host", "host");
            cJSON_AddNumberToObject(v, "holder_pid", 4242);
            cJSON_AddNumberToObject(v, "since_ms", (double)now);
            cJSON_AddNumberToObject(v, "timeout_ms", 0);
        } else { /* a pipeline that finished long ago, with a long note */
            cJSON_AddStringToObject(v, "name", id);
            cJSON_AddStringToObject(v, "runbook", "quick");
            cJSON_AddStringToObject(v, "state", "done");
            cJSON_AddNumberToObject(v, "created_at_ms", 1000);
            cJSON_AddNumberToObject(v, "finished_at_ms", 1000);
            cJSON_AddStringToObject(v, "note", pad);
        }
        cJSON *op = oj_op_put(kind, id, v);
        size_t len;
        char *line = oj_wal_format((uint64_t)i + 1, now, op, &len);
        cr_assert_eq(fwrite(line, 1, len, f), len);
        free(line);
        cJSON_Delete(op);
    }
    cr_assert_eq(fclose(f), 0);
}

/* The daemon's last seq while no snapshot exists yet. */
static uint64_t last_seq(void)
{
    struct oj_out o = OJ(&e, "status", "--verbose", "--json");
    cJSON *j = cJSON_Parse(o.out);
    const cJSON *n = j ? cJSON_GetObjectItemCaseSensitive(j, "wal_records_since_snapshot") : NULL;
    cr_assert(cJSON_IsNumber(n), "oj status --verbose --json: %s %s", o.out, o.err);
    uint64_t v = (uint64_t)n->valuedouble;
    cJSON_Delete(j);
    oj_out_free(&o);
    return v;
}

/* A snapshot is written to <id>.json.tmp first (oj_write_atomic), an archive
 * to archive-<time>-<seq>.json.tmp. FIFOs under the names a snapshot of `seq`
 * (or an archive) taken in the next minute would write, with
 * their read ends open: the writer then blocks once the pipe is full, until
 * the test reads. (A FIFO cannot be fsync'd: the snapshot then fails.) */
#define FIFO_SECONDS 60
struct fifos {
    int fd[FIFO_SECONDS + 2];
    char path[FIFO_SECONDS + 2][PATH_MAX];
    int writing; /* the one the snapshot writes to, -1 until then */
};

static void block_file(struct fifos *f, const char *dir, bool archive, uint64_t seq)
{
    mkdir(in_project(dir), 0700);
    time_t now = time(NULL);
    f->writing = -1;
    for (int i = 0; i < FIFO_SECONDS + 2; i++) {
        time_t t = now - 2 + i;
        struct tm tm;
        gmtime_r(&t, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        if (archive)
            snprintf(f->path[i], sizeof f->path[i], "%s/%s/archive-%s-%llu.json.tmp", e.dir, dir,
                     stamp, (unsigned long long)seq);
        else
            snprintf(f->path[i], sizeof f->path[i], "%s/%s/%020llu-%s.json.tmp", e.dir, dir,
                     (unsigned long long)seq, stamp);
        cr_assert_eq(mkfifo(f->path[i], 0600), 0, "mkfifo: %s", strerror(errno));
        f->fd[i] = open(f->path[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        cr_assert_geq(f->fd[i], 0);
    }
}

/* Whether the snapshot has written into one of the FIFOs. */
static bool snapshot_writing(void *arg)
{
    struct fifos *f = arg;
    for (int i = 0; i < FIFO_SECONDS + 2; i++) {
        struct pollfd p = {.fd = f->fd[i], .events = POLLIN};
        if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
            f->writing = i;
            return true;
        }
    }
    return false;
}

/* Reads what the snapshot writes to its end, then closes every FIFO. */
static void block_snapshot(struct fifos *f, uint64_t seq)
{
    block_file(f, ".oj/snapshots", false, seq);
}

static void unblock_snapshot(struct fifos *f)
{
    char buf[65536];
    int64_t deadline = oj_mono_ms() + 30000;
    while (f->writing >= 0 && oj_mono_ms() < deadline) {
        ssize_t n = read(f->fd[f->writing], buf, sizeof buf);
        if (n == 0)
            break; /* the writer closed it */
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = f->fd[f->writing], .events = POLLIN};
            poll(&p, 1, 100);
        } else if (n < 0 && errno != EINTR) {
            break;
        }
    }
    for (int i = 0; i < FIFO_SECONDS + 2; i++) {
        close(f->fd[i]);
        unlink(f->path[i]);
    }
}

/* While a snapshot (asked for by `args`, or automatic when args is NULL and a
 * change makes it due) is being written, `oj status` and reads answer; a
 * change asked for meanwhile waits for it and then runs. */
static void status_answers_while_snapshot_writes(char *const args[], const char *what)
{
    big_wal(BIG_STATE_LOCKS);
    start_daemon();
    uint64_t seq = last_seq();
    cr_assert_eq(seq, (uint64_t)BIG_STATE_LOCKS, "the WAL written before the start");
    struct fifos f;
    block_snapshot(&f, args ? seq : seq + 1);
    if (args) {
        bg = oj_spawn_bg(&e, NULL, NULL, args);
    } else { /* OJ_SNAPSHOT_EVERY is the next record */
        struct oj_out a = OJ(&e, "lock", "acquire", "due", "--holder", "me");
        cr_assert_eq(a.code, 0, "the change that makes the snapshot due: %s", a.err);
        oj_out_free(&a);
    }
    cr_assert(wait_until(snapshot_writing, &f, 20000), "the %s was never written", what);
    expect_status_answers(what);
    cr_expect(has_lock("lock-7"), "reads see the state");
    char *acquire[] = {"lock", "acquire", "during", "--holder", "me", NULL};
    pid_t writer = oj_spawn_bg(&e, NULL, NULL, acquire);
    int want = args ? 2 : 1;
    cr_assert(wait_until(in_flight_at_least, &want, 20000),
              "the %s and the lock acquire never were both in flight", what);
    cr_expect_eq(waitpid(writer, NULL, WNOHANG), 0, "the change did not wait for the %s", what);
    unblock_snapshot(&f);
    if (args) {
        int rc = child_wait_exit(bg, 30000);
        bg = 0;
        cr_expect_neq(rc, 0, "a snapshot written into a FIFO cannot be synced: it fails");
    }
    cr_expect_eq(child_wait_exit(writer, 30000), 0, "the change that waited ran after it");
    cr_expect(has_lock("during") && has_lock("lock-7"), "nothing lost");
}

Test(nowait, status_answers_while_a_snapshot_is_written, .init = setup, .fini = teardown,
     .timeout = 120)
{
    char *args[] = {"maintenance", "snapshot", NULL};
    status_answers_while_snapshot_writes(args, "snapshot");
}

Test(nowait, status_answers_while_a_compaction_writes_its_snapshot, .init = setup,
     .fini = teardown, .timeout = 120)
{
    char *args[] = {"maintenance", "compact", NULL};
    status_answers_while_snapshot_writes(args, "compaction");
    struct oj_out c = OJ(&e, "maintenance", "compact");
    cr_expect_eq(c.code, 0, "a compaction once nothing blocks it: %s", c.err);
    oj_out_free(&c);
    cr_expect(has_lock("during") && has_lock("lock-7"), "nothing lost by the compaction");
}

/* OJ_SNAPSHOT_EVERY makes a change due a snapshot: it is written after that
 * change is answered, off the engine thread. */
Test(nowait, status_answers_while_an_automatic_snapshot_is_written, .init = setup,
     .fini = teardown, .timeout = 120)
{
    char every[32];
    snprintf(every, sizeof every, "%d", BIG_STATE_LOCKS + 1);
    setenv("OJ_SNAPSHOT_EVERY", every, 1); /* this test's process, and its daemon */
    status_answers_while_snapshot_writes(NULL, "automatic snapshot");
}

/* `oj maintenance archive` of many old pipelines: its file is written off the
 * engine thread, and it holds nothing: `oj status` answers meanwhile and a
 * change lands at once (only the records still as written leave the state). */
Test(nowait, status_answers_while_an_archive_is_written, .init = setup, .fini = teardown,
     .timeout = 120)
{
    setenv("OJ_RETAIN_FINISHED", "0", 1); /* the operator archives here, not the tick */
    big_wal_of("pipeline", 300); /* 300 KiB of archive: several pipe buffers */
    start_daemon();
    uint64_t seq = last_seq();
    cr_assert_eq(seq, 300u, "the WAL written before the start");
    struct fifos f;
    block_file(&f, ".oj/archive", true, seq + 1);
    char *args[] = {"maintenance", "archive", "--older-than", "1s", NULL};
    bg = oj_spawn_bg(&e, NULL, NULL, args);
    cr_assert(wait_until(snapshot_writing, &f, 20000), "the archive was never written");
    expect_status_answers("an archive is written");
    struct oj_out l = OJ(&e, "pipeline", "status", "old-7");
    cr_expect_eq(l.code, 0, "reads see the state: %s", l.err);
    oj_out_free(&l);
    struct oj_out a = OJ(&e, "lock", "acquire", "during", "--holder", "me");
    cr_expect(a.code == 0 && a.secs < STATUS_DEADLINE_S,
              "a change while the archive is written: exit %d after %.2f s: %s", a.code, a.secs,
              a.err);
    oj_out_free(&a);
    unblock_snapshot(&f);
    int rc = child_wait_exit(bg, 30000);
    bg = 0;
    cr_expect_neq(rc, 0, "an archive written into a FIFO cannot be synced: it fails");
    cr_expect(has_lock("during"), "nothing lost");
    l = OJ(&e, "pipeline", "status", "old-7");
    cr_expect_eq(l.code, 0, "a failed archive leaves its records live: %s", l.err);
    oj_out_free(&l);
    a = OJ(&e, "maintenance", "archive", "--older-than", "1s");
    cr_expect(a.code == 0 && strstr(a.out, "300"), "the archive once nothing blocks it: %s %s",
              a.out, a.err);
    oj_out_free(&a);
}

/* `oj pipeline list --all` reads every archive file, which can be big:
 * off the engine thread. An archive file that is a FIFO holds the read until
 * the test opens its other end (it then reads an empty file). */
Test(nowait, status_answers_while_the_archive_is_read_for_a_list, .init = setup,
     .fini = teardown, .timeout = 120)
{
    start_daemon();
    mkdir(in_project(".oj/archive"), 0700);
    const char *fifo = in_project(".oj/archive/archive-20990101T000000Z-1.json");
    cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", strerror(errno));
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/list.out", e.dir);
    char *args[] = {"pipeline", "list", "--all", NULL};
    bg = oj_spawn_bg(&e, out, NULL, args);
    int one = 1;
    cr_assert(wait_until(in_flight_at_least, &one, 20000), "the list never reached the daemon");
    expect_status_answers("the archive is read for a list");
    struct oj_out a = OJ(&e, "lock", "acquire", "meanwhile", "--holder", "me");
    cr_expect(a.code == 0 && a.secs < STATUS_DEADLINE_S,
              "a change meanwhile: exit %d after %.2f s: %s", a.code, a.secs, a.err);
    oj_out_free(&a);
    cr_expect_eq(waitpid(bg, NULL, WNOHANG), 0, "the list did not wait for the archive");
    cr_assert(wait_until(fifo_has_reader, (void *)fifo, 20000), "the archive was never read");
    int rc = child_wait_exit(bg, 30000);
    bg = 0;
    cr_expect_eq(rc, 0, "the list once the archive is read (%d)", rc);
}
