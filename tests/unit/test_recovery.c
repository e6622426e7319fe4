/* Start-up never goes back past an acknowledged seq: docs/storage.md's recovery
 * table, case by case, on real files (the store opened and closed as the
 * daemon does), plus the pure rules of recovery.c. */
#include <dirent.h>

#include "crc32.h"

#include "recovery.h"
#include "store_fixture.h"

static void puts_n(struct oj_store *s, const char *prefix, int from, int to)
{
    for (int i = from; i <= to; i++) {
        char id[96];
        snprintf(id, sizeof id, "%s%d", prefix, i);
        put(s, "lock", id, i);
    }
}

static bool has(struct oj_store *s, const char *id)
{
    return oj_state_get(oj_store_state(s), "lock", id) != NULL;
}

/* The path of the newest snapshot file (by name). */
static void newest_snapshot(char *path, size_t len)
{
    struct oj_snapshot_info *list;
    char err[256];
    int n = oj_snapshot_list(snaps, &list, err, sizeof err);
    cr_assert_gt(n, 0, "no snapshot");
    snprintf(path, len, "%s/%s.json", snaps, list[0].id);
    free(list);
}

static void flip_byte(const char *path, long at_from_end)
{
    FILE *f = fopen(path, "r+");
    cr_assert_not_null(f);
    fseek(f, -at_from_end, SEEK_END);
    int c = fgetc(f);
    fseek(f, -at_from_end, SEEK_END);
    fputc(c ^ 0x04, f);
    fclose(f);
}

static int count_files(const char *suffix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += strstr(de->d_name, suffix) != NULL;
    if (d)
        closedir(d);
    return n;
}

/* Issue 9 item 1: A1..A3, snapshot, B1..B3, compact, then the newest snapshot
 * is damaged. The old code started on the older snapshot without B1..B3 and
 * wrote the next change as seq 4. */
