/* pipeline_workspace.c — a new pipeline's worktree, made by `git worktree
 * add` on a runner thread while the pipeline is in step workspace: a big
 * checkout takes seconds and the engine answers requests meanwhile. The
 * command is safe to run again, so a making cut off by a crash or a stop is
 * simply started again by the tick (pipeline_tick.c, beside the shell steps
 * a crash cut off). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "pipeline_engine.h"
#include "worktree.h"

static void workspace_made(struct oj_daemon *d, void *arg, int status, bool timed_out,
                           const char *tail)
{
    char *id = arg;
    const cJSON *v = get(d, id);
    if (v == NULL || !oj_pipeline_active(v) || strcmp(oj_json_str(v, "step"), "workspace") != 0) {
        LOG_INFO("pipeline %s: its worktree was made after it was %s", id,
                 v ? oj_json_str(v, "state") : "gone");
        free(id);
        return;
    }
    oj_hmap_del(&d->pipeline_shells, id);
    char pg[PATH_MAX + 64];
    oj_pl_pgid_path(d, id, pg, sizeof pg);
    unlink(pg);
    if (status != 0 || timed_out) {
        char why[700];
        if (timed_out)
            snprintf(why, sizeof why, "cannot make its workspace: git worktree add took longer "
                                      "than %d s", OJ_WORKTREE_ADD_TIMEOUT_MS / 1000);
        else
            snprintf(why, sizeof why, "cannot make its workspace: git worktree add: %s",
                     tail[0] ? tail : "failed (see its log)");
        oj_pl_finish(d, id, "failed", why);
        free(id);
        return;
    }
    cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
    oj_json_set_str(n, "step", "pending");
    if (save(d, id, n)) {
        LOG_INFO("pipeline %s: workspace ready", id);
        oj_pl_drive(d, id);
    }
    free(id);
}

void oj_pl_make_workspace(struct oj_daemon *d, const char *id, bool again)
{
    const cJSON *v = get(d, id);
    char *cmd = oj_worktree_add_command(oj_json_str(v, "workspace"), oj_json_str(v, "branch"),
                                        d->paths.worktree_lock, again);
    char *arg = strdup(id);
    char logp[PATH_MAX + 64], pg[PATH_MAX + 64], bufs[4][PATH_MAX + 64], *env[5];
    oj_pl_log_path(d, id, logp, sizeof logp);
    oj_pl_pgid_path(d, id, pg, sizeof pg);
    oj_pl_env(d, id, v, bufs, env);
    struct oj_run_spec spec = {.command = cmd,
                               .cwd = d->paths.root,
                               .log_path = logp,
                               .pgid_file = pg,
                               .env = env,
                               .timeout_ms = OJ_WORKTREE_ADD_TIMEOUT_MS};
    bool oom = cmd == NULL || arg == NULL;
    if (!oom)
        oj_hmap_put(&d->pipeline_shells, id, (void *)1, &oom);
    if (oom || oj_runner_start(d, &spec, workspace_made, arg) != 0) {
        oj_hmap_del(&d->pipeline_shells, id);
        free(cmd);
        free(arg);
        oj_pl_finish(d, id, "failed", "cannot make its workspace: no thread for git");
        return;
    }
    free(cmd);
}
