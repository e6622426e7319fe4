/* Every subprocess oj runs has a time limit. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "clock.h"
#include "subprocess.h"

Test(subprocess, captures_output_and_exit_status)
{
    char out[256];
    struct oj_proc_result r;
    char *argv[] = {"sh", "-c", "echo hello; echo oops >&2; exit 3", NULL};
    cr_assert_eq(oj_run(argv, "/", 5000, out, sizeof out, 0, &r), 0);
    cr_expect_eq(r.exit_status, 3);
    cr_expect_not(r.timed_out);
    cr_expect_str_eq(out, "hello\n");
    cr_assert_eq(oj_run(argv, "/", 5000, out, sizeof out, 1, &r), 0);
    cr_expect(strstr(out, "oops") != NULL, "%s", out);
}

Test(subprocess, runs_in_the_given_directory)
{
    char out[256];
    struct oj_proc_result r;
    char *argv[] = {"pwd", NULL};
    cr_assert_eq(oj_run(argv, "/usr", 5000, out, sizeof out, 0, &r), 0);
    cr_expect_str_eq(out, "/usr\n");
}

Test(subprocess, a_hanging_child_and_its_children_are_killed)
{
    struct oj_proc_result r;
    /* The grandchild keeps stdout open: the group kill must end it too. */
    char *argv[] = {"sh", "-c", "sleep 30 & sleep 30", NULL};
    int64_t t0 = oj_mono_ms();
    cr_assert_eq(oj_run(argv, NULL, 300, NULL, 0, 0, &r), 0);
    int64_t took = oj_mono_ms() - t0;
    cr_expect(r.timed_out);
    cr_expect_eq(r.exit_status, 128 + 9);
    cr_expect_lt(took, 5000, "took %lld ms", (long long)took);
}

Test(subprocess, a_missing_program_is_an_error)
{
    struct oj_proc_result r;
    char *argv[] = {"/nonexistent/program", NULL};
    int rv = oj_run(argv, NULL, 1000, NULL, 0, 0, &r);
    /* posix_spawnp reports exec failure either as -1 or as exit 127. */
    cr_expect(rv == -1 || r.exit_status == 127, "rv %d status %d", rv, r.exit_status);
}

Test(subprocess, a_too_long_argument_is_reported_as_such_not_as_a_missing_program)
{
    /* One argument past the kernel's 128 KiB limit for a single string. */
    static char big[200 * 1024];
    memset(big, 'x', sizeof big - 1);
    char *argv[] = {"echo", big, NULL};
    struct oj_proc_result r;
    errno = 0;
    cr_assert_eq(oj_run(argv, NULL, 5000, NULL, 0, 0, &r), -1);
    cr_expect_eq(errno, E2BIG);
    const char *why = oj_spawn_why(errno);
    cr_expect(strstr(why, "too long") && strstr(why, "E2BIG"), "%s", why);
    cr_expect(strstr(why, "installed") == NULL, "%s", why);
    cr_expect(strstr(oj_spawn_why(ENOENT), "installed") != NULL);
    cr_expect_str_eq(oj_spawn_why(EIO), strerror(EIO));
}
