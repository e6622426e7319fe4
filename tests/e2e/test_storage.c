/* The storage commands of the runbook and start-up recovery, through the real
 * CLI and daemon: snapshot, compact, restore, archive, a corrupt WAL and
 * --recover, and a crash test that kills the daemon while clients write. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
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
#include "clock.h"
#include "paths.h"
#include "rpc_client.h"
#include "snapshot.h"
#include "state.h"
#include "wal.h"

static struct oj_env e;

static void setup(void) { env_setup(&e, true); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static void start(void)
{
    struct oj_out a = OJ(&e, "daemon", "start");
    cr_assert_eq(a.code, 0, "%s", a.err);
    oj_out_free(&a);
}

static bool daemon_gone(void *arg)
{
    (void)arg;
    return env_daemon_pid(&e) == 0;
}

static void crash(void)
{
    kill(env_daemon_pid(&e), SIGKILL);
    cr_assert(wait_until(daemon_gone, NULL, 10000));
}

static void path_in(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/.oj/%s", e.dir, rel);
}

static void acquire(const char *name)
{
    struct oj_out o = OJ(&e, "lock", "acquire", name, "--holder", "test");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
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

Test(storage, snapshot_compact_restore_from_the_cli, .init = setup, .fini = teardown)
{
    start();
    acquire("one");
    struct oj_out snap = OJ(&e, "maintenance", "snapshot");
    cr_assert_eq(snap.code, 0, "%s", snap.err);
    char id[128];
    snprintf(id, sizeof id, "%.*s", (int)strcspn(snap.out, "\n"), snap.out);
    cr_expect_eq(strlen(id), 37, "id is {seq:20}-{YYYYMMDDTHHMMSSZ}: %s", id);
    char file[PATH_MAX + 200];
    snprintf(file, sizeof file, "%s/.oj/snapshots/%s.json", e.dir, id);
    cr_expect_eq(access(file, F_OK), 0, "snapshot file %s", file);

    acquire("two");
    struct oj_out st = OJ(&e, "status", "--verbose");
    cr_expect(strstr(st.out, "1 records since the last snapshot") != NULL, "%s", st.out);
    cr_expect(strstr(st.out, "snapshots:  1 of 5 kept (newest") != NULL, "%s", st.out);

    struct oj_out c = OJ(&e, "maintenance", "compact");
    cr_expect_eq(c.code, 0, "%s", c.err);
    cr_expect(strstr(c.out, "compacted: WAL") != NULL, "%s", c.out);
    char wal[PATH_MAX];
    path_in(wal, sizeof wal, "wal.jsonl");
    char *text = read_file(wal);
    cr_assert_not_null(text);
    cr_expect(strchr(text, '\n') == text + strlen(text) - 1 && strstr(text, "\"type\":\"base\""),
              "the compacted WAL holds only the base record naming its snapshot: %s", text);
    free(text);

    struct oj_out r = OJ(&e, "maintenance", "restore-snapshot", "--id", id);
    cr_expect_eq(r.code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "restored snapshot") && strstr(r.out, "pre-restore"), "%s", r.out);
    cr_expect(has_lock("one"));
    cr_expect_not(has_lock("two"), "the restored state predates 'two'");

    /* The restore survives a restart, and new changes get new numbers. */
    struct oj_out stop = OJ(&e, "daemon", "stop");
    cr_assert_eq(stop.code, 0);
    start();
    cr_expect(has_lock("one"));
    cr_expect_not(has_lock("two"));
    acquire("three");

    struct oj_out unknown = OJ(&e, "maintenance", "restore-snapshot", "--id", "nope");
    cr_expect_eq(unknown.code, 4, "unknown snapshot: not found (%s)", unknown.err);
    oj_out_free(&snap);
    oj_out_free(&st);
    oj_out_free(&c);
    oj_out_free(&r);
    oj_out_free(&stop);
    oj_out_free(&unknown);
}

