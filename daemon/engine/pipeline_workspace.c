/* pipeline_workspace.c — a new pipeline's worktree, made by `git worktree
 * add` on a runner thread while the pipeline is in step workspace: a big
 * checkout takes seconds and the engine answers requests meanwhile. Then the
 * runbook's `setup` command, if it has one, runs in the new worktree on a
 * runner thread too (still step workspace), like a shell step. The making is
 * safe to run again, so a making or a setup cut off by a crash or a stop is
 * simply started again by the tick (pipeline_tick.c, beside the shell steps
 * a crash cut off): the worktree is kept and the setup runs again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "pipeline_engine.h"
#include "worktree.h"
#include "engine_runner.h"
#include "template.h"
#include "workspace_stat.h"

const cJSON *oj_pl_workspace_record(struct oj_daemon *d, const struct oj_pipeline *p)
{
    const char *slash = strrchr(p->workspace, '/');
    const char *name = slash ? slash + 1 : p->workspace;
    return name[0] ? oj_state_get(state_of(d), "workspace", name) : NULL;
}

int oj_pl_port(struct oj_daemon *d, const struct oj_pipeline *p)
{
    const cJSON *w = oj_pl_workspace_record(d, p);
    const cJSON *port = w ? cJSON_GetObjectItemCaseSensitive(w, "port") : NULL;
    return cJSON_IsNumber(port) ? (int)port->valuedouble : 0;
}

/* The result of what ran for step workspace came back: whether it still
 * counts (the pipeline still waits for it; else *p is freed and false), its
 * runner's marks cleared. */
static bool step_result(struct oj_daemon *d, const char *id, struct oj_pipeline *p,
                        const char *what)
{
    bool found = load(d, id, p);
    if (!oj_pipeline_state_active(p->state) || p->step != OJ_STEP_WORKSPACE) {
        LOG_INFO("pipeline %s: its %s ended after it was %s", id, what,
                 found ? oj_pipeline_state_name(p->state) : "gone");
        oj_pipeline_free(p);
        return false;
    }
    oj_hmap_del(&d->pipeline_shells, id);
    char pg[PATH_MAX + 64];
    oj_pl_pgid_path(d, id, pg, sizeof pg);
    unlink(pg);
    return true;
}

/* The workspace is ready (and set up): the first phase starts. */
static void workspace_ready(struct oj_daemon *d, const char *id, struct oj_pipeline *p)
{
    oj_ws_stat_changed(d, p->workspace); /* made and set up: measure it afresh */
    oj_pipeline_touch(p, oj_wall_ms());
    p->step = OJ_STEP_PENDING;
    bool saved = save(d, id, p);
    oj_pipeline_free(p);
    if (saved) {
        LOG_INFO("pipeline %s: workspace ready", id);
        oj_pl_drive(d, id);
    }
}

static void setup_done(struct oj_daemon *d, void *arg, int status, bool timed_out,
                       const char *tail)
{
    char *id = arg;
    struct oj_pipeline p;
    if (!step_result(d, id, &p, "setup")) {
        free(id);
        return;
    }
    if (status == 0 && !timed_out) {
        workspace_ready(d, id, &p);
        free(id);
        return;
    }
    const struct oj_pipeline_def *def = oj_pl_def_of(d, &p);
    char why[700], detail[1400];
    if (timed_out)
        snprintf(why, sizeof why, "setup took longer than its setup_timeout (%lld s)%s%.500s",
                 def ? (long long)(def->setup_timeout_ms / 1000) : 0LL, tail[0] ? ": " : "",
                 tail);
    else
        snprintf(why, sizeof why, "setup failed (exit status %d)%s%.500s", status,
                 tail[0] ? ": " : "", tail);
    snprintf(detail, sizeof detail,
             "%.600s; the whole output is in `oj pipeline show %s`'s log (.oj/logs/pipelines/"
             "%s.log). Fix the runbook's setup and `oj run` again, or finish the set-up by hand "
             "in %.200s and `oj pipeline resume %s` (it starts the first phase)",
             why, id, id, p.workspace, id);
    oj_pipeline_add_recovery(&p, oj_wall_ms(), "setup-failed", detail);
    bool saved = save(d, id, &p);
    oj_pipeline_free(&p);
    if (saved)
        oj_pl_finish(d, id, OJ_PIPELINE_FAILED, why);
    free(id);
}

/* Runs the runbook's setup in the new worktree (on a runner thread, as a
 * shell step); false when there is none, true when it started or the
 * pipeline failed for it. */
static bool start_setup(struct oj_daemon *d, const char *id, struct oj_pipeline *p)
{
    const struct oj_pipeline_def *def = oj_pl_def_of(d, p);
    if (def == NULL || def->setup == NULL)
        return false;
    char err[700];
    char *cmd = NULL, *arg = strdup(id);
    struct tvars t;
    oj_pl_tvars_init(&t, d, id, p);
    if (arg == NULL || oj_template_expand(def->setup, oj_pl_lookup, &t, 1, &cmd, err,
                                          sizeof err) != 0) {
        if (arg == NULL)
            snprintf(err, sizeof err, "daemon out of memory");
        free(arg);
        char why[800];
        snprintf(why, sizeof why, "cannot run its setup: %s", err);
        oj_pl_finish(d, id, OJ_PIPELINE_FAILED, why);
        return true;
    }
    char logp[PATH_MAX + 64], pg[PATH_MAX + 64];
    struct oj_task_env te;
    oj_pl_log_path(d, id, logp, sizeof logp);
    oj_pl_pgid_path(d, id, pg, sizeof pg);
    oj_pl_env(d, id, p, &te);
    struct oj_run_spec spec = {.command = cmd,
                               .cwd = p->workspace,
                               .log_path = logp,
                               .pgid_file = pg,
                               .env = te.env,
                               .timeout_ms = def->setup_timeout_ms};
    bool oom = false;
    oj_hmap_put(&d->pipeline_shells, id, (void *)1, &oom);
    if (oom || oj_runner_start(d, &spec, setup_done, arg) != 0) {
        oj_hmap_del(&d->pipeline_shells, id);
        free(arg);
        free(cmd);
        oj_pl_finish(d, id, OJ_PIPELINE_FAILED, "cannot run its setup: no thread for it");
        return true;
    }
    LOG_INFO("pipeline %s: setting up its workspace: `%s`", id, cmd);
    free(cmd);
    return true;
}

static void workspace_made(struct oj_daemon *d, void *arg, int status, bool timed_out,
                           const char *tail)
{
    char *id = arg;
    struct oj_pipeline p;
    if (!step_result(d, id, &p, "worktree's making")) {
        free(id);
        return;
    }
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
    if (start_setup(d, id, &p))
        oj_pipeline_free(&p);
    else
        workspace_ready(d, id, &p);
    free(id);
}

void oj_pl_make_workspace(struct oj_daemon *d, const char *id, bool again)
{
    struct oj_pipeline p;
    load(d, id, &p);
    const cJSON *w = oj_pl_workspace_record(d, &p);
    const char *base = w ? oj_json_str(w, "base") : ""; /* "": made before --base, HEAD */
    char *cmd = oj_worktree_add_command(p.workspace, p.branch, base, d->paths.worktree_lock,
                                        again);
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
