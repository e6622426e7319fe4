/* A daemon left running keeps .oj/'s history bounded on its own: logs,
 * prompts and archives of records that left the live state go once they are
 * older than OJ_RETAIN_HISTORY, and the oldest of them while the whole is over
 * OJ_HISTORY_MAX_SIZE; a live record's files, and fresh ones, always stay.
 * The real daemon sweeps at its first tick; the files are made old with
 * utimensat, as if written days ago. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/harness.h"

static struct oj_env e;

static void setup(void) { env_setup(&e, true); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

#define DAY (24 * 3600)

/* .oj/<rel> with `bytes` bytes, last written `age_s` seconds ago. */
static void history_file(const char *rel, size_t bytes, long age_s)
{
    char path[PATH_MAX], dir[PATH_MAX];
    snprintf(path, sizeof path, "%s/.oj/%s", e.dir, rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    char *mk[] = {"mkdir", "-p", dir, NULL};
    cr_assert_eq(run_prog(e.dir, 5000, NULL, 0, mk), 0);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    for (size_t i = 0; i < bytes; i++)
        fputc('x', f);
    fclose(f);
    struct timespec t[2] = {{.tv_sec = time(NULL) - age_s}, {.tv_sec = time(NULL) - age_s}};
    cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0, "%s", path);
}

static bool exists(const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.oj/%s", e.dir, rel);
    return access(path, F_OK) == 0;
}

static bool gone(void *rel) { return !exists(rel); }

static cJSON *status_json(void)
{
    struct oj_out o = OJ(&e, "status", "--resources", "--json");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j, "%s", o.out);
    oj_out_free(&o);
    return j;
}

static bool swept(void *arg)
{
    (void)arg;
    cJSON *j = status_json();
    bool done = cJSON_GetObjectItem(j, "history_files")->valuedouble > 0;
    cJSON_Delete(j);
    return done;
}

Test(history, old_files_of_archived_records_go_and_a_live_records_stay, .init = setup,
     .fini = teardown)
{
    cr_assert_eq(env_start_daemon(&e), 0);
    char id[64];
    cr_assert_eq(env_start_agent(&e, "keeper", id, sizeof id), 0);
    struct oj_out o = OJ(&e, "daemon", "stop");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    /* The live session's log, as if untouched for a month. */
    char live_log[128];
    snprintf(live_log, sizeof live_log, "logs/sessions/%s.log", id);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.oj/%s", e.dir, live_log);
    struct timespec t[2] = {{.tv_sec = time(NULL) - 30 * DAY}, {.tv_sec = time(NULL) - 30 * DAY}};
    cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0, "%s", path);
    /* What archived records left behind, eight days old, and a fresh file. */
    history_file("logs/sessions/s0dead1.log", 100, 8 * DAY);
    history_file("logs/sessions/s0dead1.status", 2, 8 * DAY);
    history_file("logs/pipelines/p0dead1.log", 100, 8 * DAY);
    history_file("prompts/p0dead1-implement.txt", 100, 8 * DAY);
    history_file("archive/archive-20261101T000000Z-7.json", 100, 8 * DAY);
    history_file("logs/sessions/s0young.log", 100, 2 * DAY);
    history_file("logs/cron/nightly.log", 100, 30 * DAY);

    cr_assert_eq(env_start_daemon(&e), 0);
    cr_assert(wait_until(gone, "logs/sessions/s0dead1.log", 10000),
              "the old log of a session no longer in the live state stays");
    cr_expect_not(exists("logs/sessions/s0dead1.status"));
    cr_expect_not(exists("logs/pipelines/p0dead1.log"));
    cr_expect_not(exists("prompts/p0dead1-implement.txt"));
    cr_expect_not(exists("archive/archive-20261101T000000Z-7.json"));
    cr_expect(exists(live_log), "a live session's log stays however old");
    cr_expect(exists("logs/sessions/s0young.log"), "within the week: kept");
    cr_expect(exists("logs/cron/nightly.log"), "a job's own log is not history");
    cr_expect(exists("logs/daemon.log"));

    cr_assert(wait_until(swept, NULL, 10000));
    cJSON *j = status_json();
    cr_expect_eq(cJSON_GetObjectItem(j, "history_removed_files")->valuedouble, 5);
    cr_expect_eq(cJSON_GetObjectItem(j, "retain_history_ms")->valuedouble, 7.0 * DAY * 1000);
    cJSON_Delete(j);
    o = OJ(&e, "status", "--resources");
    cr_expect(strstr(o.out, "history:") && strstr(o.out, "kept 7d 0h (5 removed since the start)"),
              "%s", o.out);
    oj_out_free(&o);
}

Test(history, over_the_cap_the_oldest_history_goes_first, .init = setup, .fini = teardown)
{
    history_file("logs/sessions/s0old1.log", 600 * 1000, 3 * DAY);
    history_file("logs/sessions/s0old2.log", 600 * 1000, 2 * DAY);
    history_file("logs/sessions/s0old3.log", 600 * 1000, 1 * DAY);
    char *envp[] = {"OJ_HISTORY_MAX_SIZE=1MB", "OJ_RETAIN_HISTORY=0", NULL};
    struct oj_out o = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    cr_assert(wait_until(gone, "logs/sessions/s0old2.log", 10000),
              "1.8 MB of history against a 1 MB cap: the two oldest go");
    cr_expect_not(exists("logs/sessions/s0old1.log"));
    cr_expect(exists("logs/sessions/s0old3.log"), "what fits under the cap stays");
}

Test(history, a_bad_setting_is_refused_at_start_naming_it, .init = setup, .fini = teardown)
{
    char *envp[] = {"OJ_RETAIN_HISTORY=soon", NULL};
    struct oj_out o = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    cr_expect_neq(o.code, 0);
    cr_expect(strstr(o.err, "OJ_RETAIN_HISTORY") != NULL, "%s", o.err);
    oj_out_free(&o);
}
