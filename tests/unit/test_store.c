/* The durable store on real files in a scratch directory: restarts, torn
 * tails, corruption, snapshots, compaction, restore. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "store.h"
#include "wal.h"

#include "store_fixture.h"

Test(store, restart_rebuilds_exactly_the_acknowledged_state, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    for (int i = 0; i < 200; i++) {
        char id[16];
        snprintf(id, sizeof id, "id-%d", i);
        put(s, i % 2 ? "lock" : "pipeline", i % 7 == 0 ? "same" : id, i);
    }
    char err[512];
    cr_assert_neq(oj_store_commit(s, oj_op_del("lock", "same"), err, sizeof err), 0);
    cr_expect_eq(oj_store_commit(s, oj_op_put("lock", "", cJSON_CreateObject()), err, sizeof err),
                 0, "a malformed change is refused before it reaches the WAL");
    cJSON *before = dump(s);
    uint64_t seq = oj_state_seq(oj_store_state(s));
    oj_store_close(s, false);

    s = must_open();
    cJSON *after = dump(s);
    cr_expect(cJSON_Compare(before, after, 1), "state after restart differs");
    cr_expect_eq(oj_state_seq(oj_store_state(s)), seq);
    cr_expect_eq(put(s, "lock", "next", 1), seq + 1, "numbering carries on");
    cr_expect_str_eq(notes, "", "a clean restart has nothing to report");
    cJSON_Delete(before);
    cJSON_Delete(after);
    oj_store_close(s, false);
}

Test(store, missing_and_empty_files_are_a_fresh_start, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    cr_expect_eq(oj_state_seq(oj_store_state(s)), 0);
    cr_expect_eq(put(s, "lock", "a", 1), 1, "the first record is seq 1");
    oj_store_close(s, false);
    cr_assert_eq(truncate(wal, 0), 0);
    s = must_open();
    cr_expect_eq(oj_state_total(oj_store_state(s)), 0);
    oj_store_close(s, false);
}

Test(store, a_torn_tail_is_cut_off_with_a_warning, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    for (int i = 1; i <= 3; i++)
        put(s, "lock", (char[2]){(char)('a' + i), 0}, i);
    cJSON *before = dump(s);
    oj_store_close(s, false);
    off_t good = file_size(wal);
    append(wal, "{\"seq\":4,\"time\":17958802803,\"crc\":\"12345678\",\"op\":{\"type\":\"pu");

    s = must_open();
    cr_expect(strstr(notes, "never finished") && strstr(notes, "after seq 3") &&
                  strstr(notes, "wal.jsonl.torn-"),
              "notes: %s", notes);
    cr_expect_eq(file_size(wal), good, "the torn part is gone from the file");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "grep -q '\"op\":{\"type\":\"pu$' %s/wal.jsonl.torn-*", dir);
    cr_expect_eq(system(cmd), 0, "the torn bytes are kept beside the WAL");
    cJSON *after = dump(s);
    cr_expect(cJSON_Compare(before, after, 1));
    cr_expect_eq(put(s, "lock", "z", 9), 4);
    oj_store_close(s, false);
    cJSON_Delete(before);
    cJSON_Delete(after);

    /* And the file is valid again: a clean restart. */
    notes[0] = '\0';
    s = must_open();
    cr_expect_str_eq(notes, "");
    cr_expect_not_null(oj_state_get(oj_store_state(s), "lock", "z"));
    oj_store_close(s, false);
}

Test(store, garbage_appended_is_damage_not_a_torn_write, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    put(s, "lock", "a", 1);
    oj_store_close(s, false);
    off_t size = file_size(wal);
    append(wal, "garbage\n\x01\x02 more garbage\n");
    char err[1024];
    cr_assert_eq(open_store(&s, false, err), -1, "complete lines of garbage are no torn write");
    cr_expect(strstr(err, "any seq from 2 on") && strstr(err, "lines 2-3") &&
                  strstr(err, "oj daemon start --recover"),
              "%s", err);
    cr_expect_eq(file_size(wal), size + 24, "refusing changes nothing");
    cr_assert_eq(open_store(&s, true, err), 0, "--recover: %s", err);
    cr_expect_eq(oj_state_total(oj_store_state(s)), 1);
    cr_expect_gt(put(s, "lock", "b", 2), 2, "a seq the garbage may have held is never reused");
    oj_store_close(s, false);
}