/* Writes a WAL by hand, the way an outside tool would from docs/storage.md. */
static void write_wal(const char *const ops[], int n)
{
    char dir[PATH_MAX], wal[PATH_MAX + 16];
    path_in(dir, sizeof dir, "");
    mkdir(dir, 0700);
    path_in(wal, sizeof wal, "wal.jsonl");
    FILE *f = fopen(wal, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < n; i++) {
        cJSON *op = cJSON_Parse(ops[i]);
        cr_assert_not_null(op, "%s", ops[i]);
        size_t len;
        char *line = oj_wal_format((uint64_t)i + 1, oj_wall_ms(), op, &len);
        fwrite(line, 1, len, f);
        free(line);
        cJSON_Delete(op);
    }
    fclose(f);
}

Test(storage, archive_moves_old_finished_pipelines, .init = setup, .fini = teardown)
{
    /* Pipelines arrive with a later issue; their state is written here directly. */
    char ops[4][256];
    int64_t old = oj_wall_ms() - 40LL * 86400 * 1000, recent = oj_wall_ms() - 1000;
    snprintf(ops[0], sizeof ops[0], "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p-old-done\",\"value\":{\"state\":\"done\",\"updated_at_ms\":%lld}}", (long long)old);
    snprintf(ops[1], sizeof ops[1], "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p-old-failed\",\"value\":{\"state\":\"failed\",\"updated_at_ms\":%lld}}", (long long)old);
    snprintf(ops[2], sizeof ops[2], "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p-old-running\",\"value\":{\"state\":\"running\",\"updated_at_ms\":%lld}}", (long long)old);
    snprintf(ops[3], sizeof ops[3], "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p-new-done\",\"value\":{\"state\":\"done\",\"updated_at_ms\":%lld}}", (long long)recent);
    const char *const list[] = {ops[0], ops[1], ops[2], ops[3]};
    write_wal(list, 4);
    /* Not on its own (OJ_RETAIN_FINISHED, tests/e2e/test_history.c): by the command. */
    char *envp[] = {"OJ_RETAIN_FINISHED=0", NULL};
    struct oj_out s = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    cr_assert_eq(s.code, 0, "%s", s.err);
    oj_out_free(&s);

    struct oj_out a = OJ(&e, "maintenance", "archive", "--older-than", "30d");
    cr_assert_eq(a.code, 0, "%s", a.err);
    cr_expect(strstr(a.out, "archived 2 pipeline(s) and 0 session(s) to") != NULL, "%s", a.out);
    struct oj_out again = OJ(&e, "maintenance", "archive", "--older-than", "30d");
    cr_expect(strstr(again.out, "archived 0") != NULL, "nothing left to archive: %s", again.out);

    /* The archive is readable JSON holding exactly the two. */
    char adir[PATH_MAX];
    path_in(adir, sizeof adir, "archive");
    DIR *d = opendir(adir);
    cr_assert_not_null(d);
    struct dirent *de;
    char found[PATH_MAX + 300] = "";
    while ((de = readdir(d)))
        if (strncmp(de->d_name, "archive-", 8) == 0)
            snprintf(found, sizeof found, "%s/%s", adir, de->d_name);
    closedir(d);
    char *text = read_file(found);
    cr_assert_not_null(text, "no archive file");
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j);
    cJSON *p = cJSON_GetObjectItem(j, "pipelines");
    cr_expect_eq(cJSON_GetArraySize(p), 2);
    cr_expect_not_null(cJSON_GetObjectItem(p, "p-old-done"));
    cr_expect_not_null(cJSON_GetObjectItem(p, "p-old-failed"));
    cJSON_Delete(j);
    free(text);

    /* Journaled: after a crash the two are still gone, the others still live. */
    crash();
    start();
    struct oj_out stop = OJ(&e, "daemon", "stop"); /* writes a snapshot of the state */
    cr_assert_eq(stop.code, 0);
    char sdir[PATH_MAX];
    path_in(sdir, sizeof sdir, "snapshots");
    d = opendir(sdir);
    char snap[PATH_MAX + 300] = "";
    while ((de = readdir(d)))
        if (de->d_name[0] == '0')
            snprintf(snap, sizeof snap, "%s/%s", sdir, de->d_name);
    closedir(d);
    struct oj_state *st = oj_state_new();
    char err[256];
    cr_assert_eq(oj_snapshot_load(snap, st, err, sizeof err), 0, "%s", err);
    cr_expect_null(oj_state_get(st, "pipeline", "p-old-done"));
    cr_expect_null(oj_state_get(st, "pipeline", "p-old-failed"));
    cr_expect_not_null(oj_state_get(st, "pipeline", "p-old-running"), "unfinished stays");
    cr_expect_not_null(oj_state_get(st, "pipeline", "p-new-done"), "recent stays");
    oj_state_free(st);
    oj_out_free(&a);
    oj_out_free(&again);
    oj_out_free(&stop);
}

