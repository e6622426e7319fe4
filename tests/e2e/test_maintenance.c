/* The operator's maintenance commands without sharp edges: listing the
 * snapshots (with and without a daemon), naming one by its seq or a unique
 * prefix of its id, and a refused ambiguous prefix that names the candidates. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