Test(store, a_flipped_bit_in_the_middle_refuses_to_start, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    for (int i = 1; i <= 5; i++)
        put(s, "lock", (char[2]){(char)('a' + i), 0}, i);
    oj_store_close(s, false);
    flip_in_line(2);
    off_t size = file_size(wal);

    char err[1024];
    cr_assert_eq(open_store(&s, false, err), -1, "a corrupt WAL must not load");
    cr_expect(strstr(err, "seq 2 (damaged WAL line 2: checksum") &&
                  strstr(err, "seq 3..5 (intact records on WAL lines 3-5, after the gap)") &&
                  strstr(err, "oj daemon start --recover"),
              "%s", err);
    cr_expect_eq(file_size(wal), size, "refusing changes nothing");

    cr_assert_eq(open_store(&s, true, err), 0, "--recover: %s", err);
    cr_expect(strstr(notes, "recovered") && strstr(notes, "seq 3..5"), "notes: %s", notes);
    cr_expect_not_null(oj_state_get(oj_store_state(s), "lock", "b"));
    cr_expect_null(oj_state_get(oj_store_state(s), "lock", "c"));
    cr_expect_gt(put(s, "lock", "new", 1), 5, "numbering continues past every seq used");
    oj_store_close(s, false);

    /* The whole damaged WAL is kept beside the new one. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "grep -c seq %s/wal.jsonl.corrupt-* | grep -qx 5", dir);
    cr_expect_eq(system(cmd), 0, "the kept copy holds all 5 lines");

    /* And the recovery sticks: the next start is clean. */
    notes[0] = '\0';
    s = must_open();
    cr_expect_str_eq(notes, "");
    cr_expect_not_null(oj_state_get(oj_store_state(s), "lock", "new"));
    oj_store_close(s, false);
}

Test(store, a_corrupt_newest_snapshot_falls_back_to_an_older_one, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    put(s, "lock", "a", 1);
    struct oj_snapshot_info info;
    char err[512];
    cr_assert_eq(oj_store_snapshot(s, &info, err, sizeof err), 0, "%s", err);
    put(s, "lock", "b", 2);
    put(s, "lock", "c", 3);
    cJSON *before = dump(s);
    oj_store_close(s, false);
    /* A newer snapshot that does not verify. */
    write_snapshot_file("00000000000000000003-20991231T235959Z.json",
                        "{\"format\":\"oj-snapshot\",\"version\":1,\"seq\":3,\"time\":1,"
                        "\"crc\":\"00000000\",\"state\":{}}\n");
    s = must_open();
    cr_expect(strstr(notes, "00000000000000000003-20991231T235959Z is unusable") &&
                  strstr(notes, "started from snapshot"),
              "notes: %s", notes);
    cJSON *after = dump(s);
    cr_expect(cJSON_Compare(before, after, 1), "older snapshot + WAL = the same state");
    cJSON_Delete(before);
    cJSON_Delete(after);
    oj_store_close(s, false);
}

Test(store, sequence_numbers_survive_compaction, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    for (int i = 0; i < 50; i++)
        put(s, "pipeline", (char[8]){'p', (char)('a' + i % 26), (char)('a' + i / 26), 0}, i);
    struct oj_compact_result r;
    char err[512];
    cr_assert_eq(oj_store_compact(s, &r, err, sizeof err), 0, "%s", err);
    cr_expect_gt(r.wal_bytes_before, 0);
    cr_expect_lt(r.wal_bytes_after, 200, "only the base record is left");
    cr_expect_eq(file_size(wal), (off_t)r.wal_bytes_after);
    cr_expect_eq(r.snapshot.seq, 50);
    cr_expect_eq(put(s, "lock", "after", 1), 52, "seq 51 is the base record naming the snapshot");
    cJSON *before = dump(s);
    oj_store_close(s, false);

    s = must_open();
    cJSON *after = dump(s);
    cr_expect(cJSON_Compare(before, after, 1));
    cr_expect_eq(put(s, "lock", "again", 1), 53, "never reused");
    cJSON_Delete(before);
    cJSON_Delete(after);
    oj_store_close(s, false);
}

