/* The crash-and-corruption matrix of docs/storage.md, through the real CLI and
 * daemon: for every kind of damage, `oj daemon start` starts or refuses as the
 * table says, and after `--recover` every acknowledged change is either in the
 * state or named by the exact seq range the recovery reported lost. Then kill
 * -9 during compaction, snapshots and restores: every start after it is clean
 * and nothing acknowledged is gone. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "paths.h"
#include "rpc_client.h"
#include "wal.h"

static struct oj_env e;

static void setup(void) { env_setup(&e, true); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static void state_path(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/.oj/%s", e.dir, rel);
}

/* ---- acknowledged changes and their seqs ---------------------------------- */

#define MAX_ACKED 64
static struct {
    char name[48];
    unsigned long long seq;
} acked[MAX_ACKED];
static int nacked;

/* The seq of the WAL's last record. */
static unsigned long long last_wal_seq(void)
{
    char wal[PATH_MAX];
    state_path(wal, sizeof wal, "wal.jsonl");
    char *text = read_wal(wal);
    cr_assert_not_null(text);
    size_t n = strlen(text);
    cr_assert_gt(n, 1);
    char *line = text + n - 1; /* the final "\n" */
    while (line > text && line[-1] != '\n')
        line--;
    unsigned long long seq = 0;
    cr_assert_eq(sscanf(line, "{\"seq\":%llu", &seq), 1, "%s", line);
    free(text);
    return seq;
}

/* `oj lock acquire NAME`, remembering the seq its record got. */
static void acquire(const char *name)
{
    struct oj_out o = OJ(&e, "lock", "acquire", name, "--holder", "matrix");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    cr_assert_lt(nacked, MAX_ACKED);
    snprintf(acked[nacked].name, sizeof acked[nacked].name, "%s", name);
    acked[nacked++].seq = last_wal_seq();
}

static void oj_ok(const char *a, const char *b)
{
    struct oj_out o = OJ(&e, a, b);
    cr_assert_eq(o.code, 0, "oj %s %s: %s", a, b, o.err);
    oj_out_free(&o);
}

static void acquire_n(const char *prefix, int n)
{
    for (int i = 1; i <= n; i++) {
        char name[48];
        snprintf(name, sizeof name, "%s%d", prefix, i);
        acquire(name);
    }
}

static bool has_lock(const char *name)
{
    struct oj_out o = OJ(&e, "lock", "status", name, "--json");
    cJSON *j = cJSON_Parse(o.out);
    bool held = j && cJSON_IsTrue(cJSON_GetObjectItem(j, "held"));
    cJSON_Delete(j);
    oj_out_free(&o);
    return held;
}

/* Does the recovery report name seq `seq` as lost? It lists "seq A..B (",
 * "seq A (" and "any seq from A on (". */
static bool reported_lost(const char *report, unsigned long long seq)
{
    for (const char *p = report; (p = strstr(p, "seq ")) != NULL; p += 4) {
        unsigned long long a, b;
        int n = 0;
        if (sscanf(p, "seq %llu..%llu (", &a, &b) == 2 && a <= seq && seq <= b)
            return true;
        if (sscanf(p, "seq %llu%n", &a, &n) == 1 && strncmp(p + n, " (", 2) == 0 && a == seq)
            return true;
    }
    const char *any = strstr(report, "any seq from ");
    unsigned long long from;
    return any && sscanf(any, "any seq from %llu on", &from) == 1 && seq >= from;
}

/* After a recovery: every acknowledged change is there or reported. */
static void every_ack_present_or_reported(const char *report)
{
    int missing = 0, reported = 0;
    for (int i = 0; i < nacked; i++) {
        if (has_lock(acked[i].name))
            continue;
        if (reported_lost(report, acked[i].seq)) {
            reported++;
            continue;
        }
        missing++;
        cr_log_error("%s (seq %llu) is gone and not reported: %s", acked[i].name, acked[i].seq,
                     report);
    }
    cr_expect_eq(missing, 0, "%d acknowledged change(s) lost silently", missing);
}

/* ---- damage ------------------------------------------------------------------ */

