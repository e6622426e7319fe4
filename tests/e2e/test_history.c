/* A daemon left running keeps .oj/'s history bounded on its own: logs,
 * prompts and archives of records that left the live state go once they are
 * older than OJ_RETAIN_HISTORY, and the oldest of them while the whole is over
 * OJ_HISTORY_MAX_SIZE; a live record's files, and fresh ones, always stay.
 * Finished pipelines and ended sessions leave the live state for the archive
 * once OJ_RETAIN_FINISHED has passed. The real daemon sweeps and archives at
 * its first tick; files are made old with utimensat and records with old
 * timestamps, as if written hours or days ago. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "clock.h"
#include "wal.h"

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
    /* Once the sweep is over (its count is set after its last unlink): a file
     * gone alone says nothing of the others, which may be next in its loop. */
    cr_assert(wait_until(swept, NULL, 10000), "the first sweep never ended");
    cr_expect_not(exists("logs/sessions/s0dead1.log"),
                  "the old log of a session no longer in the live state stays");
    cr_expect_not(exists("logs/sessions/s0dead1.status"));
    cr_expect_not(exists("logs/pipelines/p0dead1.log"));
    cr_expect_not(exists("prompts/p0dead1-implement.txt"));
    cr_expect_not(exists("archive/archive-20261101T000000Z-7.json"));
    cr_expect(exists(live_log), "a live session's log stays however old");
    cr_expect(exists("logs/sessions/s0young.log"), "within the week: kept");
    cr_expect(exists("logs/cron/nightly.log"), "a job's own log is not history");
    cr_expect(exists("logs/daemon.log"));

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

/* A WAL holding the given operations, as a daemon that ran before wrote it. */
static void write_wal(const char *const ops[], int n)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.oj", e.dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/.oj/wal.jsonl", e.dir);
    FILE *f = fopen(path, "w");
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

static bool ticked(void *arg)
{
    (void)arg;
    cJSON *j = status_json();
    bool done = cJSON_GetObjectItem(j, "tick_max_us")->valuedouble > 0;
    cJSON_Delete(j);
    return done;
}

static bool records_are(void *arg)
{
    const int *want = arg; /* pipelines, sessions */
    cJSON *j = status_json();
    bool ok = cJSON_GetObjectItem(j, "pipeline_records")->valuedouble == want[0] &&
              cJSON_GetObjectItem(j, "session_records")->valuedouble == want[1];
    cJSON_Delete(j);
    return ok;
}