Test(store, restore_round_trip_keeps_the_old_wal_and_never_reuses_seqs, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    put(s, "lock", "a", 1);
    put(s, "lock", "b", 2);
    struct oj_snapshot_info snap;
    char err[512];
    cr_assert_eq(oj_store_snapshot(s, &snap, err, sizeof err), 0, "%s", err);
    cJSON *at_snapshot = dump(s);
    put(s, "lock", "c", 3);
    char e2[512];
    cr_assert_neq(oj_store_commit(s, oj_op_del("lock", "a"), e2, sizeof e2), 0);

    struct oj_restore_result r;
    cr_assert_eq(oj_store_restore(s, snap.id, false, &r, err, sizeof err), 0, "%s", err);
    cJSON *restored = dump(s);
    cr_expect(cJSON_Compare(at_snapshot, restored, 1), "state is the snapshot's");
    cr_expect_eq(r.written.seq, 5, "the restore is seq 5, after the 4 records before it");
    cr_expect_eq(r.dropped_from, 3, "the two changes after the snapshot leave the live state");
    cr_expect_eq(r.dropped_to, 4);
    cr_expect_eq(r.dropped_count, 2);
    cr_expect_str_eq(r.counts, "lock 2 -> 2");
    cr_expect_eq(put(s, "lock", "d", 4), 7, "seq 6 is the new WAL's base record");
    /* The replaced WAL is kept with its 4 records. */
    char cmd[4500];
    snprintf(cmd, sizeof cmd, "test $(wc -l < %s) -eq 4", r.wal_backup);
    cr_expect_eq(system(cmd), 0, "backup %s", r.wal_backup);
    cJSON *before = dump(s);
    oj_store_close(s, false);

    s = must_open();
    cJSON *after = dump(s);
    cr_expect(cJSON_Compare(before, after, 1), "the restore survives a restart");
    cr_expect_eq(put(s, "lock", "e", 5), 8);
    cr_expect_eq(oj_store_restore(s, "00000000000000000099-20200101T000000Z", false, &r, err,
                                  sizeof err),
                 -2, "an unknown id is not found");
    cJSON_Delete(at_snapshot);
    cJSON_Delete(restored);
    cJSON_Delete(before);
    cJSON_Delete(after);
    oj_store_close(s, false);
}

/* The online restore in steps (the daemon runs the middle one off the engine
 * thread): until finish, the live state is the old one and nothing may be
 * committed (the change would go to the WAL being replaced); finish swaps
 * the restored state in, and that survives a restart. */
Test(store, restore_in_steps_keeps_the_old_state_live_until_finish, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    put(s, "lock", "a", 1);
    struct oj_snapshot_info snap;
    char err[512];
    cr_assert_eq(oj_store_snapshot(s, &snap, err, sizeof err), 0, "%s", err);
    cJSON *at_snapshot = dump(s);
    put(s, "lock", "b", 2);
    cJSON *live = dump(s);

    struct oj_restore_job *j = oj_store_restore_begin(s, snap.id, false);
    cr_assert_not_null(j);
    oj_store_restore_work(j);
    cJSON *during = dump(s);
    cr_expect(cJSON_Compare(live, during, 1), "reads see the old state until finish");
    cr_expect_eq(oj_store_commit(s, oj_op_del("lock", "a"), err, sizeof err), 0,
                 "a change while the restore's files are written is refused");
    cr_expect(strstr(err, "restore") != NULL, "%s", err);
    struct oj_restore_result r;
    cr_assert_eq(oj_store_restore_finish(s, j, &r, err, sizeof err), 0, "%s", err);
    cJSON *restored = dump(s);
    cr_expect(cJSON_Compare(at_snapshot, restored, 1), "the snapshot's state is live");
    cr_expect_eq(r.written.seq, 3, "seq 2 was lock b; the restore is the next");
    cr_expect_eq(put(s, "lock", "c", 3), 5, "changes go on after the new WAL's base record");
    cJSON *before = dump(s);
    oj_store_close(s, false);

    s = must_open();
    cJSON *after = dump(s);
    cr_expect(cJSON_Compare(before, after, 1), "the restore survives a restart");
    cJSON_Delete(at_snapshot);
    cJSON_Delete(live);
    cJSON_Delete(during);
    cJSON_Delete(restored);
    cJSON_Delete(before);
    cJSON_Delete(after);
    oj_store_close(s, false);
}