Test(storage, a_corrupt_wal_refuses_to_start_until_recover, .init = setup, .fini = teardown)
{
    start();
    acquire("a");
    acquire("b");
    acquire("c");
    struct oj_out stop = OJ(&e, "daemon", "stop");
    cr_assert_eq(stop.code, 0);
    oj_out_free(&stop);
    /* Remove the stop's snapshot so the WAL is what counts, then flip a byte in line 2. */
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd,
             "rm -f %s/.oj/snapshots/*.json && sed -i '2s/\"holder\":\"test\"/\"holder\":\"tesT\"/' "
             "%s/.oj/wal.jsonl",
             e.dir, e.dir);
    cr_assert_eq(system(cmd), 0);

    struct oj_out bad = OJ(&e, "daemon", "start");
    cr_expect_eq(bad.code, 1);
    cr_expect(strstr(bad.err, "seq 2 (damaged WAL line 2: checksum mismatch") &&
                  strstr(bad.err, "seq 3 (intact records on WAL line 3, after the gap)") &&
                  strstr(bad.err, "oj daemon start --recover"),
              "%s", bad.err);
    cr_expect_eq(env_daemon_pid(&e), 0);

    struct oj_out rec = OJ(&e, "daemon", "start", "--recover");
    cr_assert_eq(rec.code, 0, "%s", rec.err);
    cr_expect(strstr(rec.out, "note: recovered") && strstr(rec.out, "corrupt-"), "%s", rec.out);
    cr_expect(has_lock("a"));
    cr_expect_not(has_lock("b"));
    cr_expect_not(has_lock("c"));
    oj_out_free(&bad);
    oj_out_free(&rec);
}

Test(storage, a_torn_tail_is_cut_with_a_note, .init = setup, .fini = teardown)
{
    start();
    acquire("a");
    crash();
    char wal[PATH_MAX];
    path_in(wal, sizeof wal, "wal.jsonl");
    const char *torn = "{\"seq\":2,\"time\":1,\"crc\":\"00";
    wal_write_at_end(wal, torn, strlen(torn)); /* where the next record goes */
    struct oj_out o = OJ(&e, "daemon", "start");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "note: WAL: cut off a record whose write never finished") &&
                  strstr(o.out, "wal.jsonl.torn-"),
              "%s", o.out);
    cr_expect(has_lock("a"));
    oj_out_free(&o);
}

/* ---- crash test ------------------------------------------------------------ */

struct writer {
    int id, round;
    const char *sock;
    atomic_bool *stop;
    atomic_int acked; /* names acquire_<round>_<id>_<k> for k < acked were acknowledged */
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct oj_client *c;
    if (oj_client_open(&c, w->sock, 5000) != 0)
        return NULL;
    oj_client_set_retry(c, 0); /* a dead daemon ends the writer at once */
    for (int k = 0; !atomic_load(w->stop); k++) {
        char name[64];
        snprintf(name, sizeof name, "r%d-w%d-%d", w->round, w->id, k);
        Oj__LockAcquireRequest req = OJ__LOCK_ACQUIRE_REQUEST__INIT;
        req.name = name;
        req.holder = "crash-test";
        Oj__LockInfo *resp;
        if (OJ_RPC(c, oj__control__lock_acquire, &req, &resp) != OJ__STATUS_CODE__OK)
            break;
        oj_client_free_reply(resp);
        w->acked = k + 1;
    }
    oj_client_close(c);
    return NULL;
}