static struct oj_store *compacted_a_then_b(void)
{
    struct oj_store *s = must_open();
    puts_n(s, "A", 1, 3);
    struct oj_snapshot_info info;
    char err[512];
    cr_assert_eq(oj_store_snapshot(s, &info, err, sizeof err), 0, "%s", err);
    puts_n(s, "B", 1, 3);
    struct oj_compact_result r;
    cr_assert_eq(oj_store_compact(s, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r.snapshot.seq, 6);
    oj_store_close(s, false);
    return NULL;
}

Test(recovery, a_damaged_snapshot_under_a_compacted_wal_refuses_instead_of_rolling_back,
     .init = mk, .fini = rm)
{
    compacted_a_then_b();
    char path[512];
    newest_snapshot(path, sizeof path);
    flip_byte(path, 40);

    struct oj_store *s;
    char err[4096];
    cr_assert_eq(open_store(&s, false, err), -1, "started without B1..B3");
    cr_expect(strstr(err, "seq 4..6 (only in snapshot 00000000000000000006-") &&
                  strstr(err, "which is unusable: checksum mismatch") &&
                  strstr(err, "oj daemon start --recover"),
              "%s", err);

    /* --recover accepts the loss, keeps the evidence and reuses no seq. */
    cr_assert_eq(open_store(&s, true, err), 0, "%s", err);
    cr_expect(has(s, "A3") && !has(s, "B1"));
    cr_expect(strstr(notes, "lost seq 4..6") && strstr(notes, ".unusable"), "%s", notes);
    uint64_t next = put(s, "lock", "C1", 1);
    cr_expect_gt(next, 7, "seq %llu was used before", (unsigned long long)next);
    oj_store_close(s, false);
    char aside[600];
    snprintf(aside, sizeof aside, "%s.unusable", path);
    cr_expect_eq(access(aside, F_OK), 0, "the damaged snapshot is kept, set aside");

    notes[0] = '\0';
    s = must_open();
    cr_expect_str_eq(notes, "", "the recovery sticks");
    cr_expect(has(s, "C1"));
    oj_store_close(s, false);
}

Test(recovery, a_deleted_snapshot_under_a_compacted_wal_is_named, .init = mk, .fini = rm)
{
    compacted_a_then_b();
    char path[512];
    newest_snapshot(path, sizeof path);
    cr_assert_eq(unlink(path), 0);
    struct oj_store *s;
    char err[4096];
    cr_assert_eq(open_store(&s, false, err), -1, "started without B1..B3");
    cr_expect(strstr(err, "seq 4..6 (only in snapshot 00000000000000000006-") &&
                  strstr(err, "which the WAL rests on") && strstr(err, "missing"),
              "%s", err);
    cr_assert_eq(open_store(&s, true, err), 0, "%s", err);
    cr_expect_gt(put(s, "lock", "C1", 1), 7);
    oj_store_close(s, false);
}

Test(recovery, a_damaged_newest_snapshot_with_no_wal_at_all_refuses, .init = mk, .fini = rm)
{
    /* Even with the WAL gone, the snapshot's name says seqs up to 6 were used. */
    compacted_a_then_b();
    cr_assert_eq(unlink(wal), 0);
    char path[512];
    newest_snapshot(path, sizeof path);
    flip_byte(path, 40);
    struct oj_store *s;
    char err[4096];
    cr_assert_eq(open_store(&s, false, err), -1);
    cr_expect(strstr(err, "seq 4..6"), "%s", err);
}

/* Issue 9 item 2: damage a good snapshot covers costs nothing. */
static struct oj_store *sixty_with_a_snapshot_at_30(void)
{
    struct oj_store *s = must_open();
    puts_n(s, "r", 1, 30);
    struct oj_snapshot_info info;
    char err[512];
    cr_assert_eq(oj_store_snapshot(s, &info, err, sizeof err), 0, "%s", err);
    puts_n(s, "r", 31, 60);
    oj_store_close(s, false);
    return NULL;
}

Test(recovery, damage_the_snapshot_covers_costs_nothing, .init = mk, .fini = rm)
{
    sixty_with_a_snapshot_at_30();
    flip_in_line(11);
    struct oj_store *s;
    char err[4096];
    cr_assert_eq(open_store(&s, false, err), -1, "damage is never passed over in silence");
    cr_expect(strstr(err, "line 11") && strstr(err, "nothing is lost") &&
                  strstr(err, "oj daemon start --recover"),
              "%s", err);
    cr_assert_eq(open_store(&s, true, err), 0, "%s", err);
    for (int i = 1; i <= 60; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        cr_expect(has(s, id), "--recover dropped %s", id);
    }
    cr_expect(strstr(notes, "lost nothing"), "%s", notes);
    cr_expect_gt(put(s, "lock", "next", 1), 60);
    oj_store_close(s, false);
    cr_expect_eq(count_files("wal.jsonl.corrupt-"), 1, "the damaged WAL is kept");
}

Test(recovery, recover_keeps_the_longest_gap_free_chain_and_names_the_rest, .init = mk,
     .fini = rm)
{
    sixty_with_a_snapshot_at_30();
    flip_in_line(45);
    struct oj_store *s;
    char err[4096];
    cr_assert_eq(open_store(&s, false, err), -1);
    cr_expect(strstr(err, "seq 45 (damaged WAL line 45: checksum mismatch") &&
                  strstr(err, "seq 46..60 (intact records on WAL lines 46-60, after the gap)"),
              "%s", err);
    cr_assert_eq(open_store(&s, true, err), 0, "%s", err);
    cr_expect(has(s, "r44") && !has(s, "r45") && !has(s, "r46"));
    cr_expect(strstr(notes, "lost seq 45") && strstr(notes, "seq 46..60"), "%s", notes);
    cr_expect_gt(put(s, "lock", "next", 1), 60);
    oj_store_close(s, false);
}

/* Issue 9 item 3: only an unterminated start of a record is torn. */
Test(recovery, a_complete_final_record_with_a_bad_checksum_is_damage, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "x", 1, 5);
    oj_store_close(s, false);
    off_t size = file_size(wal);
    flip_in_line(5);
    char err[4096];
    cr_assert_eq(open_store(&s, false, err), -1, "a complete line is no torn write");
    cr_expect(strstr(err, "any seq from 5 on") && strstr(err, "checksum"), "%s", err);
    cr_expect_eq(file_size(wal), size, "nothing cut");
    cr_assert_eq(open_store(&s, true, err), 0, "%s", err);
    cr_expect(has(s, "x4") && !has(s, "x5"));
    cr_expect_gt(put(s, "lock", "y", 1), 5);
    oj_store_close(s, false);
}