static void newest_snapshot(char *path, size_t len)
{
    char dir[PATH_MAX];
    state_path(dir, sizeof dir, "snapshots");
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    char best[256] = "";
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strlen(de->d_name) == 42 && strcmp(de->d_name + 37, ".json") == 0 &&
            strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
    closedir(d);
    cr_assert_neq(best[0], '\0', "no snapshot");
    snprintf(path, len, "%s/%s", dir, best);
}

/* Flips a byte `offset_from_end` before the end of the file's data (a WAL's
 * preallocated end is no data; a snapshot has none). */
static void flip_at(const char *path, long offset_from_end)
{
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    off_t end = wal_data_end(path);
    char c;
    cr_assert_eq(pread(fd, &c, 1, end - offset_from_end), 1);
    c ^= 0x04;
    cr_assert_eq(pwrite(fd, &c, 1, end - offset_from_end), 1);
    close(fd);
}

/* Flips a byte in the middle of WAL line n (1-based). */
static void flip_wal_line(int n)
{
    char wal[PATH_MAX];
    state_path(wal, sizeof wal, "wal.jsonl");
    char *text = read_wal(wal);
    cr_assert_not_null(text);
    char *line = text;
    for (int i = 1; i < n; i++) {
        line = strchr(line, '\n');
        cr_assert_not_null(line, "no line %d", n);
        line++;
    }
    long at = (long)(line - text) + (long)(strcspn(line, "\n") / 2);
    long size = (long)strlen(text);
    free(text);
    flip_at(wal, size - at);
}

/* Adds bytes after the last record, where the daemon writes the next one. */
static void append_to_wal(const char *bytes, size_t n)
{
    char wal[PATH_MAX];
    state_path(wal, sizeof wal, "wal.jsonl");
    wal_write_at_end(wal, bytes, n);
}

/* ---- one case ----------------------------------------------------------------- */

enum expect { STARTS, REFUSES };

/* Starts the daemon on the damaged files. A refusal must name the recover
 * command and change nothing; --recover must then start, and its report must
 * account for every acknowledged change that is gone. */
static void check_start(enum expect want, const char *must_say)
{
    struct oj_out o = OJ(&e, "daemon", "start");
    if (want == STARTS) {
        cr_assert_eq(o.code, 0, "should start: %s", o.err);
        if (must_say)
            cr_expect(strstr(o.out, must_say), "start should say '%s': %s", must_say, o.out);
        every_ack_present_or_reported("");
        oj_out_free(&o);
        return;
    }
    cr_expect_eq(o.code, 1, "should refuse: %s%s", o.out, o.err);
    cr_expect(strstr(o.err, "oj daemon start --recover"), "%s", o.err);
    if (must_say)
        cr_expect(strstr(o.err, must_say), "the refusal should say '%s': %s", must_say, o.err);
    cr_expect_eq(env_daemon_pid(&e), 0, "a refused start leaves no daemon");
    oj_out_free(&o);
    struct oj_out r = OJ(&e, "daemon", "start", "--recover");
    cr_assert_eq(r.code, 0, "--recover: %s", r.err);
    cr_expect(strstr(r.out, "note: recovered"), "%s", r.out);
    every_ack_present_or_reported(r.out);
    /* New changes never reuse a seq the lost ones had. */
    unsigned long long top = 0;
    for (int i = 0; i < nacked; i++)
        if (acked[i].seq > top)
            top = acked[i].seq;
    acquire("after-recovery");
    cr_expect_gt(acked[nacked - 1].seq, top, "seq %llu reused", acked[nacked - 1].seq);
    oj_out_free(&r);
    /* And the recovery sticks. */
    struct oj_out stop = OJ(&e, "daemon", "stop", "--force");
    oj_out_free(&stop);
    struct oj_out again = OJ(&e, "daemon", "start");
    cr_expect_eq(again.code, 0, "the start after a recovery: %s", again.err);
    cr_expect(has_lock("after-recovery"));
    oj_out_free(&again);
}

static void begin(void)
{
    nacked = 0;
    struct oj_out o = OJ(&e, "daemon", "start");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
}

static void force_stop(void)
{
    struct oj_out o = OJ(&e, "daemon", "stop", "--force");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
}

Test(matrix, torn_final_record_is_cut_with_a_copy, .init = setup, .fini = teardown)
{
    begin();
    acquire_n("a", 3);
    force_stop();
    char torn[64];
    snprintf(torn, sizeof torn, "{\"seq\":%llu,\"time\":17958", acked[nacked - 1].seq + 1);
    append_to_wal(torn, strlen(torn));
    check_start(STARTS, "wal.jsonl.torn-");
}