Test(storage, every_acknowledged_change_survives_sigkill, .init = setup, .fini = teardown,
     .timeout = 240)
{
    enum { ROUNDS = 30, WRITERS = 4 };
    struct oj_paths paths;
    cr_assert_eq(oj_paths_init(&paths, e.dir), 0);
    srand((unsigned)time(NULL));
    int total_acked = 0;
    struct writer all[ROUNDS][WRITERS];
    for (int round = 0; round < ROUNDS; round++) {
        start();
        atomic_bool stop = false;
        pthread_t t[WRITERS];
        for (int i = 0; i < WRITERS; i++) {
            all[round][i] = (struct writer){.id = i, .round = round, .sock = paths.sock_path,
                                            .stop = &stop};
            pthread_create(&t[i], NULL, writer_main, &all[round][i]);
        }
        /* Kill at a random moment while the writers run. */
        struct timespec ts = {0, (20 + rand() % 200) * 1000000L};
        nanosleep(&ts, NULL);
        kill(env_daemon_pid(&e), SIGKILL);
        atomic_store(&stop, true);
        for (int i = 0; i < WRITERS; i++)
            pthread_join(t[i], NULL);
        cr_assert(wait_until(daemon_gone, NULL, 10000));
    }
    start();
    /* Every acknowledged name of every round is there. */
    struct oj_client *c;
    cr_assert_eq(oj_client_open(&c, paths.sock_path, 30000), 0);
    Oj__LockListRequest req = OJ__LOCK_LIST_REQUEST__INIT;
    Oj__LockListResponse *resp;
    cr_assert_eq(OJ_RPC(c, oj__control__lock_list, &req, &resp), OJ__STATUS_CODE__OK);
    int missing = 0;
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
                total_acked++;
            }
    cr_expect_eq(missing, 0, "%d of %d acknowledged changes lost", missing, total_acked);
    cr_expect_gt(total_acked, ROUNDS, "the writers hardly wrote anything (%d)", total_acked);
    oj_client_free_reply(resp);
    oj_client_close(c);
}

/* Readers list the locks while writers acquire new ones: read-only calls may
 * run on nng's thread instead of the engine's (engine.c), under the lock the
 * engine holds around everything it runs. Each list must hold every lock a
 * writer had been told it holds before the list was asked for, and be read
 * whole while the table grows (the sanitizer build sees a torn read). */
struct lister {
    const char *sock;
    struct writer *writers;
    int n_writers;
    atomic_bool *stop;
    int lists, missing;
    char first_missing[64];
};

static void *lister_main(void *arg)
{
    struct lister *l = arg;
    struct oj_client *c;
    if (oj_client_open(&c, l->sock, 5000) != 0)
        return NULL;
    while (!atomic_load(l->stop)) {
        int acked[8];
        for (int i = 0; i < l->n_writers; i++)
            acked[i] = atomic_load(&l->writers[i].acked);
        Oj__LockListRequest req = OJ__LOCK_LIST_REQUEST__INIT;
        Oj__LockListResponse *resp;
        if (OJ_RPC(c, oj__control__lock_list, &req, &resp) != OJ__STATUS_CODE__OK)
            break;
        l->lists++;
        /* Every 64th acknowledged lock of each writer and its newest ones, which a
         * stale or torn read would miss first (checking all is quadratic). */
        for (int i = 0; i < l->n_writers; i++)
            for (int k = 0; k < acked[i]; k = k + 64 < acked[i] - 1 ? k + 64 : k + 1) {
                char name[64];
                snprintf(name, sizeof name, "r%d-w%d-%d", l->writers[i].round,
                         l->writers[i].id, k);
                bool found = false;
                for (size_t x = 0; x < resp->n_locks && !found; x++)
                    found = strcmp(resp->locks[x]->name, name) == 0;
                if (!found && l->missing++ == 0)
                    snprintf(l->first_missing, sizeof l->first_missing, "%s", name);
            }
        oj_client_free_reply(resp);
    }
    oj_client_close(c);
    return NULL;
}

