/* pipeline_start.c — a new pipeline (oj run, scheduled jobs): its inputs
 * bound, git asked on a thread of its own whether the project can have
 * worktrees, then it and its workspace journaled in one batch, and its
 * worktree started on a runner thread (pipeline_workspace.c), whose result
 * drives it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "engine_work.h"
#include "new_id.h"
#include "pipeline_engine.h"
#include "worktree.h"
#include "workspace_rules.h"
#include "pipelines.h"

/* ---- ids -------------------------------------------------------------------------- */

/* Taken by a live record, or by an archived one whose log is still kept
 * (found by review: ids are 24 random bits and archived ones leave the state,
 * so a new pipeline could reuse one and collide with its branch, log and
 * prompts; the log lives OJ_RETAIN_HISTORY after the archive). */
static bool pipeline_taken(const char *id, void *arg)
{
    struct oj_daemon *d = arg;
    if (oj_state_get(state_of(d), "pipeline", id) != NULL)
        return true;
    char log[PATH_MAX + 128];
    oj_pl_log_path(d, id, log, sizeof log);
    return access(log, F_OK) == 0;
}

/* ---- starting ---------------------------------------------------------------------------- */

/* What a start checks in the state: the daemon takes new work, the runbooks
 * define the pipeline, the inputs bind. 0 with *p bound and *def set, else a
 * status code with err (p then freed). */
static int check_start(struct oj_daemon *d, const char *pipeline, char *const *positional,
                       size_t npos, char *const *names, char *const *values, size_t nnamed,
                       struct oj_pipeline *p, const struct oj_pipeline_def **def, char *err,
                       size_t errlen)
{
    oj_pipeline_init(p);
    if (atomic_load(&d->draining)) {
        snprintf(err, errlen, "the daemon is stopping and starts no new pipelines; run it again "
                              "after `oj daemon start`");
        return OJ__STATUS_CODE__SHUTTING_DOWN;
    }
    const struct oj_runbooks *rb = oj_runbooks_current(d);
    if (d->runbooks_error[0]) {
        snprintf(err, errlen, "%s", d->runbooks_error);
        return OJ__STATUS_CODE__INVALID_ARGUMENT;
    }
    *def = rb ? oj_runbooks_pipeline(rb, pipeline) : NULL;
    if (*def == NULL) {
        char names_list[512] = "";
        for (int i = 0; rb && i < rb->n_pipelines; i++) {
            strncat(names_list, i ? ", " : "", sizeof names_list - strlen(names_list) - 1);
            strncat(names_list, rb->pipelines[i].name, sizeof names_list - strlen(names_list) - 1);
        }
        snprintf(err, errlen, "no pipeline '%s' in %s/runbooks (%s%s)", pipeline,
                 d->paths.state_dir,
                 names_list[0] ? "defined: " : "none defined; see `man oj-runbook`", names_list);
        return OJ__STATUS_CODE__NOT_FOUND;
    }
    if (oj_pipeline_bind_inputs(*def, positional, npos, names, values, nnamed, p, err, errlen) !=
        0) {
        oj_pipeline_free(p);
        return OJ__STATUS_CODE__INVALID_ARGUMENT;
    }
    return 0;
}

/* ---- the workspace's port ------------------------------------------------------------- */

struct ports {
    int64_t *taken;
    size_t n, cap;
};

static void port_of(const char *name, const cJSON *v, void *arg)
{
    (void)name;
    struct ports *ps = arg;
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(v, "port");
    if (!cJSON_IsNumber(port))
        return;
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        int64_t *grown = realloc(ps->taken, cap * sizeof *grown);
        if (grown == NULL)
            return;
        ps->taken = grown;
        ps->cap = cap;
    }
    ps->taken[ps->n++] = (int64_t)port->valuedouble;
}

/* The OJ_PORT of a new workspace: the first port of the configured range no
 * workspace record holds (a record, and its port, goes with `oj workspace
 * cleanup`); -1 with err when every one is held. */
static int pick_port(struct oj_daemon *d, char *err, size_t errlen)
{
    struct ports ps = {0};
    oj_state_each(state_of(d), "workspace", port_of, &ps);
    int port = oj_port_pick(ps.taken, ps.n, d->cfg.port_base, d->cfg.port_step, OJ_PORT_COUNT);
    free(ps.taken);
    if (port < 0)
        snprintf(err, errlen, "no free workspace port (OJ_PORT) from %d in steps of %d: %zu "
                              "workspaces hold one; remove finished ones with `oj workspace "
                              "cleanup --stale`, or move the range with OJ_PORT_BASE",
                 d->cfg.port_base, d->cfg.port_step, ps.n);
    return port;
}

/* Journals the new pipeline (bound in p) and its workspace in one batch and
 * starts its worktree at commit base (resolved from base_ref). 0 with its
 * id, else a status code with err. */
static int create(struct oj_daemon *d, const struct oj_pipeline_def *def, struct oj_pipeline *p,
                  const char *base_ref, const char *base, char *id, size_t idlen, char *err,
                  size_t errlen)
{
    int port = pick_port(d, err, errlen);
    if (port < 0)
        return OJ__STATUS_CODE__CONFLICT;
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
    int64_t now = oj_wall_ms();
    oj_pipeline_new(p, def, ws, branch, now);
    cJSON *ops = cJSON_CreateArray();
    cJSON_AddItemToArray(ops, oj_op_put("pipeline", id, oj_pipeline_to_json(p)));
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "branch", branch);
    cJSON_AddStringToObject(w, "pipeline_id", id);
    cJSON_AddStringToObject(w, "path", ws);
    cJSON_AddNumberToObject(w, "created_at_ms", (double)now);
    cJSON_AddStringToObject(w, "base_ref", base_ref);
    cJSON_AddStringToObject(w, "base", base);
    cJSON_AddNumberToObject(w, "port", port);
    cJSON_AddItemToArray(ops, oj_op_put("workspace", ws_name, w));
    if (oj_store_commit(d->store, oj_op_batch(ops), err, errlen) == 0)
        return OJ__STATUS_CODE__INTERNAL;
    LOG_INFO("pipeline %s: started %s in %s from %s (%.12s), OJ_PORT %d", id, def->name, ws,
             base_ref, base, port);
    event(d, "pipeline.started", id, def->name);
    event(d, "pipeline.phase", id, p->phase);
    oj_pl_make_workspace(d, id, false); /* then drive() takes it from there */
    return 0;
}