Test(recovery, a_zeroed_last_block_is_damage_and_no_seq_it_held_is_reused, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "padding-to-make-the-record-longer-", 1, 80);
    oj_store_close(s, false);
    off_t size = file_size(wal);
    cr_assert_gt(size, 8192);
    int fd = open(wal, O_WRONLY);
    char zeros[4096] = {0};
    cr_assert_eq(pwrite(fd, zeros, sizeof zeros, size - 4096), 4096);
    close(fd);

    char err[4096];
    cr_assert_eq(open_store(&s, false, err), -1, "the old code cut this as a torn write");
    cr_expect(strstr(err, "zeroed bytes") && strstr(err, "damaged bytes at the end"), "%s", err);
    cr_assert_eq(open_store(&s, true, err), 0, "%s", err);
    cr_expect_gt(put(s, "lock", "after", 1), 80, "a seq under the zeroes was acknowledged");
    oj_store_close(s, false);
}

Test(recovery, a_valid_final_record_missing_only_its_newline_is_kept, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "n", 1, 3);
    oj_store_close(s, false);
    cr_assert_eq(truncate(wal, file_size(wal) - 1), 0);
    s = must_open();
    cr_expect(has(s, "n3"), "the record was complete and valid");
    cr_expect(strstr(notes, "lacked its newline"), "%s", notes);
    cr_expect_eq(put(s, "lock", "n4", 4), 4);
    oj_store_close(s, false);
    notes[0] = '\0';
    s = must_open();
    cr_expect_str_eq(notes, "");
    cr_expect(has(s, "n3") && has(s, "n4"));
    oj_store_close(s, false);
}

Test(recovery, a_flipped_digit_of_time_is_caught, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "t", 1, 3);
    oj_store_close(s, false);
    /* Line 2's time: the old checksum covered only the op. */
    char *text = NULL;
    size_t cap = 0;
    FILE *f = fopen(wal, "r+");
    cr_assert_not_null(f);
    cr_assert_gt(getline(&text, &cap, f), 0);
    long line2 = ftell(f);
    fseek(f, line2 + (long)strlen("{\"seq\":2,\"time\":17"), SEEK_SET);
    int c = fgetc(f);
    fseek(f, line2 + (long)strlen("{\"seq\":2,\"time\":17"), SEEK_SET);
    fputc(c == '9' ? '8' : c + 1, f);
    fclose(f);
    free(text);
    char err[4096];
    cr_expect_eq(open_store(&s, false, err), -1, "a changed time went unnoticed");
    cr_expect(strstr(err, "line 2"), "%s", err);
}

/* Issue 9 item 4: restore's names never collide, and a failed restore changes
 * nothing. */