Test(storage, lists_beside_a_stream_of_changes_hold_every_acknowledged_one, .init = setup,
     .fini = teardown, .timeout = 120)
{
    enum { WRITERS = 3, LISTERS = 2, RUN_MS = 1500 };
    struct oj_paths paths;
    cr_assert_eq(oj_paths_init(&paths, e.dir), 0);
    start();
    atomic_bool stop = false;
    struct writer w[WRITERS];
    struct lister l[LISTERS];
    pthread_t t[WRITERS + LISTERS];
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (struct writer){.id = i, .sock = paths.sock_path, .stop = &stop};
        pthread_create(&t[i], NULL, writer_main, &w[i]);
    }
    for (int i = 0; i < LISTERS; i++) {
        l[i] = (struct lister){.sock = paths.sock_path, .writers = w, .n_writers = WRITERS,
                               .stop = &stop};
        pthread_create(&t[WRITERS + i], NULL, lister_main, &l[i]);
    }
    struct timespec ts = {RUN_MS / 1000, (RUN_MS % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(&stop, true);
    for (int i = 0; i < WRITERS + LISTERS; i++)
        pthread_join(t[i], NULL);
    int written = 0;
    for (int i = 0; i < WRITERS; i++)
        written += atomic_load(&w[i].acked);
    for (int i = 0; i < LISTERS; i++) {
        cr_expect_eq(l[i].missing, 0, "lister %d: %d acknowledged locks missing, first %s", i,
                     l[i].missing, l[i].first_missing);
        cr_expect_gt(l[i].lists, 10, "lister %d listed only %d times", i, l[i].lists);
    }
    cr_expect_gt(written, 50, "the writers wrote only %d locks", written);
    cr_expect(env_daemon_pid(&e) > 0, "the daemon died");
}

Test(storage, restore_works_offline_when_a_corrupt_wal_blocks_the_start, .init = setup,
     .fini = teardown)
{
    start();
    acquire("kept");
    struct oj_out snap = OJ(&e, "maintenance", "snapshot");
    cr_assert_eq(snap.code, 0, "%s", snap.err);
    acquire("after-1");
    acquire("after-2");
    acquire("after-3");
    crash(); /* no snapshot at stop */
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd,
             "sed -i '2s/\"holder\":\"test\"/\"holder\":\"tesT\"/' %s/.oj/wal.jsonl", e.dir);
    cr_assert_eq(system(cmd), 0);
    struct oj_out bad = OJ(&e, "daemon", "start");
    cr_assert_eq(bad.code, 1, "the corrupt WAL must block the start: %s", bad.out);

    struct oj_out r = OJ(&e, "maintenance", "restore-snapshot", "--latest");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "restored snapshot") && strstr(r.out, "not running"), "%s", r.out);
    unsigned long long seq = 0;
    const char *as = strstr(r.out, ") as seq ");
    cr_expect(as && sscanf(as, ") as seq %llu", &seq) == 1 && seq > 4,
              "numbered past the 4 records, bad one included: %s", r.out);
    cr_expect(strstr(r.out, "3 record(s) written after it, seq 2..4"), "says what it drops: %s",
              r.out);
    struct oj_out ok = OJ(&e, "daemon", "start");
    cr_assert_eq(ok.code, 0, "%s", ok.err);
    cr_expect(has_lock("kept"));
    cr_expect_not(has_lock("after-3"));
    oj_out_free(&snap);
    oj_out_free(&bad);
    oj_out_free(&r);
    oj_out_free(&ok);
}

/* docs/storage.md's Python checker, run as written: it accepts the WAL the
 * daemon writes (base record included) and catches one changed byte of a
 * record's time, which the old checksum did not cover. */
/* With no daemon running the daemon's own code restores (daemon_main.h; the
 * CLI links no store): on a terminal it asks first and "n" changes nothing,
 * and --json answers with what the RestoreSnapshot rpc would. */