Test(history, finished_work_leaves_the_live_state_on_its_own_after_an_hour, .init = setup,
     .fini = teardown)
{
    long long two_hours_ago = (long long)oj_wall_ms() - 2 * 3600 * 1000LL;
    long long minutes_ago = (long long)oj_wall_ms() - 10 * 60 * 1000LL;
    char ops[6][320];
    snprintf(ops[0], sizeof ops[0], "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p-old-done\","
             "\"value\":{\"state\":\"done\",\"finished_at_ms\":%lld}}", two_hours_ago);
    snprintf(ops[1], sizeof ops[1], "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p-old-running\","
             "\"value\":{\"state\":\"failed\",\"finished_at_ms\":%lld,\"session_id\":\"s-named\"}}",
             minutes_ago);
    snprintf(ops[2], sizeof ops[2], "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p-new-done\","
             "\"value\":{\"state\":\"done\",\"finished_at_ms\":%lld}}", minutes_ago);
    snprintf(ops[3], sizeof ops[3], "{\"type\":\"put\",\"kind\":\"session\",\"id\":\"s-old-dead\","
             "\"value\":{\"name\":\"old\",\"state\":\"dead\",\"ended_at_ms\":%lld}}", two_hours_ago);
    snprintf(ops[4], sizeof ops[4], "{\"type\":\"put\",\"kind\":\"session\",\"id\":\"s-named\","
             "\"value\":{\"name\":\"named\",\"state\":\"dead\",\"ended_at_ms\":%lld}}", two_hours_ago);
    /* failed two hours ago: it waits for a human to resume it (found by review) */
    snprintf(ops[5], sizeof ops[5], "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p-old-failed\","
             "\"value\":{\"state\":\"failed\",\"finished_at_ms\":%lld}}", two_hours_ago);
    const char *const list[] = {ops[0], ops[1], ops[2], ops[3], ops[4], ops[5]};
    write_wal(list, 6);
    cr_assert_eq(env_start_daemon(&e), 0);
    int want[2] = {3, 1};
    cr_assert(wait_until(records_are, want, 10000),
              "the pipeline done two hours ago and the session ended then leave the live state; "
              "the rest stays (a session a staying pipeline names, work finished minutes ago, "
              "a pipeline that failed two hours ago)");
    struct oj_out f = OJ(&e, "pipeline", "show", "p-old-failed");
    cr_expect_eq(f.code, 0, "a failed pipeline stays for a human to resume: %s", f.err);
    oj_out_free(&f);
    struct oj_out o = OJ(&e, "pipeline", "list", "--all");
    cr_expect(strstr(o.out, "p-old-done") != NULL, "--all still lists it, from the archive: %s",
              o.out);
    oj_out_free(&o);
    o = OJ(&e, "session", "show", "s-named");
    cr_expect_eq(o.code, 0, "a session a live pipeline names stays: %s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "session", "show", "s-old-dead");
    cr_expect_eq(o.code, 4, "an archived session is not found: %s", o.out);
    oj_out_free(&o);
}

Test(history, retain_finished_zero_leaves_archiving_to_the_operator, .init = setup,
     .fini = teardown)
{
    char op[320];
    snprintf(op, sizeof op, "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p-old-done\","
             "\"value\":{\"state\":\"done\",\"finished_at_ms\":%lld}}",
             (long long)oj_wall_ms() - 30 * 24 * 3600 * 1000LL);
    const char *const list[] = {op};
    write_wal(list, 1);
    char *envp[] = {"OJ_RETAIN_FINISHED=0", NULL};
    struct oj_out o = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    cr_assert(wait_until(ticked, NULL, 10000), "the first tick ran");
    int want[2] = {1, 0};
    cr_expect(records_are(want), "a month-old finished pipeline stays live with 0");
}

/* Two archives asked for at once (or one with the daemon's own) run one after
 * the other: each file keeps what it says, and no record leaves the live state
 * without being in a file. Ten finished pipelines, half of them a month old:
 * `--older-than 30d` and `--older-than 0s` at the same moment. */
Test(history, archives_asked_at_once_lose_nothing, .init = setup, .fini = teardown)
{
    char ops[10][320];
    const char *list[10];
    for (int i = 0; i < 10; i++) {
        long long at = (long long)oj_wall_ms() - (i < 5 ? 40LL * 24 * 3600 * 1000 : 60 * 1000);
        snprintf(ops[i], sizeof ops[i], "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p-%d\","
                 "\"value\":{\"state\":\"done\",\"finished_at_ms\":%lld}}", i, at);
        list[i] = ops[i];
    }
    write_wal(list, 10);
    char *envp[] = {"OJ_RETAIN_FINISHED=0", NULL};
    struct oj_out o = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    char *old[] = {"maintenance", "archive", "--older-than", "30d", NULL};
    char *all[] = {"maintenance", "archive", "--older-than", "0s", NULL};
    pid_t a = oj_spawn_bg(&e, NULL, NULL, old), b = oj_spawn_bg(&e, NULL, NULL, all);
    cr_assert_eq(child_wait_exit(a, 30000), 0);
    cr_assert_eq(child_wait_exit(b, 30000), 0);
    int want[2] = {0, 0};
    cr_expect(records_are(want), "everything finished: all archived");
    /* Every pipeline is in an archive file. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/.oj/archive", e.dir);
    char found[10] = {0};
    DIR *dp = opendir(dir);
    cr_assert_not_null(dp);
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        char *text = read_file(path);
        cJSON *j = text ? cJSON_Parse(text) : NULL;
        cr_assert_not_null(j, "%s", path);
        for (cJSON *p = cJSON_GetObjectItem(j, "pipelines")->child; p; p = p->next)
            found[atoi(p->string + 2)] = 1;
        cJSON_Delete(j);
        free(text);
    }
    closedir(dp);
    for (int i = 0; i < 10; i++)
        cr_expect(found[i], "p-%d left the live state but is in no archive file", i);
}

/* A prompt is named <pipeline id>-<phase>.txt, and either may hold a '-': a
 * live pipeline whose id does keeps its month-old prompt. */
Test(history, a_live_pipelines_prompt_stays_whatever_its_id_holds, .init = setup,
     .fini = teardown)
{
    char op[320];
    snprintf(op, sizeof op, "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p-live-1\","
             "\"value\":{\"state\":\"failed\",\"finished_at_ms\":%lld}}",
             (long long)oj_wall_ms() - 60 * 1000LL);
    const char *const list[] = {op};
    write_wal(list, 1);
    history_file("prompts/p-live-1-fix-it.txt", 100, 30 * DAY);
    history_file("prompts/p-gone-1-fix-it.txt", 100, 30 * DAY);
    cr_assert_eq(env_start_daemon(&e), 0);
    cr_assert(wait_until(gone, "prompts/p-gone-1-fix-it.txt", 10000),
              "an archived pipeline's month-old prompt goes");
    cr_expect(exists("prompts/p-live-1-fix-it.txt"), "a live pipeline's prompt stays");
}