Test(recovery, two_restores_in_one_second_lose_nothing, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "a", 1, 2);
    struct oj_snapshot_info snap;
    char err[512];
    cr_assert_eq(oj_store_snapshot(s, &snap, err, sizeof err), 0, "%s", err);
    struct oj_restore_result r1, r2;
    cr_assert_eq(oj_store_restore(s, snap.id, false, &r1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(oj_store_restore(s, snap.id, false, &r2, err, sizeof err), 0,
                 "the second restore in the same second: %s", err);
    cr_expect_str_neq(r1.wal_backup, r2.wal_backup);
    put(s, "lock", "acked", 1);
    oj_store_close(s, false);
    s = must_open();
    cr_expect(has(s, "acked"), "the change acknowledged after two restores is gone");
    oj_store_close(s, false);
}

Test(recovery, a_failed_restore_leaves_the_store_as_it_was, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "a", 1, 2);
    struct oj_snapshot_info snap;
    char err[512];
    cr_assert_eq(oj_store_snapshot(s, &snap, err, sizeof err), 0, "%s", err);
    put(s, "lock", "later", 1);
    /* The new WAL cannot be written: its temp name is taken by a directory. */
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s.tmp", wal);
    cr_assert_eq(mkdir(tmp, 0700), 0);
    struct oj_restore_result r;
    cr_expect_eq(oj_store_restore(s, snap.id, false, &r, err, sizeof err), -1);
    cr_expect(has(s, "later"), "the live state did not change");
    struct oj_snapshot_info *list;
    char e2[256];
    cr_expect_eq(oj_snapshot_list(snaps, &list, e2, sizeof e2), 1, "no restore snapshot left");
    free(list);
    put(s, "lock", "acked", 1);
    oj_store_close(s, false);
    rmdir(tmp);
    s = must_open();
    cr_expect(has(s, "later") && has(s, "acked"));
    oj_store_close(s, false);
}

Test(recovery, a_restore_cut_off_after_its_snapshot_is_finished_at_start, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "a", 1, 2);
    struct oj_snapshot_info snap;
    char err[512];
    cr_assert_eq(oj_store_snapshot(s, &snap, err, sizeof err), 0, "%s", err);
    puts_n(s, "b", 1, 2);
    oj_store_close(s, false);
    /* What a restore does first: keep the WAL under a second name; then it
     * writes the snapshot's state at the next seq, and is cut off there. */
    char kept[256];
    snprintf(kept, sizeof kept, "%s.pre-restore-20991231T235959Z", wal);
    cr_assert_eq(link(wal, kept), 0);
    struct oj_state *st = oj_state_new();
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", snaps, snap.id);
    cr_assert_eq(oj_snapshot_load(path, st, err, sizeof err), 0, "%s", err);
    oj_state_set_seq(st, 5);
    struct oj_snapshot_info written;
    cr_assert_eq(oj_snapshot_write(snaps, st, 1, &written, err, sizeof err), 0, "%s", err);
    oj_state_free(st);

    s = must_open();
    cr_expect(strstr(notes, "a restore or --recover was cut off"), "%s", notes);
    cr_expect(has(s, "a2") && !has(s, "b1"), "the restored state");
    cr_expect_eq(put(s, "lock", "c", 1), 7);
    oj_store_close(s, false);
    cr_expect_eq(count_files("wal.jsonl.pre-restore-"), 1, "the old WAL is kept");
}

/* ---- the pure rules ---- */

Test(recovery, plan_a_clean_log_is_clean)
{
    struct oj_wal_seg seg = {.kind = OJ_WAL_RUN, .first_seq = 1, .last_seq = 9, .first_line = 1,
                             .last_line = 9};
    struct oj_wal_scan scan = {.records = 9, .first_seq = 1, .last_seq = 9, .max_seq = 9,
                               .segs = &seg, .nsegs = 1};
    struct oj_recovery_in in = {.loaded = -1, .scan = &scan, .state_seq = 9};
    struct oj_recovery_plan p;
    oj_recovery_plan(&in, &p);
    cr_expect_eq(p.verdict, OJ_RECOVERY_CLEAN);
    cr_expect_eq(p.hwm, 9);
    cr_expect_eq(p.nlost, 0);
}