Test(store, automatic_snapshots_and_pruning, .init = mk, .fini = rm)
{
    struct oj_store *s;
    char err[1024];
    struct oj_store_opts o = {.state_dir = dir, .snapshot_every = 10, .snapshot_keep = 2,
                              .note = on_note};
    cr_assert_eq(oj_store_open(&s, &o, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < 45; i++)
        put(s, "lock", (char[4]){(char)('a' + i % 26), (char)('a' + i / 26), 0}, i);
    struct oj_store_stats st;
    oj_store_stats(s, &st);
    cr_expect_eq(st.snapshot_count, 2, "kept %u", st.snapshot_count);
    cr_expect_eq(st.records_since_snapshot, 5);
    oj_store_close(s, true);
    oj_store_open(&s, &o, err, sizeof err);
    oj_store_stats(s, &st);
    cr_expect_eq(st.records_since_snapshot, 0, "graceful close takes a snapshot");
    oj_store_close(s, false);
}

struct counter {
    int calls;
};
static void count(void *arg) { ((struct counter *)arg)->calls++; }

Test(store, replies_wait_for_the_sync, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    struct counter c = {0};
    oj_store_after_sync(s, count, &c);
    cr_expect_eq(c.calls, 1, "nothing pending: runs at once");
    for (int i = 0; i < 100; i++) {
        put(s, "lock", "x", i);
        oj_store_after_sync(s, count, &c);
    }
    oj_store_close(s, false); /* close syncs, so every waiter has run */
    cr_expect_eq(c.calls, 101);
}

/* Group commit led by the committing thread (store.h oj_store_defer_sync):
 * its change wakes no sync thread; oj_store_sync_here makes the sync on the
 * calling thread and hands the reply on before it returns. */
struct on_thread {
    int calls;
    pthread_t thread;
};
static void note_thread(void *arg)
{
    struct on_thread *t = arg;
    t->calls++;
    t->thread = pthread_self();
}

Test(store, a_thread_that_commits_can_sync_and_reply_itself, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    struct oj_store_stats before, after;
    oj_store_stats(s, &before);
    struct on_thread t = {0};
    oj_store_defer_sync(s, true);
    put(s, "lock", "a", 1);
    oj_store_after_sync(s, note_thread, &t);
    oj_store_defer_sync(s, false);
    oj_store_sync_here(s);
    oj_store_stats(s, &after);
    cr_expect_eq(t.calls, 1, "the reply went out before sync_here returned");
    cr_expect(pthread_equal(t.thread, pthread_self()), "on the thread that committed");
    cr_expect_eq(after.syncs, before.syncs + 1, "one sync");
    oj_store_sync_here(s); /* nothing written since: no sync */
    oj_store_stats(s, &before);
    cr_expect_eq(before.syncs, after.syncs);
    oj_store_close(s, false);
}

/* Leaders on several threads and the sync thread at once, as a daemon with
 * clients answered at once and an engine committing runs them: every reply
 * goes out exactly once, none waits for a sync nobody makes (a lost
 * wake-up would leave some uncounted at the deadline). */
enum { LEAD_THREADS = 4, LEAD_EACH = 150, ENGINE_EACH = 150 };
struct lead_run {
    struct oj_store *s;
    pthread_mutex_t *state; /* engine.c's state_mu: one committer at a time */
    bool lead;
    int id;
    atomic_int *replies;
    int failures;
};
static void count_atomic(void *arg) { atomic_fetch_add((atomic_int *)arg, 1); }

static void *lead_main(void *arg)
{
    struct lead_run *r = arg;
    int n = r->lead ? LEAD_EACH : ENGINE_EACH;
    for (int i = 0; i < n; i++) {
        char id[32], err[256];
        snprintf(id, sizeof id, "t%d-%d", r->id, i);
        pthread_mutex_lock(r->state);
        oj_store_defer_sync(r->s, r->lead);
        cJSON *v = cJSON_CreateObject();
        cJSON_AddNumberToObject(v, "n", i);
        if (oj_store_commit(r->s, oj_op_put("lock", id, v), err, sizeof err) == 0)
            r->failures++;
        oj_store_after_sync(r->s, count_atomic, r->replies);
        oj_store_defer_sync(r->s, false);
        pthread_mutex_unlock(r->state);
        if (r->lead)
            oj_store_sync_here(r->s);
    }
    return NULL;
}

Test(store, leaders_and_the_sync_thread_answer_every_change_once, .init = mk, .fini = rm,
     .timeout = 60)
{
    struct oj_store *s = must_open();
    pthread_mutex_t state = PTHREAD_MUTEX_INITIALIZER;
    atomic_int replies = 0;
    pthread_t t[LEAD_THREADS + 1];
    struct lead_run runs[LEAD_THREADS + 1];
    for (int i = 0; i <= LEAD_THREADS; i++) {
        runs[i] = (struct lead_run){.s = s, .state = &state, .lead = i < LEAD_THREADS, .id = i,
                                    .replies = &replies};
        cr_assert_eq(pthread_create(&t[i], NULL, lead_main, &runs[i]), 0);
    }
    for (int i = 0; i <= LEAD_THREADS; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(runs[i].failures, 0);
    }
    int want = LEAD_THREADS * LEAD_EACH + ENGINE_EACH;
    for (int64_t end = oj_mono_ms() + 20000; atomic_load(&replies) < want && oj_mono_ms() < end;)
        usleep(1000);
    cr_expect_eq(atomic_load(&replies), want, "every change answered once, with no close to "
                                              "force the last sync");
    oj_store_close(s, false);
    cr_expect_eq(atomic_load(&replies), want, "and none after the close");
}

Test(store, rebuild_state_replays_the_whole_wal, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    put(s, "lock", "a", 1);
    struct oj_snapshot_info snap;
    char err[1024];
    oj_store_snapshot(s, &snap, err, sizeof err);
    put(s, "lock", "b", 2);
    cJSON *before = dump(s);
    oj_store_close(s, false);
    struct oj_store_opts o = {.state_dir = dir, .rebuild = true, .snapshot_keep = 5,
                              .note = on_note};
    cr_assert_eq(oj_store_open(&s, &o, err, sizeof err), 0, "%s", err);
    cJSON *after = dump(s);
    cr_expect(cJSON_Compare(before, after, 1));
    cr_expect(strstr(notes, "ignoring 1 snapshot") != NULL, "%s", notes);
    struct oj_compact_result r;
    oj_store_compact(s, &r, err, sizeof err);
    put(s, "lock", "c", 3);
    oj_store_close(s, false);
    cr_expect_eq(oj_store_open(&s, &o, err, sizeof err), -1, "a compacted WAL cannot rebuild");
    cr_expect(strstr(err, "compacted") != NULL, "%s", err);
    cJSON_Delete(before);
    cJSON_Delete(after);
}

Test(store, automatic_compaction_past_the_size_limit, .init = mk, .fini = rm)
{
    struct oj_store *s;
    char err[1024];
    struct oj_store_opts o = {.state_dir = dir, .compact_bytes = 2000, .snapshot_keep = 3,
                              .note = on_note};
    cr_assert_eq(oj_store_open(&s, &o, err, sizeof err), 0, "%s", err);
    uint64_t peak = 0;
    for (int i = 0; i < 60; i++) {
        put(s, "lock", "same", i);
        struct oj_store_stats st;
        oj_store_stats(s, &st);
        cr_assert_leq(st.wal_bytes, 2000 + 200, "the WAL grew past the limit: %llu",
                      (unsigned long long)st.wal_bytes);
        if (st.wal_bytes > peak)
            peak = st.wal_bytes;
    }
    struct oj_store_stats st;
    oj_store_stats(s, &st);
    cr_expect_geq(st.snapshot_count, 1, "compaction leaves a snapshot");
    cr_expect_gt(peak, 1000);
    cJSON *before = dump(s);
    uint64_t seq = oj_state_seq(oj_store_state(s));
    cr_expect_gt(seq, 60, "each compaction adds its base record");
    oj_store_close(s, false);
    cr_assert_eq(oj_store_open(&s, &o, err, sizeof err), 0, "%s", err);
    cJSON *after = dump(s);
    cr_expect(cJSON_Compare(before, after, 1));
    cr_expect_eq(oj_state_seq(oj_store_state(s)), seq);
    cJSON_Delete(before);
    cJSON_Delete(after);
    oj_store_close(s, false);
}

Test(store, concurrent_changes_share_syncs, .init = mk, .fini = rm)
{
    /* The engine commits far faster than the disk syncs, as under load: one
     * sync then covers many records, and every waiting reply still goes out. */
    struct oj_store *s = must_open();
    struct counter c = {0};
    enum { N = 300 };
    for (int i = 0; i < N; i++) {
        put(s, "lock", "x", i);
        oj_store_after_sync(s, count, &c);
    }
    struct oj_snapshot_info info;
    char err[512];
    cr_assert_eq(oj_store_snapshot(s, &info, err, sizeof err), 0, "%s", err); /* waits for sync */
    struct oj_store_stats st;
    oj_store_stats(s, &st);
    cr_expect_eq(c.calls, N, "every reply went out");
    cr_expect_geq(st.syncs, 1);
    cr_expect_lt(st.syncs, N / 2, "%llu syncs for %d records: no group commit",
                 (unsigned long long)st.syncs, N);
    oj_store_close(s, false);
}

/* Issue 14: records overwrite a preallocated end instead of growing the file
 * (each sync then commits no new file size). The file grows a chunk at a
 * time, the fill after the records is 0xff, the size the store reports is
 * its records', and a clean close leaves a plain file. */
Test(store, the_wal_grows_in_filled_chunks_and_a_clean_close_cuts_the_fill, .init = mk,
     .fini = rm)
{
    struct oj_store *s = must_open();
    put(s, "lock", "a", 1);
    struct oj_store_stats st;
    oj_store_stats(s, &st);
    off_t size = file_size(wal);
    cr_expect_eq(size, OJ_WAL_CHUNK, "one chunk");
    cr_expect_eq(data_end(), (off_t)st.wal_bytes, "the records end where the store says");
    size_t len;
    char *text = slurp(wal, &len);
    cr_assert_eq(len, (size_t)size);
    bool all_fill = true;
    for (off_t i = (off_t)st.wal_bytes; i < size; i++)
        all_fill = all_fill && (unsigned char)text[i] == OJ_WAL_FILL;
    cr_expect(all_fill, "the rest is fill");
    free(text);

    /* Past the first chunk: grown by another one, records still in one run. */
    char big[4096];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 80; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "pad", big);
        char id[16], err[256];
        snprintf(id, sizeof id, "big%d", i);
        cr_assert_neq(oj_store_commit(s, oj_op_put("lock", id, v), err, sizeof err), 0, "%s",
                      err);
    }
    oj_store_stats(s, &st);
    cr_expect_gt(st.wal_bytes, (uint64_t)OJ_WAL_CHUNK);
    cr_expect_eq(file_size(wal), 2 * OJ_WAL_CHUNK, "grown by a second chunk");
    cr_expect_eq(data_end(), (off_t)st.wal_bytes);

    oj_store_close(s, false);
    cr_expect_eq(file_size(wal), (off_t)st.wal_bytes, "a clean close cuts the fill off");
    s = must_open();
    cr_expect_str_eq(notes, "");
    cr_expect_not_null(oj_state_get(oj_store_state(s), "lock", "big79"));
    oj_store_close(s, false);
}

/* A predicate that counts how often it is asked (see test_state.c). */
static int big_asked;
static bool big(const cJSON *v)
{
    big_asked++;
    return cJSON_GetObjectItemCaseSensitive(v, "n")->valueint >= 100;
}

Test(store, an_index_survives_a_restore, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    cr_assert_eq(oj_store_index(s, "lock", big), 0);
    put(s, "lock", "a", 1);
    put(s, "lock", "b", 200);
    struct oj_snapshot_info snap;
    char err[512];
    cr_assert_eq(oj_store_snapshot(s, &snap, err, sizeof err), 0, "%s", err);
    put(s, "lock", "c", 300);
    struct oj_restore_result r;
    cr_assert_eq(oj_store_restore(s, snap.id, false, &r, err, sizeof err), 0, "%s", err);
    big_asked = 0;
    cr_expect_eq(oj_state_count_where(oj_store_state(s), "lock", big), 1, "b, not c");
    cr_expect_eq(big_asked, 0, "the restored state keeps the index: nothing is looked at");
    put(s, "lock", "d", 400);
    cr_expect_eq(oj_state_count_where(oj_store_state(s), "lock", big), 2);
    oj_store_close(s, false);
}