Test(storage, an_offline_restore_asks_on_a_terminal_and_answers_json, .init = setup,
     .fini = teardown)
{
    start();
    acquire("kept");
    struct oj_out snap = OJ(&e, "maintenance", "snapshot");
    cr_assert_eq(snap.code, 0, "%s", snap.err);
    char id[128];
    snprintf(id, sizeof id, "%s", snap.out);
    id[strcspn(id, "\n")] = '\0';
    acquire("dropped");
    struct oj_out stop = OJ(&e, "daemon", "stop");
    cr_assert_eq(stop.code, 0, "%s", stop.err);

    char wal[PATH_MAX];
    path_in(wal, sizeof wal, "wal.jsonl");
    char *before = read_file(wal);
    char cmd[PATH_MAX * 2 + 256];
    snprintf(cmd, sizeof cmd,
             "echo n | script -qec '%s -C %s maintenance restore-snapshot --id %s' /dev/null",
             e.oj, e.dir, id);
    char out[4096] = "";
    char *argv[] = {"sh", "-c", cmd, NULL};
    cr_expect_neq(run_prog(e.dir, 30000, out, sizeof out, argv), 0, "declined: %s", out);
    cr_expect(strstr(out, "Restore? [y/N]") && strstr(out, "nothing restored"), "%s", out);
    char *after = read_file(wal);
    cr_expect(before && after && strcmp(before, after) == 0, "declining changed the WAL");
    free(before);
    free(after);

    struct oj_out r = OJ(&e, "maintenance", "restore-snapshot", "--id", id, "--json");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cJSON *j = cJSON_Parse(r.out);
    cr_assert_not_null(j, "%s", r.out);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "snapshot_id")), id);
    cr_expect_gt(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "sequence")), 0, "%s", r.out);
    cr_expect_geq(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "dropped_count")), 1, "%s",
                  r.out);
    const char *backup = cJSON_GetStringValue(cJSON_GetObjectItem(j, "wal_backup"));
    cr_expect(backup && strstr(backup, "pre-restore"), "%s", r.out);
    cJSON_Delete(j);

    start();
    cr_expect(has_lock("kept"));
    cr_expect_not(has_lock("dropped"), "the restored state predates 'dropped'");
    oj_out_free(&snap);
    oj_out_free(&stop);
    oj_out_free(&r);
}

Test(storage, the_documented_wal_checker_accepts_real_logs_and_catches_damage, .init = setup,
     .fini = teardown)
{
    char *doc = read_file("docs/storage.md");
    cr_assert_not_null(doc, "tests run from the repository root");
    char *sect = strstr(doc, "## `wal.jsonl`");
    char *code = sect ? strstr(sect, "```python\n") : NULL;
    cr_assert_not_null(code, "no ```python block under ## `wal.jsonl`");
    code += strlen("```python\n");
    char *fence = strstr(code, "```");
    cr_assert_not_null(fence);
    char script[PATH_MAX + 32];
    snprintf(script, sizeof script, "%s/check.py", e.dir);
    FILE *f = fopen(script, "w");
    fwrite(code, 1, (size_t)(fence - code), f);
    fputs("print('ok')\n", f);
    fclose(f);
    free(doc);

    start();
    acquire("one");
    struct oj_out c = OJ(&e, "maintenance", "compact");
    cr_assert_eq(c.code, 0, "%s", c.err);
    oj_out_free(&c);
    acquire("two");
    char out[4096];
    char *argv[] = {"/usr/bin/python3", script, NULL};
    cr_expect_eq(run_prog(e.dir, 30000, out, sizeof out, argv), 0, "%s", out);
    cr_expect(strstr(out, "ok") != NULL, "%s", out);

    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd, "sed -i '2s/\"time\":1/\"time\":2/' %s/.oj/wal.jsonl", e.dir);
    cr_assert_eq(system(cmd), 0);
    cr_expect_neq(run_prog(e.dir, 30000, out, sizeof out, argv), 0, "a changed time passed: %s",
                  out);
    cr_expect(strstr(out, "line 2: checksum") != NULL, "%s", out);
}
