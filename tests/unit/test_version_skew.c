/* Versions compared as numbers, and what the CLI says about a daemon of
 * another version. */
#include <criterion/criterion.h>
#include <string.h>

#include "version_skew.h"

Test(version_skew, versions_compare_field_by_field_as_numbers)
{
    cr_expect_eq(oj_version_cmp("0.1.0", "0.1.0"), 0);
    cr_expect_lt(oj_version_cmp("0.9.1", "0.10.0"), 0);
    cr_expect_gt(oj_version_cmp("1.0", "0.99.99"), 0);
    cr_expect_lt(oj_version_cmp("0.1", "0.1.1"), 0);
    cr_expect_gt(oj_version_cmp("0.1.1", "0.1"), 0);
}

Test(version_skew, the_note_names_both_versions_and_the_fix)
{
    char buf[300];
    cr_expect_not(oj_version_note("0.1.0", "0.1.0", buf, sizeof buf), "same: nothing to say");
    cr_assert(oj_version_note("0.2.0", "0.1.0", buf, sizeof buf));
    cr_expect(strstr(buf, "0.1.0, older than this oj 0.2.0") && strstr(buf, "oj daemon stop"),
              "%s", buf);
    cr_assert(oj_version_note("0.1.0", "0.2.0", buf, sizeof buf));
    cr_expect(strstr(buf, "newer than this oj 0.1.0") != NULL, "%s", buf);
    cr_assert(oj_version_note("0.1.0", "", buf, sizeof buf));
    cr_expect(strstr(buf, "older oj") != NULL, "a daemon that names no version is older: %s",
              buf);
}

Test(version_skew, an_unknown_rpc_from_an_older_daemon_says_to_restart_it)
{
    char buf[300];
    oj_unknown_method_error("unknown method 'Ask'", "0.2.0", "0.1.0", buf, sizeof buf);
    cr_expect(strstr(buf, "unknown method 'Ask'") && strstr(buf, "older than this oj 0.2.0") &&
                  strstr(buf, "restart it"),
              "%s", buf);
    oj_unknown_method_error("unknown method 'Ask'", "0.1.0", "0.1.0", buf, sizeof buf);
    cr_expect(strstr(buf, "restart") == NULL, "same version: not an upgrade problem: %s", buf);
}