Test(recovery, plan_records_after_a_gap_are_lost_by_exact_range)
{
    struct oj_wal_seg segs[] = {
        {.kind = OJ_WAL_RUN, .first_seq = 1, .last_seq = 4, .first_line = 1, .last_line = 4},
        {.kind = OJ_WAL_DAMAGE, .first_line = 5, .last_line = 6, .start = 400, .end = 480,
         .why = "checksum mismatch"},
        {.kind = OJ_WAL_RUN, .first_seq = 7, .last_seq = 9, .first_line = 7, .last_line = 9},
    };
    struct oj_wal_scan scan = {.records = 7, .first_seq = 1, .last_seq = 9, .max_seq = 9,
                               .segs = segs, .nsegs = 3, .damaged_segs = 1};
    struct oj_recovery_in in = {.loaded = -1, .scan = &scan, .state_seq = 4};
    struct oj_recovery_plan p;
    oj_recovery_plan(&in, &p);
    cr_expect_eq(p.verdict, OJ_RECOVERY_REFUSE);
    cr_assert_eq(p.nlost, 2);
    cr_expect(p.lost[0].from == 5 && p.lost[0].to == 6 && !p.lost[0].intact);
    cr_expect(p.lost[1].from == 7 && p.lost[1].to == 9 && p.lost[1].intact);
    cr_expect_eq(p.lost_count, 5);
    cr_expect_geq(p.next_seq, 10, "past every seq used");
}

/* ---- found by review: every way the WAL can end early or lie ---------------- */

Test(recovery, damage_from_before_the_snapshot_to_the_end_loses_what_came_after_it, .init = mk,
     .fini = rm)
{
    /* Snapshot at 5, acknowledged 6..8, then the WAL zeroed from line 3 on:
     * the old rule called that covered by the snapshot ("nothing is lost"). */
    struct oj_store *s = must_open();
    puts_n(s, "L", 1, 5);
    struct oj_snapshot_info info;
    char err[4096];
    cr_assert_eq(oj_store_snapshot(s, &info, err, sizeof err), 0, "%s", err);
    puts_n(s, "L", 6, 8);
    oj_store_close(s, false);
    char *text = NULL;
    size_t cap = 0;
    FILE *f = fopen(wal, "r");
    cr_assert_gt(getline(&text, &cap, f), 0);
    cr_assert_gt(getline(&text, &cap, f), 0);
    long off = ftell(f);
    fclose(f);
    free(text);
    off_t size = file_size(wal);
    int fd = open(wal, O_WRONLY);
    char zeros[4096] = {0};
    cr_assert_eq(pwrite(fd, zeros, (size_t)(size - off), off), size - off);
    close(fd);
    cr_assert_eq(open_store(&s, false, err), -1);
    cr_expect(strstr(err, "any seq from 6 on (damaged bytes at the end"), "%s", err);
    cr_assert_eq(open_store(&s, true, err), 0, "%s", err);
    cr_expect(strstr(notes, "lost any seq from 6 on"), "%s", notes);
    cr_expect_gt(put(s, "lock", "new", 1), 8, "a seq the zeroes held is used again");
    oj_store_close(s, false);
}

Test(recovery, a_damaged_base_record_under_a_deleted_snapshot_reuses_no_seq, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "w", 1, 3);
    struct oj_snapshot_info info;
    char err[4096];
    cr_assert_eq(oj_store_snapshot(s, &info, err, sizeof err), 0, "%s", err);
    puts_n(s, "x", 4, 20);
    struct oj_compact_result r;
    cr_assert_eq(oj_store_compact(s, &r, err, sizeof err), 0, "%s", err);
    oj_store_close(s, false);
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", snaps, r.snapshot.id);
    cr_assert_eq(unlink(path), 0);
    flip_byte(wal, 20); /* inside the base record */
    cr_assert_eq(open_store(&s, false, err), -1);
    cr_assert_eq(open_store(&s, true, err), 0, "%s", err);
    cr_expect_gt(put(s, "lock", "new", 1), 21, "seqs 4..21 were used before");
    oj_store_close(s, false);
}

Test(recovery, a_snapshot_name_past_the_largest_seq_is_no_snapshot, .init = mk, .fini = rm)
{
    /* One flipped bit in a name ('0' -> '1') made the high-water mark 10^19:
     * every later start refused. Such a name is not a snapshot's. */
    struct oj_store *s = must_open();
    puts_n(s, "a", 1, 3);
    oj_store_close(s, true);
    write_snapshot_file("10000000000000000005-20200101T000000Z.json", "{}\n");
    struct oj_snapshot_info *list;
    char err[4096];
    cr_expect_eq(oj_snapshot_list(snaps, &list, err, sizeof err), 1);
    free(list);
    notes[0] = '\0';
    s = must_open();
    cr_expect_eq(put(s, "lock", "b", 1), 4, "numbering goes on from the real snapshot");
    oj_store_close(s, false);
}