/* A start while git is asked whether a worktree can be made at all: the
 * request's words, copied, and whom to tell. */
struct start_job {
    char root[PATH_MAX];
    char *pipeline;
    char **positional, **names, **values;
    size_t npos, nnamed;
    int check; /* oj_worktree_check's answer */
    char check_err[1024];
    char base_ref[300]; /* what the worktree starts from ("HEAD" unless --base) */
    char base[64];      /* its commit, asked on git's thread */
    int base_check;     /* oj_worktree_resolve_base's answer */
    char base_err[1024];
    oj_pipeline_started started;
    void *arg;
};

static void free_words(char **w, size_t n)
{
    for (size_t i = 0; w && i < n; i++)
        free(w[i]);
    free(w);
}

static void start_job_free(struct start_job *j)
{
    free(j->pipeline);
    free_words(j->positional, j->npos);
    free_words(j->names, j->nnamed);
    free_words(j->values, j->nnamed);
    free(j);
}

/* A copy of n words (NULL-terminated); false when out of memory. */
static bool copy_words(char ***out, char *const *w, size_t n)
{
    *out = calloc(n + 1, sizeof **out);
    bool ok = *out != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = ((*out)[i] = strdup(w[i])) != NULL;
    return ok;
}

/* git's thread: one `git rev-parse` (a big repository or a slow disk may
 * make even that slow). */
static void check_work(void *arg)
{
    struct start_job *j = arg;
    j->check = oj_worktree_check(j->root, j->check_err, sizeof j->check_err);
    if (j->check == 0)
        j->base_check = oj_worktree_resolve_base(j->root, j->base_ref, j->base, sizeof j->base,
                                                 j->base_err, sizeof j->base_err);
}

/* Engine thread: the checks again (the state may have changed meanwhile),
 * git's answer, then the pipeline. */
static void start_then(struct oj_daemon *d, void *arg)
{
    struct start_job *j = arg;
    if (d == NULL) {
        j->started(NULL, j->arg, OJ__STATUS_CODE__SHUTTING_DOWN, "", "the daemon stopped");
        start_job_free(j);
        return;
    }
    struct oj_pipeline p;
    const struct oj_pipeline_def *def;
    char err[1500], id[16] = "";
    int code = check_start(d, j->pipeline, j->positional, j->npos, j->names, j->values,
                           j->nnamed, &p, &def, err, sizeof err);
    if (code == 0 && j->check != 0) {
        snprintf(err, sizeof err, "%s", j->check_err);
        code = OJ__STATUS_CODE__CONFLICT;
    }
    if (code == 0 && j->base_check != 0) {
        snprintf(err, sizeof err, "%s", j->base_err);
        code = OJ__STATUS_CODE__INVALID_ARGUMENT;
    }
    if (code == 0)
        code = create(d, def, &p, j->base_ref, j->base, id, sizeof id, err, sizeof err);
    oj_pipeline_free(&p);
    j->started(d, j->arg, code, id, code ? err : "");
    start_job_free(j);
}

int oj_pipeline_start(struct oj_daemon *d, const char *pipeline, char *const *positional,
                      size_t npos, char *const *names, char *const *values, size_t nnamed,
                      const char *base_ref, oj_pipeline_started started, void *arg, char *err,
                      size_t errlen)
{
    struct oj_pipeline p;
    const struct oj_pipeline_def *def;
    const char *bad = base_ref && base_ref[0] ? oj_base_ref_problem(base_ref) : NULL;
    if (bad) {
        snprintf(err, errlen, "%s (got '%.250s'): give a branch, tag or commit of the project",
                 bad, base_ref);
        return OJ__STATUS_CODE__INVALID_ARGUMENT;
    }
    int code = check_start(d, pipeline, positional, npos, names, values, nnamed, &p, &def, err,
                           errlen);
    if (code != 0)
        return code;
    oj_pipeline_free(&p);
    /* The worktree itself is made on a runner thread (step workspace): a big
     * checkout must not hold up the daemon. Whether it can be made at all is
     * asked first, on a thread of its own, and `oj run` says so. */
    struct start_job *j = calloc(1, sizeof *j);
    bool ok = j && (j->pipeline = strdup(pipeline)) != NULL &&
              copy_words(&j->positional, positional, npos) &&
              copy_words(&j->names, names, nnamed) && copy_words(&j->values, values, nnamed);
    if (j) {
        j->npos = npos;
        j->nnamed = nnamed;
        snprintf(j->root, sizeof j->root, "%s", d->paths.root);
        snprintf(j->base_ref, sizeof j->base_ref, "%s",
                 base_ref && base_ref[0] ? base_ref : "HEAD");
        j->started = started;
        j->arg = arg;
    }
    if (!ok || oj_engine_work(d, OJ_LANE_ALONE, 0, check_work, start_then, j) == 0) {
        if (j)
            start_job_free(j);
        snprintf(err, errlen, "daemon out of memory or no thread for git");
        return OJ__STATUS_CODE__INTERNAL;
    }
    return 0;
}
