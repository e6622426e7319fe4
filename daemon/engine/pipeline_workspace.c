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
#include "engine_runner.h"

static void workspace_made(struct oj_daemon *d, void *arg, int status, bool timed_out,
                           const char *tail)
{
    char *id = arg;
    struct oj_pipeline p;
    bool found = load(d, id, &p);
    if (!oj_pipeline_state_active(p.state) || p.step != OJ_STEP_WORKSPACE) {
        LOG_INFO("pipeline %s: its worktree was made after it was %s", id,
                 found ? oj_pipeline_state_name(p.state) : "gone");
        oj_pipeline_free(&p);
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
        oj_pipeline_free(&p);
        oj_pl_finish(d, id, OJ_PIPELINE_FAILED, why);
        free(id);
        return;
    }
    oj_pipeline_touch(&p, oj_wall_ms());
    p.step = OJ_STEP_PENDING;
    bool saved = save(d, id, &p);
    oj_pipeline_free(&p);
    if (saved) {
        LOG_INFO("pipeline %s: workspace ready", id);
        oj_pl_drive(d, id);
    }
    free(id);
}

void oj_pl_make_workspace(struct oj_daemon *d, const char *id, bool again)
{
    struct oj_pipeline p;
    load(d, id, &p);
    char *cmd = oj_worktree_add_command(p.workspace, p.branch, d->paths.worktree_lock, again);
    char *arg = strdup(id);
    char logp[PATH_MAX + 64], pg[PATH_MAX + 64];
    struct oj_task_env te;
    oj_pl_log_path(d, id, logp, sizeof logp);
    oj_pl_pgid_path(d, id, pg, sizeof pg);
    oj_pl_env(d, id, &p, &te);
    oj_pipeline_free(&p);
    struct oj_run_spec spec = {.command = cmd,
                               .cwd = d->paths.root,
                               .log_path = logp,
                               .pgid_file = pg,
                               .env = te.env,
                               .timeout_ms = OJ_WORKTREE_ADD_TIMEOUT_MS};
    bool oom = cmd == NULL || arg == NULL;
    if (!oom)
        oj_hmap_put(&d->pipeline_shells, id, (void *)1, &oom);
    if (oom || oj_runner_start(d, &spec, workspace_made, arg) != 0) {
        oj_hmap_del(&d->pipeline_shells, id);
        free(cmd);
        free(arg);
        oj_pl_finish(d, id, OJ_PIPELINE_FAILED, "cannot make its workspace: no thread for git");
        return;
    }
    free(cmd);
}