Test(recovery, a_wal_cut_below_the_snapshot_is_no_torn_write, .init = mk, .fini = rm)
{
    /* Snapshot at 5, records to 8, the WAL cut in the middle of line 3: the old
     * code called it a torn write and a cut-off restore, and reused seq 6. */
    struct oj_store *s = must_open();
    puts_n(s, "L", 1, 5);
    struct oj_snapshot_info info;
    char err[4096];
    cr_assert_eq(oj_store_snapshot(s, &info, err, sizeof err), 0, "%s", err);
    puts_n(s, "L", 6, 8);
    oj_store_close(s, false);
    char *text = NULL;
    size_t cap = 0;
    FILE *f = fopen(wal, "r");
    cr_assert_gt(getline(&text, &cap, f), 0);
    cr_assert_gt(getline(&text, &cap, f), 0);
    long off = ftell(f);
    fclose(f);
    free(text);
    cr_assert_eq(truncate(wal, off + 30), 0);
    cr_assert_eq(open_store(&s, false, err), -1, "started on a WAL that lost seq 6..8");
    cr_expect(strstr(err, "any seq from 6 on"), "%s", err);
    cr_expect_eq(count_files("wal.jsonl.torn-"), 0, "nothing was cut");
}

Test(recovery, a_missing_wal_beside_a_snapshot_refuses, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "a", 1, 3);
    struct oj_snapshot_info info;
    char err[4096];
    cr_assert_eq(oj_store_snapshot(s, &info, err, sizeof err), 0, "%s", err);
    puts_n(s, "b", 4, 5);
    oj_store_close(s, false);
    cr_assert_eq(unlink(wal), 0);
    cr_assert_eq(open_store(&s, false, err), -1, "started as if seq 4 and 5 never were");
    cr_expect(strstr(err, "any seq from 4 on (wal.jsonl is missing or empty"), "%s", err);
    cr_assert_eq(open_store(&s, true, err), 0, "%s", err);
    cr_expect_gt(put(s, "lock", "c", 1), 5);
    oj_store_close(s, false);
}

Test(recovery, an_empty_wal_beside_a_format_1_snapshot_is_an_old_compaction, .init = mk,
     .fini = rm)
{
    /* Older versions left the WAL empty after compacting into a format-1
     * snapshot. */
    const char *state = "{\"lock\":{\"a\":{\"holder\":\"h\",\"host\":\"\",\"holder_pid\":0,"
                        "\"since_ms\":1,\"timeout_ms\":0}}}";
    char content[512];
    snprintf(content, sizeof content,
             "{\"format\":\"oj-snapshot\",\"version\":1,\"seq\":7,\"time\":1,\"crc\":\"%08x\","
             "\"state\":%s}\n",
             oj_crc32(state, strlen(state)), state);
    write_snapshot_file("00000000000000000007-20200101T000000Z.json", content);
    int fd = open(wal, O_WRONLY | O_CREAT, 0600);
    close(fd);
    struct oj_store *s = must_open();
    cr_expect(has(s, "a"));
    cr_expect_eq(put(s, "lock", "b", 1), 8);
    oj_store_close(s, false);
}

