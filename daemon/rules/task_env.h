/* task_env.h — the environment that tells a command whom it works for and
 * where: OTTER_TASK, OTTER_WORKSPACE, OTTER_PHASE and OJ_PROJECT, for
 * everything oj runs for a task (a session's command, a pipeline's agent or
 * shell step). Pure: the values come in, "NAME=value" strings go out. */
#ifndef OJ_TASK_ENV_H
#define OJ_TASK_ENV_H
#include <limits.h>

#define OJ_TASK_ENV_N 4

struct oj_task_env {
    char buf[OJ_TASK_ENV_N][PATH_MAX + 64];
    char port[32];
    char *env[OJ_TASK_ENV_N + 2]; /* the entries, NULL-terminated */
};

/* task: the pipeline id (or a standalone session's name); workspace: where
 * it works; phase: "" outside a pipeline; project: the project root. NULL
 * reads as "". */
void oj_task_env_init(struct oj_task_env *e, const char *task, const char *workspace,
                      const char *phase, const char *project);

/* Adds OJ_PORT=<port> (the workspace's own port, unique among live
 * workspaces) after the entries; port 0 adds nothing. */
void oj_task_env_port(struct oj_task_env *e, int port);
#endif