Test(matrix, final_record_missing_only_its_newline_is_kept, .init = setup, .fini = teardown)
{
    begin();
    acquire_n("a", 3);
    force_stop();
    char wal[PATH_MAX];
    state_path(wal, sizeof wal, "wal.jsonl");
    /* The newline's byte was never written: it is still the fill. */
    off_t end = wal_data_end(wal);
    int fd = open(wal, O_WRONLY);
    cr_assert_eq(pwrite(fd, "\xff", 1, end - 1), 1);
    close(fd);
    check_start(STARTS, "lacked its newline");
    cr_expect(has_lock("a3"));
}

Test(matrix, complete_final_record_with_a_bad_checksum_refuses, .init = setup, .fini = teardown)
{
    begin();
    acquire_n("a", 4);
    force_stop();
    char wal[PATH_MAX];
    state_path(wal, sizeof wal, "wal.jsonl");
    flip_at(wal, 30);
    check_start(REFUSES, "any seq from");
}

Test(matrix, zeroed_last_block_refuses, .init = setup, .fini = teardown)
{
    begin();
    for (int i = 1; i <= 40; i++) {
        char name[48];
        snprintf(name, sizeof name, "lock-with-a-long-name-%d", i);
        acquire(name);
    }
    force_stop();
    char wal[PATH_MAX];
    state_path(wal, sizeof wal, "wal.jsonl");
    /* The last 4096 bytes of records, and the preallocated end after them,
     * read as zeros: what a disk leaves of blocks it lost. */
    off_t end = wal_data_end(wal);
    cr_assert_gt(end, 4096);
    struct stat st;
    cr_assert_eq(stat(wal, &st), 0);
    int fd = open(wal, O_WRONLY);
    static char zeros[OJ_WAL_CHUNK + 4096];
    size_t n = (size_t)(st.st_size - (end - 4096));
    cr_assert_leq(n, sizeof zeros);
    cr_assert_eq(pwrite(fd, zeros, n, end - 4096), (ssize_t)n);
    close(fd);
    check_start(REFUSES, "zeroed bytes");
}

Test(matrix, damaged_record_after_the_snapshot_refuses, .init = setup, .fini = teardown)
{
    begin();
    acquire_n("a", 3);
    oj_ok("maintenance", "snapshot");
    acquire_n("b", 5);
    force_stop();
    flip_wal_line(5); /* one of b1..b5: the snapshot does not cover it */
    check_start(REFUSES, "after the gap");
}

Test(matrix, damaged_record_the_snapshot_covers_refuses_but_loses_nothing, .init = setup,
     .fini = teardown)
{
    begin();
    acquire_n("a", 5);
    oj_ok("maintenance", "snapshot");
    acquire_n("b", 3);
    force_stop();
    flip_wal_line(2); /* a2: the snapshot has it */
    check_start(REFUSES, "nothing is lost");
    for (int i = 0; i < nacked; i++)
        cr_expect(has_lock(acked[i].name), "%s", acked[i].name);
}

Test(matrix, garbage_lines_appended_refuse, .init = setup, .fini = teardown)
{
    begin();
    acquire_n("a", 3);
    force_stop();
    const char *junk = "garbage\n{\"not\":\"a record\"}\n";
    append_to_wal(junk, strlen(junk));
    check_start(REFUSES, "lines");
}

Test(matrix, unusable_newest_snapshot_with_its_records_in_the_wal_starts, .init = setup,
     .fini = teardown)
{
    begin();
    acquire_n("a", 3);
    oj_ok("maintenance", "snapshot");
    acquire_n("b", 2);
    oj_ok("maintenance", "snapshot");
    force_stop();
    char snap[PATH_MAX + 300];
    newest_snapshot(snap, sizeof snap);
    flip_at(snap, 40);
    check_start(STARTS, "is unusable");
}