Test(recovery, a_recover_cut_off_after_its_snapshot_is_finished, .init = mk, .fini = rm)
{
    /* --recover keeps the damaged WAL, writes its snapshot, and is killed
     * before the new WAL is in place. */
    struct oj_store *s = must_open();
    puts_n(s, "a", 1, 4);
    oj_store_close(s, false);
    flip_in_line(3);
    char kept[256];
    snprintf(kept, sizeof kept, "%s.corrupt-20991231T235959Z", wal);
    cr_assert_eq(link(wal, kept), 0);
    struct oj_state *st = oj_state_new();
    char err[4096];
    cJSON *v = cJSON_CreateObject();
    cJSON_AddNumberToObject(v, "n", 1);
    cr_assert_eq(oj_state_apply(st, 1, oj_op_put("lock", "a1", v), err, sizeof err), 0);
    oj_state_set_seq(st, 9);
    struct oj_snapshot_info written;
    cr_assert_eq(oj_snapshot_write(snaps, st, 1, &written, err, sizeof err), 0, "%s", err);
    oj_state_free(st);
    s = must_open();
    cr_expect(strstr(notes, "a restore or --recover was cut off"), "%s", notes);
    cr_expect(has(s, "a1") && !has(s, "a2"));
    cr_expect_eq(put(s, "lock", "b", 1), 11);
    oj_store_close(s, false);
}

Test(recovery, a_tail_claiming_another_seq_is_damage_not_torn, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "a", 1, 2);
    oj_store_close(s, false);
    append(wal, "{\"seq\":99999");
    char err[4096];
    cr_expect_eq(open_store(&s, false, err), -1, "only the start of seq 3 can be torn");
    append(wal, "\n");
    cr_assert_eq(truncate(wal, file_size(wal) - (off_t)strlen("{\"seq\":99999\n")), 0);
    append(wal, "{\"seq\":3");
    s = must_open();
    cr_expect(strstr(notes, "never finished"), "%s", notes);
    oj_store_close(s, false);
}

Test(recovery, format_1_records_are_moved_into_a_snapshot_at_the_first_clean_start, .init = mk,
     .fini = rm)
{
    const char *body = "{\"type\":\"put\",\"kind\":\"lock\",\"id\":\"old\",\"value\":"
                       "{\"holder\":\"h\",\"host\":\"\",\"holder_pid\":0,\"since_ms\":1,"
                       "\"timeout_ms\":0}}";
    char line[512];
    snprintf(line, sizeof line, "{\"seq\":1,\"time\":1,\"crc\":\"%08x\",\"op\":%s}\n",
             oj_crc32(body, strlen(body)), body);
    append(wal, line);
    struct oj_store *s = must_open();
    cr_expect(has(s, "old"));
    cr_expect(strstr(notes, "older format") && strstr(notes, "wal.jsonl.format1-"), "%s", notes);
    cr_expect_eq(count_files("wal.jsonl.format1-"), 1);
    uint64_t seq = put(s, "lock", "new", 1);
    oj_store_close(s, false);
    notes[0] = '\0';
    s = must_open();
    cr_expect_str_eq(notes, "", "migrated once");
    cr_expect(has(s, "old") && has(s, "new"));
    cr_expect_eq(put(s, "lock", "newer", 1), seq + 1);
    oj_store_close(s, false);
}

/* ---- the preallocated end (wal.c, PREALLOCATION) ------------------------------ */

/* Issue 14: the daemon grows the WAL ahead of its records, filled with 0xff.
 * A daemon killed then leaves records and the fill: the next start takes
 * the records, reports nothing, and writes on right after them. The old code
 * refused the fill as damage at the end. */
Test(recovery, a_preallocated_end_after_a_kill_is_no_damage, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "k", 1, 5);
    close_as_if_killed(s);
    off_t size = file_size(wal), end = data_end();
    cr_assert_eq(size % OJ_WAL_CHUNK, 0, "grown in whole chunks: %lld", (long long)size);
    cr_assert_lt(end, size, "the records are followed by the fill");

    s = must_open();
    cr_expect_str_eq(notes, "", "a preallocated end is nothing to report");
    cr_expect(has(s, "k1") && has(s, "k5"));
    cr_expect_eq(put(s, "lock", "k6", 6), 6);
    close_as_if_killed(s);
    cr_expect_eq(file_size(wal), size, "the next record went into the fill");
    cr_expect_gt(data_end(), end, "right after the last one");
    s = must_open();
    cr_expect_str_eq(notes, "");
    cr_expect(has(s, "k6"));
    oj_store_close(s, false);
}

