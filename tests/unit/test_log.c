/* The daemon log stays bounded: it rotates past its size cap keeping a fixed
 * number of old files, reopens by path (SIGHUP, for logrotate), and a warning
 * that can repeat without end is rate-limited with a count of what it hid. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "log.h"

Test(log_limit, ten_a_minute_then_counted_and_reported_with_the_next_one)
{
    struct oj_log_limit l = {0};
    unsigned report = 99;
    int64_t t = 5000;
    for (int i = 1; i < OJ_LOG_LIMIT_BURST; i++) {
        cr_expect_eq(oj_log_limit_check(&l, t + i, &report), OJ_LOG_LIMIT_PASS, "entry %d", i);
        cr_expect_eq(report, 0);
    }
    cr_expect_eq(oj_log_limit_check(&l, t + 10, &report), OJ_LOG_LIMIT_PASS_LAST,
                 "the last one let through says that more are suppressed");
    for (int i = 0; i < 1000; i++)
        cr_expect_eq(oj_log_limit_check(&l, t + 100 + i, &report), OJ_LOG_LIMIT_DROP);
    /* Still in the same minute: dropped. */
    cr_expect_eq(oj_log_limit_check(&l, t + OJ_LOG_LIMIT_WINDOW_MS - 1, &report),
                 OJ_LOG_LIMIT_DROP);
    /* A minute later: through again, with the count of what was hidden. */
    cr_expect_eq(oj_log_limit_check(&l, t + OJ_LOG_LIMIT_WINDOW_MS + 1, &report),
                 OJ_LOG_LIMIT_PASS);
    cr_expect_eq(report, 1001);
    cr_expect_eq(oj_log_limit_check(&l, t + OJ_LOG_LIMIT_WINDOW_MS + 2, &report),
                 OJ_LOG_LIMIT_PASS);
    cr_expect_eq(report, 0, "each suppression is reported once");
}

static char dir[] = "/tmp/ojlog.XXXXXX";

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static long size_of(const char *name)
{
    char p[128];
    path_of(p, sizeof p, name);
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void remove_dir(void)
{
    char *rm[] = {"rm", "-rf", dir, NULL};
    run_prog("/", 10000, NULL, 0, rm);
}

Test(log, rotates_past_its_cap_and_keeps_a_fixed_number_of_old_files, .fini = remove_dir)
{
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    path_of(path, sizeof path, "daemon.log");
    cr_assert_eq(oj_log_open(path, OJ_LOG_INFO, false), 0);
    oj_log_set_rotation(4096, 2);
    char filler[100];
    memset(filler, 'x', sizeof filler - 1);
    filler[sizeof filler - 1] = '\0';
    for (int i = 0; i < 500; i++)
        LOG_INFO("entry %04d %s", i, filler);
    oj_log_close();
    const char *files[] = {"daemon.log", "daemon.log.1", "daemon.log.2"};
    for (int i = 0; i < 3; i++) {
        long n = size_of(files[i]);
        cr_expect_gt(n, 0, "%s is missing", files[i]);
        cr_expect_leq(n, 4096, "%s is %ld bytes, over the 4096 cap", files[i], n);
    }
    cr_expect_eq(size_of("daemon.log.3"), -1, "only 2 old files are kept");
    char *last = read_file(path);
    cr_expect(strstr(last, "entry 0499 ") != NULL, "the newest entry is in daemon.log");
    free(last);
    char one[128];
    path_of(one, sizeof one, "daemon.log.1");
    char *older = read_file(one);
    cr_expect(strstr(older, "entry 0499 ") == NULL && strstr(older, "entry 04") != NULL,
              "daemon.log.1 holds the entries just before");
    free(older);
}

Test(log, reopens_by_path_after_an_external_move, .fini = remove_dir)
{
    cr_assert_not_null(mkdtemp(dir));
    char path[128], moved[128];
    path_of(path, sizeof path, "daemon.log");
    path_of(moved, sizeof moved, "daemon.log.moved");
    cr_assert_eq(oj_log_open(path, OJ_LOG_INFO, false), 0);
    LOG_INFO("before the move");
    cr_assert_eq(rename(path, moved), 0);
    LOG_INFO("after the move, before the reopen");
    cr_assert_eq(oj_log_reopen(), 0);
    LOG_INFO("after the reopen");
    oj_log_close();
    char *a = read_file(moved), *b = read_file(path);
    cr_assert_not_null(b, "no new daemon.log after the reopen");
    cr_expect(strstr(a, "before the move") && strstr(a, "before the reopen"), "%s", a);
    cr_expect(strstr(b, "after the reopen") && !strstr(b, "before"), "%s", b);
    free(a);
    free(b);
}

Test(log, a_limited_warning_says_what_it_suppressed, .fini = remove_dir)
{
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    path_of(path, sizeof path, "daemon.log");
    cr_assert_eq(oj_log_open(path, OJ_LOG_INFO, false), 0);
    for (int i = 0; i < 200; i++)
        LOG_WARN_LIMITED("server: dropped an undecodable request frame");
    oj_log_close();
    char *text = read_file(path);
    int lines = 0;
    for (const char *p = text; (p = strstr(p, "undecodable")); p++)
        lines++;
    cr_expect_eq(lines, OJ_LOG_LIMIT_BURST, "200 repeats within a minute: %d lines", lines);
    cr_expect(strstr(text, "suppressed and counted") != NULL, "%s", text);
    free(text);
}