Test(matrix, damaged_snapshot_under_a_compacted_wal_refuses, .init = setup, .fini = teardown)
{
    /* Issue 9's report, as the operator typed it. */
    begin();
    acquire_n("A", 3);
    oj_ok("maintenance", "snapshot");
    acquire_n("B", 3);
    oj_ok("maintenance", "compact");
    force_stop();
    char snap[PATH_MAX + 300];
    newest_snapshot(snap, sizeof snap);
    flip_at(snap, 40);
    check_start(REFUSES, "only in snapshot");
    cr_expect(has_lock("A3"));
}

Test(matrix, deleted_snapshot_under_a_compacted_wal_refuses, .init = setup, .fini = teardown)
{
    begin();
    acquire_n("A", 3);
    oj_ok("maintenance", "snapshot");
    acquire_n("B", 3);
    oj_ok("maintenance", "compact");
    force_stop();
    char snap[PATH_MAX + 300];
    newest_snapshot(snap, sizeof snap);
    cr_assert_eq(unlink(snap), 0);
    check_start(REFUSES, "which the WAL rests on");
}

/* ---- kill -9 during maintenance ---------------------------------------------- */

struct worker {
    const char *sock;
    atomic_bool *stop;
    int kind;   /* 0 writer, 1 snapshots, 2 compactions */
    int id, round;
    int acked;  /* writer: names r<round>-w<id>-<k> for k < acked were acknowledged */
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct oj_client *c;
    if (oj_client_open(&c, w->sock, 5000) != 0)
        return NULL;
    oj_client_set_retry(c, 0);
    for (int k = 0; !atomic_load(w->stop); k++) {
        int st;
        if (w->kind == 0) {
            char name[64];
            snprintf(name, sizeof name, "r%d-w%d-%d", w->round, w->id, k);
            Oj__LockAcquireRequest req = OJ__LOCK_ACQUIRE_REQUEST__INIT;
            req.name = name;
            req.holder = "crash-matrix";
            Oj__LockInfo *resp;
            st = OJ_RPC(c, oj__control__lock_acquire, &req, &resp);
            if (st == OJ__STATUS_CODE__OK) {
                w->acked = k + 1;
                oj_client_free_reply(resp);
            }
        } else if (w->kind == 1) {
            Oj__SnapshotRequest req = OJ__SNAPSHOT_REQUEST__INIT;
            Oj__SnapshotResponse *resp;
            st = OJ_RPC(c, oj__control__maintenance_snapshot, &req, &resp);
            if (st == OJ__STATUS_CODE__OK)
                oj_client_free_reply(resp);
        } else {
            Oj__CompactRequest req = OJ__COMPACT_REQUEST__INIT;
            Oj__CompactResponse *resp;
            st = OJ_RPC(c, oj__control__maintenance_compact, &req, &resp);
            if (st == OJ__STATUS_CODE__OK)
                oj_client_free_reply(resp);
        }
        if (st != OJ__STATUS_CODE__OK)
            break;
    }
    oj_client_close(c);
    return NULL;
}

static bool daemon_gone(void *arg)
{
    (void)arg;
    return env_daemon_pid(&e) == 0;
}

static void must_start(void)
{
    struct oj_out o = OJ(&e, "daemon", "start");
    cr_assert_eq(o.code, 0, "a start after kill -9 must be clean: %s", o.err);
    oj_out_free(&o);
}