/* Zeros are what a disk leaves of blocks it lost: they stay damage, even
 * when they start right after a complete record and run to the end of a file
 * whose size is a whole number of chunks (where the fill would be). */
Test(recovery, a_zeroed_end_from_a_record_boundary_is_still_damage, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "z", 1, 6);
    close_as_if_killed(s);
    /* Records 4..6 and the fill read as zeros. */
    size_t len;
    char *text = slurp(wal, &len);
    char *third = text;
    for (int i = 0; i < 3; i++)
        third = strchr(third, '\n') + 1;
    off_t at = third - text, size = file_size(wal);
    free(text);
    static char zeros[OJ_WAL_CHUNK];
    write_wal_at(at, zeros, (size_t)(size - at));

    char err[4096];
    cr_assert_eq(open_store(&s, false, err), -1, "zeros are no preallocated end");
    cr_expect(strstr(err, "any seq from 4 on") && strstr(err, "zeroed bytes"), "%s", err);
    cr_expect_eq(file_size(wal), size, "refusing changes nothing");
    cr_assert_eq(open_store(&s, true, err), 0, "%s", err);
    cr_expect(has(s, "z3") && !has(s, "z4"));
    cr_expect_gt(put(s, "lock", "after", 1), 6, "a seq under the zeros was acknowledged");
    oj_store_close(s, false);
}

/* A write cut short lands where the next record goes: its start, then the
 * fill. Cut off as a torn write; its bytes (without the fill) are kept. */
Test(recovery, a_torn_record_before_the_preallocated_end_is_cut, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "t", 1, 3);
    close_as_if_killed(s);
    cr_assert_lt(data_end(), file_size(wal), "the records are followed by the fill");
    const char *torn = "{\"seq\":4,\"time\":17958802803,\"op\":{\"type\":\"pu";
    write_wal_at(data_end(), torn, strlen(torn));

    s = must_open();
    cr_expect(strstr(notes, "never finished") && strstr(notes, "after seq 3"), "%s", notes);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test \"$(cat %s/wal.jsonl.torn-*)\" = '%s'", dir, torn);
    cr_expect_eq(system(cmd), 0, "the torn bytes are kept, and only they");
    cr_expect(has(s, "t3"));
    cr_expect_eq(put(s, "lock", "t4", 4), 4);
    close_as_if_killed(s);
    notes[0] = '\0';
    s = must_open();
    cr_expect_str_eq(notes, "");
    cr_expect(has(s, "t4"));
    oj_store_close(s, false);
}

/* The newline of the last record never written: its byte is still fill. */
Test(recovery, a_final_record_missing_its_newline_before_the_fill_is_kept, .init = mk,
     .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "n", 1, 3);
    close_as_if_killed(s);
    cr_assert_lt(data_end(), file_size(wal), "the records are followed by the fill");
    write_wal_at(data_end() - 1, "\xff", 1);
    s = must_open();
    cr_expect(has(s, "n3"));
    cr_expect(strstr(notes, "lacked its newline"), "%s", notes);
    cr_expect_eq(put(s, "lock", "n4", 4), 4);
    oj_store_close(s, false);
    notes[0] = '\0';
    s = must_open();
    cr_expect_str_eq(notes, "");
    cr_expect(has(s, "n3") && has(s, "n4"));
    oj_store_close(s, false);
}

/* Only one run of fill up to the end of the file is the preallocated end:
 * fill followed by anything is damage, and nothing after it is taken. */
Test(recovery, fill_followed_by_more_bytes_is_damage, .init = mk, .fini = rm)
{
    struct oj_store *s = must_open();
    puts_n(s, "f", 1, 2);
    close_as_if_killed(s);
    cr_assert_lt(data_end(), file_size(wal), "the records are followed by the fill");
    const char *late = "{\"not\":\"a record\"}\n";
    write_wal_at(file_size(wal), late, strlen(late));
    char err[4096];
    cr_assert_eq(open_store(&s, false, err), -1, "fill in the middle is damage");
    cr_expect(strstr(err, "any seq from 3 on") && strstr(err, "damaged bytes at the end"), "%s",
              err);
}
