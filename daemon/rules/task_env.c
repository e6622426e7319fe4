/* task_env.c — see task_env.h. */
#include "task_env.h"

#include <stdio.h>

void oj_task_env_init(struct oj_task_env *e, const char *task, const char *workspace,
                      const char *phase, const char *project)
{
    static const char *const names[OJ_TASK_ENV_N] = {"OTTER_TASK", "OTTER_WORKSPACE",
                                                     "OTTER_PHASE", "OJ_PROJECT"};
    const char *values[OJ_TASK_ENV_N] = {task, workspace, phase, project};
    for (int i = 0; i < OJ_TASK_ENV_N; i++) {
        snprintf(e->buf[i], sizeof e->buf[i], "%s=%s", names[i], values[i] ? values[i] : "");
        e->env[i] = e->buf[i];
    }
    e->env[OJ_TASK_ENV_N] = NULL;
}

void oj_task_env_port(struct oj_task_env *e, int port)
{
    if (port <= 0)
        return;
    snprintf(e->port, sizeof e->port, "OJ_PORT=%d", port);
    e->env[OJ_TASK_ENV_N] = e->port;
    e->env[OJ_TASK_ENV_N + 1] = NULL;
}