Test(matrix, kill_9_during_snapshots_and_compactions_loses_nothing, .init = setup,
     .fini = teardown, .timeout = 240)
{
    enum { ROUNDS = 24, WRITERS = 3 };
    struct oj_paths paths;
    cr_assert_eq(oj_paths_init(&paths, e.dir), 0);
    srand((unsigned)time(NULL));
    static struct worker all[ROUNDS][WRITERS + 1];
    for (int round = 0; round < ROUNDS; round++) {
        must_start();
        atomic_bool stop = false;
        pthread_t t[WRITERS + 1];
        for (int i = 0; i <= WRITERS; i++) {
            all[round][i] = (struct worker){.sock = paths.sock_path, .stop = &stop,
                                            .kind = i < WRITERS ? 0 : 1 + round % 2, .id = i,
                                            .round = round};
            pthread_create(&t[i], NULL, worker_main, &all[round][i]);
        }
        struct timespec ts = {0, (10 + rand() % 150) * 1000000L};
        nanosleep(&ts, NULL);
        kill(env_daemon_pid(&e), SIGKILL);
        atomic_store(&stop, true);
        for (int i = 0; i <= WRITERS; i++)
            pthread_join(t[i], NULL);
        cr_assert(wait_until(daemon_gone, NULL, 10000));
    }
    must_start();
    struct oj_client *c;
    cr_assert_eq(oj_client_open(&c, paths.sock_path, 30000), 0);
    Oj__LockListRequest req = OJ__LOCK_LIST_REQUEST__INIT;
    Oj__LockListResponse *resp;
    cr_assert_eq(OJ_RPC(c, oj__control__lock_list, &req, &resp), OJ__STATUS_CODE__OK);
    int missing = 0, total = 0;
    for (int round = 0; round < ROUNDS; round++)
        for (int i = 0; i < WRITERS; i++)
            for (int k = 0; k < all[round][i].acked; k++) {
                char name[64];
                snprintf(name, sizeof name, "r%d-w%d-%d", round, i, k);
                bool found = false;
                for (size_t x = 0; x < resp->n_locks && !found; x++)
                    found = strcmp(resp->locks[x]->name, name) == 0;
                if (!found && missing++ < 5)
                    cr_log_error("acknowledged but lost: %s", name);
                total++;
            }
    cr_expect_gt(total, 0);
    cr_expect_eq(missing, 0, "%d of %d acknowledged changes lost", missing, total);
    oj_client_free_reply(resp);
    oj_client_close(c);
}

/* A restore killed at any moment leaves the old state or the restored one,
 * a start that needs no --recover, and every change acknowledged before it
 * that the snapshot holds. */
Test(matrix, kill_9_during_a_restore_leaves_one_state_or_the_other, .init = setup,
     .fini = teardown, .timeout = 240)
{
    enum { ROUNDS = 12 };
    struct oj_paths paths;
    cr_assert_eq(oj_paths_init(&paths, e.dir), 0);
    srand((unsigned)time(NULL) ^ 0x5a5a);
    for (int round = 0; round < ROUNDS; round++) {
        must_start();
        char pre[32], post[32];
        snprintf(pre, sizeof pre, "pre-%d", round);
        snprintf(post, sizeof post, "post-%d", round);
        struct oj_out a = OJ(&e, "lock", "acquire", pre, "--holder", "x");
        cr_assert_eq(a.code, 0, "%s", a.err);
        oj_out_free(&a);
        oj_ok("maintenance", "snapshot");
        struct oj_out b = OJ(&e, "lock", "acquire", post, "--holder", "x");
        cr_assert_eq(b.code, 0, "%s", b.err);
        oj_out_free(&b);
        char *args[] = {"maintenance", "restore-snapshot", "--latest", "--yes", NULL};
        pid_t p = oj_spawn_bg(&e, NULL, NULL, args);
        struct timespec ts = {0, (rand() % 12) * 1000000L};
        nanosleep(&ts, NULL);
        kill(env_daemon_pid(&e), SIGKILL);
        int rc = child_wait_exit(p, 20000);
        cr_assert(wait_until(daemon_gone, NULL, 10000));
        must_start();
        cr_expect(has_lock(pre), "round %d: %s, which the snapshot holds, is gone", round, pre);
        if (rc == 0)
            cr_expect_not(has_lock(post), "round %d: the restore was acknowledged", round);
        struct oj_out stop = OJ(&e, "daemon", "stop", "--force");
        oj_out_free(&stop);
    }
}

/* ---- restore: names never collide; it says what it drops ---------------------- */

Test(matrix, two_restores_in_one_second_then_a_crash_lose_nothing, .init = setup,
     .fini = teardown)
{
    begin();
    acquire_n("a", 2);
    oj_ok("maintenance", "snapshot");
    for (int i = 0; i < 2; i++) {
        struct oj_out r = OJ(&e, "maintenance", "restore-snapshot", "--latest", "--yes");
        cr_assert_eq(r.code, 0, "restore %d: %s", i + 1, r.err);
        oj_out_free(&r);
    }
    acquire("acked-after");
    force_stop();
    struct oj_out o = OJ(&e, "daemon", "start");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    cr_expect(has_lock("acked-after"), "the change acknowledged after two restores is gone");
}

