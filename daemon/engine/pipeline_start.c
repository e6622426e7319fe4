/* pipeline_start.c — a new pipeline (oj run, scheduled jobs): its inputs
 * bound, it and its workspace journaled in one batch, then its worktree
 * started on a runner thread (pipeline_workspace.c), whose result drives it. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "new_id.h"
#include "pipeline_engine.h"
#include "worktree.h"
#include "pipelines.h"

/* ---- ids -------------------------------------------------------------------------- */

static bool pipeline_taken(const char *id, void *arg)
{
    return oj_state_get(state_of(arg), "pipeline", id) != NULL;
}

/* ---- starting ---------------------------------------------------------------------- */

int oj_pipeline_start(struct oj_daemon *d, const char *pipeline, char *const *positional,
                      size_t npos, char *const *names, char *const *values, size_t nnamed,
                      char *id, size_t idlen, int *code, char *err, size_t errlen)
{
    *code = OJ__STATUS_CODE__INVALID_ARGUMENT;
    if (atomic_load(&d->draining)) {
        *code = OJ__STATUS_CODE__SHUTTING_DOWN;
        snprintf(err, errlen, "the daemon is stopping and starts no new pipelines; run it again "
                              "after `oj daemon start`");
        return -1;
    }
    const struct oj_runbooks *rb = oj_runbooks_current(d);
    if (d->runbooks_error[0]) {
        snprintf(err, errlen, "%s", d->runbooks_error);
        return -1;
    }
    const struct oj_pipeline_def *def = rb ? oj_runbooks_pipeline(rb, pipeline) : NULL;
    if (def == NULL) {
        char names_list[512] = "";
        for (int i = 0; rb && i < rb->n_pipelines; i++) {
            strncat(names_list, i ? ", " : "", sizeof names_list - strlen(names_list) - 1);
            strncat(names_list, rb->pipelines[i].name, sizeof names_list - strlen(names_list) - 1);
        }
        *code = OJ__STATUS_CODE__NOT_FOUND;
        snprintf(err, errlen, "no pipeline '%s' in %s/runbooks (%s%s)", pipeline,
                 d->paths.state_dir,
                 names_list[0] ? "defined: " : "none defined; see docs/runbooks.md", names_list);
        return -1;
    }
    struct oj_pipeline p;
    oj_pipeline_init(&p);
    if (oj_pipeline_bind_inputs(def, positional, npos, names, values, nnamed, &p, err, errlen) !=
        0) {
        oj_pipeline_free(&p);
        return -1;
    }
    oj_new_id('p', id, idlen, pipeline_taken, d);
    char ws_name[128], ws[PATH_MAX + 200], branch[160];
    snprintf(ws_name, sizeof ws_name, "%.64s-%s", def->name, id);
    snprintf(ws, sizeof ws, "%s/workspaces/%s", d->paths.state_dir, ws_name);
    snprintf(branch, sizeof branch, "oj/%s", ws_name);
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/workspaces", d->paths.state_dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/pipelines", d->paths.log_dir);
    mkdir(dir, 0700);
    /* The worktree itself is made on a runner thread (step workspace): a
     * big checkout must not hold up the daemon. Whether it can be made at
     * all is quick to ask, and `oj run` says so at once. */
    if (oj_worktree_check(d->paths.root, err, errlen) != 0) {
        oj_pipeline_free(&p);
        *code = OJ__STATUS_CODE__CONFLICT;
        return -1;
    }
    int64_t now = oj_wall_ms();
    oj_pipeline_new(&p, def, ws, branch, now);
    cJSON *ops = cJSON_CreateArray();
    cJSON_AddItemToArray(ops, oj_op_put("pipeline", id, oj_pipeline_to_json(&p)));
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "branch", branch);
    cJSON_AddStringToObject(w, "pipeline_id", id);
    cJSON_AddStringToObject(w, "path", ws);
    cJSON_AddNumberToObject(w, "created_at_ms", (double)now);
    cJSON_AddItemToArray(ops, oj_op_put("workspace", ws_name, w));
    if (oj_store_commit(d->store, oj_op_batch(ops), err, errlen) == 0) {
        oj_pipeline_free(&p);
        *code = OJ__STATUS_CODE__INTERNAL;
        return -1;
    }
    LOG_INFO("pipeline %s: started %s in %s", id, def->name, ws);
    event(d, "pipeline.started", id, def->name);
    event(d, "pipeline.phase", id, p.phase);
    oj_pipeline_free(&p);
    oj_pl_make_workspace(d, id, false); /* then drive() takes it from there */
    return 0;
}
