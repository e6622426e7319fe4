/* The environment that tells a command whom it works for: one builder for
 * sessions and pipeline steps. */
#include <criterion/criterion.h>
#include <string.h>

#include "task_env.h"

Test(task_env, names_the_task_its_workspace_phase_and_project)
{
    struct oj_task_env e;
    oj_task_env_init(&e, "p1a2b3c", "/r/.oj/workspaces/w", "build", "/r");
    cr_expect_str_eq(e.env[0], "OTTER_TASK=p1a2b3c");
    cr_expect_str_eq(e.env[1], "OTTER_WORKSPACE=/r/.oj/workspaces/w");
    cr_expect_str_eq(e.env[2], "OTTER_PHASE=build");
    cr_expect_str_eq(e.env[3], "OJ_PROJECT=/r");
    cr_expect_null(e.env[OJ_TASK_ENV_N]);
    /* A standalone session: no phase, given as NULL or "". */
    oj_task_env_init(&e, "worker", "/r", NULL, "/r");
    cr_expect_str_eq(e.env[2], "OTTER_PHASE=");
    cr_expect_str_eq(e.env[0], "OTTER_TASK=worker");
}

Test(task_env, a_workspace_port_comes_after_the_task_variables)
{
    struct oj_task_env e;
    oj_task_env_init(&e, "p1a2b3c", "/r/.oj/workspaces/w", "build", "/r");
    oj_task_env_port(&e, 20003);
    cr_expect_str_eq(e.env[OJ_TASK_ENV_N], "OJ_PORT=20003");
    cr_expect_null(e.env[OJ_TASK_ENV_N + 1]);
    /* a workspace made before ports has none: no OJ_PORT at all */
    oj_task_env_init(&e, "p1a2b3c", "/r", "build", "/r");
    oj_task_env_port(&e, 0);
    cr_expect_null(e.env[OJ_TASK_ENV_N]);
}