Test(matrix, restore_latest_says_what_it_drops_and_asks_on_a_terminal, .init = setup,
     .fini = teardown)
{
    begin();
    acquire_n("a", 2);
    oj_ok("maintenance", "snapshot");
    acquire_n("b", 3);
    unsigned long long from = acked[2].seq, to = acked[4].seq;

    /* On a terminal (script(1) gives it one), it asks; "n" keeps everything. */
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd,
             "echo n | script -qec '%s -C %s maintenance restore-snapshot --latest' /dev/null",
             e.oj, e.dir);
    char out[4096] = "";
    char *argv[] = {"sh", "-c", cmd, NULL};
    int rc = run_prog(e.dir, 30000, out, sizeof out, argv);
    cr_expect_neq(rc, 0, "declined: %s", out);
    char want[128];
    snprintf(want, sizeof want, "the 3 record(s) written after it, seq %llu..%llu", from, to);
    cr_expect(strstr(out, want) && strstr(out, "lock 5 -> 2") && strstr(out, "Restore? [y/N]") &&
                  strstr(out, "nothing restored"),
              "%s", out);
    cr_expect(has_lock("b3"), "declining changed nothing");

    /* Piped (no terminal), it goes ahead and says the same. */
    struct oj_out r = OJ(&e, "maintenance", "restore-snapshot", "--latest");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_expect(strstr(r.out, want) && strstr(r.out, "lock 5 -> 2"), "%s", r.out);
    cr_expect_not(has_lock("b3"));
    oj_out_free(&r);
}

/* Starts the daemon on a WAL whose last record, as an older daemon wrote
 * it, is lock `name` held by pipeline p1a2b3c. */
static void start_with_an_old_lock(const char *name)
{
    begin();
    acquire_n("a", 1);
    force_stop();
    /* The record the old daemon wrote, appended as the next seq. */
    char text[400];
    snprintf(text, sizeof text,
             "{\"type\":\"put\",\"kind\":\"lock\",\"id\":\"%s\",\"value\":{\"holder\":"
             "\"p1a2b3c\",\"host\":\"\",\"holder_pid\":0,\"since_ms\":1,\"timeout_ms\":60000}}",
             name);
    cJSON *op = cJSON_Parse(text);
    size_t len;
    char *line = oj_wal_format(acked[0].seq + 1, 1, op, &len);
    append_to_wal(line, len);
    free(line);
    cJSON_Delete(op);
    struct oj_out o = OJ(&e, "daemon", "start");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
}

/* A lock taken before lock names had rules (a runbook could hold "../../etc")
 * stays visible and releasable by its exact name; a new one cannot be made. */
Test(matrix, a_lock_with_an_old_style_name_can_still_be_freed, .init = setup, .fini = teardown)
{
    start_with_an_old_lock("../../etc");
    struct oj_out st = OJ(&e, "lock", "status", "../../etc");
    cr_expect_eq(st.code, 0, "%s", st.err);
    cr_expect(strstr(st.out, "p1a2b3c"), "%s", st.out);
    struct oj_out rel = OJ(&e, "lock", "release", "../../etc", "--force");
    cr_expect_eq(rel.code, 0, "the operator must be able to free it: %s", rel.err);
    cr_expect_not(has_lock("../../etc"));
    struct oj_out again = OJ(&e, "lock", "acquire", "../../etc", "--holder", "x");
    cr_expect_eq(again.code, 2, "no new lock gets such a name: %s", again.err);
    oj_out_free(&st);
    oj_out_free(&rel);
    oj_out_free(&again);
}

/* oj lock list shows an old-style name whole, however long, so that the
 * name it shows is the one that releases it. */
Test(matrix, lock_list_shows_an_old_style_long_name_whole, .init = setup, .fini = teardown)
{
    char name[81];
    memset(name, 'n', 80);
    name[80] = '\0';
    start_with_an_old_lock(name);
    struct oj_out l = OJ(&e, "lock", "list", "--json");
    cr_expect_eq(l.code, 0, "%s", l.err);
    char quoted[90];
    snprintf(quoted, sizeof quoted, "\"%s\"", name);
    cr_expect(strstr(l.out, quoted) != NULL, "the 80-character name, not cut: %s", l.out);
    struct oj_out rel = OJ(&e, "lock", "release", name, "--force");
    cr_expect_eq(rel.code, 0, "%s", rel.err);
    cr_expect_not(has_lock(name));
    oj_out_free(&l);
    oj_out_free(&rel);
}
