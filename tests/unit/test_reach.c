/* Why the daemon cannot be reached decides the message and the exit code: a
 * daemon of another user is "permission denied" (exit 9), never "not
 * running" (exit 3). */
#include <criterion/criterion.h>
#include <errno.h>

#include "cli.h"

Test(reach, another_users_project_is_permission_denied_not_down)
{
    cr_expect_eq(oj_reach_classify(-1, EACCES, false), OJ_REACH_DENIED,
                 "the pid file cannot be opened: .oj/ is another user's");
    cr_expect_eq(oj_reach_classify(-1, EPERM, false), OJ_REACH_DENIED);
    cr_expect_eq(oj_reach_classify(1234, 0, true), OJ_REACH_DENIED,
                 "a running daemon whose socket refuses us");
    cr_expect_eq(oj_reach_classify(0, 0, true), OJ_REACH_DENIED);
}

Test(reach, no_daemon_and_a_daemon_not_accepting_stay_what_they_were)
{
    cr_expect_eq(oj_reach_classify(0, ENOENT, false), OJ_REACH_DOWN, "no pid file");
    cr_expect_eq(oj_reach_classify(0, 0, false), OJ_REACH_DOWN, "nobody holds the lock");
    cr_expect_eq(oj_reach_classify(-1, EIO, false), OJ_REACH_DOWN);
    cr_expect_eq(oj_reach_classify(4321, 0, false), OJ_REACH_NOT_ACCEPTING);
    cr_expect_eq(OJ_EXIT_PERMISSION, 9, "documented in docs/cli.md");
}
