/* rpc_workspace.c — WorkspaceList, WorkspaceCleanup and WorkspaceDiff. A
 * workspace entity ("workspace"/<name>) holds branch, pipeline_id, path,
 * created_at_ms and (since --base) base_ref, base and port; its
 * state is its pipeline's (or "vanished" when the pipeline's record is gone,
 * archived or never journaled). Git's own list of worktrees under
 * .oj/workspaces/ catches worktrees the state does not know. Git runs on a
 * thread of its own (engine_work.h): the handler takes what the state says,
 * the thread asks git and removes, and the engine journals the removals. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "daemon.h"
#include "engine_work.h"
#include "log.h"
#include "rpc.h"
#include "rpc_table.h"
#include "pipeline.h"
#include "server.h"
#include "store.h"
#include "resolve.h"
#include "worktree.h"
#include "workspace_stat.h"

struct ws {
    char name[160], branch[200], pipeline[32], state[32], path[PATH_MAX];
    char base[64];          /* the commit it was made from ("": made before bases) */
    struct oj_ws_stat stat; /* its diff-stat: the cached one, or measured by list */
    bool measured;          /* stat was measured by this listing */
    bool known; /* in the state (else only git knows it) */
    bool stale; /* its pipeline is finished, archived or gone (cleanup removes it) */
};

struct ws_list {
    struct ws *w;
    size_t n, cap;
};

static struct ws *add(struct ws_list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct ws *grown = realloc(l->w, cap * sizeof *l->w);
        if (grown == NULL)
            return NULL;
        l->w = grown;
        l->cap = cap;
    }
    memset(&l->w[l->n], 0, sizeof l->w[l->n]);
    return &l->w[l->n++];
}

/* ---- the daemon's side (engine thread) --------------------------------------------- */

struct from_state_ctx {
    struct oj_daemon *d;
    struct ws_list *l;
};

/* Stale: its pipeline is finished (done, failed, cancelled), archived or
 * gone. Never a workspace of a running, waiting or escalated pipeline. */
static void from_state(const char *name, const cJSON *v, void *arg)
{
    struct from_state_ctx *c = arg;
    struct ws *w = add(c->l);
    if (w == NULL)
        return;
    w->known = true;
    snprintf(w->name, sizeof w->name, "%s", name);
    snprintf(w->branch, sizeof w->branch, "%s", oj_json_str(v, "branch"));
    snprintf(w->pipeline, sizeof w->pipeline, "%s", oj_json_str(v, "pipeline_id"));
    snprintf(w->path, sizeof w->path, "%s", oj_json_str(v, "path"));
    snprintf(w->base, sizeof w->base, "%s", oj_json_str(v, "base"));
    const struct oj_ws_stat *st = oj_ws_stat_get(c->d, name);
    if (st)
        w->stat = *st;
    const cJSON *p = w->pipeline[0] ? oj_state_get(oj_store_state(c->d->store), "pipeline",
                                                   w->pipeline)
                                    : NULL;
    snprintf(w->state, sizeof w->state, "%s",
             p ? oj_pipeline_state_name(oj_pipeline_state_of(p)) : "vanished");
    w->stale = p == NULL || !oj_pipeline_active(p);
}

/* What git is asked and what it answers, handed to a thread of its own: git
 * may be slow (a big repository, a hook, the worktree lock held by a long
 * checkout), and the engine answers everyone else meanwhile. */
struct ws_job {
    char root[PATH_MAX], lock[PATH_MAX], under[PATH_MAX + 16];
    struct ws_list l; /* the state's workspaces, then git's */
    bool cleanup, dry_run;
    void *call;
    Oj__WorkspaceListResponse_Closure list_done;
    Oj__WorkspaceCleanupResponse_Closure cleanup_done;
    bool *removed;     /* cleanup: per entry of l */
    char (*why)[1024]; /* cleanup: why a stale one was left */
};

static void job_free(struct ws_job *j)
{
    free(j->l.w);
    free(j->removed);
    free(j->why);
    free(j);
}

/* A job with the workspaces the daemon knows; NULL when out of memory. */
static struct ws_job *job_new(struct oj_daemon *d, void *call)
{
    struct ws_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    snprintf(j->root, sizeof j->root, "%s", d->paths.root);
    snprintf(j->lock, sizeof j->lock, "%s", d->paths.worktree_lock);
    snprintf(j->under, sizeof j->under, "%s/workspaces", d->paths.state_dir);
    j->call = call;
    struct from_state_ctx c = {d, &j->l};
    oj_state_each(oj_store_state(d->store), "workspace", from_state, &c);
    return j;
}

/* ---- git's side (a thread of its own; no daemon state) ------------------------------ */

static void from_git(const char *path, const char *branch, void *arg)
{
    struct ws_list *l = arg;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->w[i].path, path) == 0)
            return;
    struct ws *w = add(l);
    if (w == NULL)
        return;
    const char *base = strrchr(path, '/');
    snprintf(w->name, sizeof w->name, "%s", base ? base + 1 : path);
    snprintf(w->branch, sizeof w->branch, "%s", branch);
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->state, sizeof w->state, "vanished");
    w->stale = true;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct ws *)a)->name, ((const struct ws *)b)->name);
}

/* Adds the workspaces only git knows, marks the ones whose folder is gone
 * and sorts them. When git could not be asked because the worktree lock
 * stayed busy, busy says why (else it is left as it was). */
static void ask_git(struct ws_job *j, char *busy, size_t busylen)
{
    struct stat st;
    for (size_t i = 0; i < j->l.n; i++)
        if (j->l.w[i].known && stat(j->l.w[i].path, &st) != 0)
            snprintf(j->l.w[i].state, sizeof j->l.w[i].state, "missing");
    char err[512];
    int rc = oj_worktree_each(j->root, j->lock, j->under, from_git, &j->l, err, sizeof err);
    if (rc < 0)
        LOG_DEBUG("workspaces: git worktree list: %s", err);
    if (rc == -2)
        snprintf(busy, busylen, "%s", err);
    if (j->l.n > 1) /* l.w is NULL when there are none, and qsort's array may not be */
        qsort(j->l.w, j->l.n, sizeof *j->l.w, by_name);
}

static void info(const struct ws *w, Oj__WorkspaceInfo *i)
{
    oj__workspace_info__init(i);
    i->name = (char *)w->name;
    i->branch = (char *)w->branch;
    i->pipeline_id = (char *)w->pipeline;
    i->state = (char *)w->state;
    i->path = (char *)w->path;
    i->lines_added = w->stat.s.added;
    i->lines_removed = w->stat.s.removed;
    i->files_changed = w->stat.s.files;
    i->diffstat_at_ms = w->stat.at_ms;
}

/* The infos of the entries of l that `pick` keeps (NULL: all); *n how many. */
static Oj__WorkspaceInfo **infos_of(const struct ws_list *l, const bool *pick, size_t *n,
                                    Oj__WorkspaceInfo **storage)
{
    *storage = calloc(l->n + 1, sizeof **storage);
    Oj__WorkspaceInfo **ptrs = calloc(l->n + 1, sizeof *ptrs);
    *n = 0;
    for (size_t i = 0; *storage && ptrs && i < l->n; i++)
        if (pick == NULL || pick[i]) {
            info(&l->w[i], &(*storage)[*n]);
            ptrs[*n] = &(*storage)[*n];
            ++*n;
        }
    return ptrs;
}

/* ---- WorkspaceList: git on its thread, the answer from the engine's ---------------------- */

static void list_work(void *arg)
{
    struct ws_job *j = arg;
    char busy[1024] = ""; /* list shows what the daemon knows either way */
    ask_git(j, busy, sizeof busy);
    /* Each diff-stat not measured in the last OJ_DIFFSTAT_MAX_AGE_MS is
     * measured now, within a budget for them all: with many workspaces a
     * listing stays quick, and the ones past the budget show their last
     * measure (measured by the next listing). */
    int64_t start = oj_mono_ms();
    for (size_t i = 0; i < j->l.n; i++) {
        struct ws *w = &j->l.w[i];
        if (!w->known || oj_ws_stat_fresh(&w->stat, oj_wall_ms()) ||
            oj_mono_ms() - start > OJ_DIFFSTAT_LIST_BUDGET_MS)
            continue;
        struct oj_ws_stat st;
        oj_ws_stat_measure(w->path, w->base, &st);
        if (st.at_ms > 0) {
            w->stat = st;
            w->measured = true;
        }
    }
}

/* Engine thread, even while a restore holds writes (it changes nothing):
 * answered from there, so a call is never answered after the daemon's stop
 * has abandoned it. */
static void list_then(struct oj_daemon *d, void *arg)
{
    struct ws_job *j = arg;
    if (d != NULL) {
        for (size_t i = 0; i < j->l.n; i++)
            if (j->l.w[i].measured)
                oj_ws_stat_put(d, j->l.w[i].name, &j->l.w[i].stat);
        Oj__WorkspaceInfo *storage;
        Oj__WorkspaceListResponse out = OJ__WORKSPACE_LIST_RESPONSE__INIT;
        out.workspaces = infos_of(&j->l, NULL, &out.n_workspaces, &storage);
        j->list_done(&out, j->call);
        free(storage);
        free(out.workspaces);
    }
    job_free(j);
}

static void rpc_list(Oj__Control_Service *svc, const Oj__WorkspaceListRequest *in,
                     Oj__WorkspaceListResponse_Closure done, void *call)
{
    (void)in;
    struct oj_daemon *d = oj_daemon_of(svc);
    struct ws_job *j = job_new(d, call);
    if (j == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    j->list_done = done;
    if (oj_engine_work(d, OJ_LANE_ALONE, OJ_WORK_THEN_THROUGH_HOLD, list_work, list_then, j) ==
        0) {
        job_free(j);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "no thread to ask git");
    }
}

/* ---- WorkspaceCleanup: git on its thread, the journal on the engine ------------------- */

static void cleanup_work(void *arg)
{
    struct ws_job *j = arg;
    /* While a long checkout holds the worktree lock, each git call waits for
     * it: once it is found busy, the rest are left (and named) rather than
     * each waited for. */
    char busy[1024] = "";
    ask_git(j, busy, sizeof busy);
    j->removed = calloc(j->l.n + 1, sizeof *j->removed);
    j->why = calloc(j->l.n + 1, sizeof *j->why);
    if (j->removed == NULL || j->why == NULL)
        return; /* then() says out of memory */
    for (size_t i = 0; i < j->l.n; i++) {
        struct ws *w = &j->l.w[i];
        if (!w->stale)
            continue;
        if (j->dry_run) {
            j->removed[i] = true;
            continue;
        }
        char err[1024];
        int rc = -2;
        if (busy[0])
            snprintf(err, sizeof err, "%s", busy);
        else if ((rc = oj_worktree_remove(j->root, j->lock, w->path, w->branch, err,
                                          sizeof err)) == -2)
            snprintf(busy, sizeof busy, "%s", err);
        if (rc != 0) {
            LOG_WARN("workspaces: cannot remove %s: %s", w->path, err);
            snprintf(j->why[i], sizeof *j->why, "%s", err);
            continue;
        }
        j->removed[i] = true;
    }
}

/* Engine thread: the removals journaled, the answer sent. */
static void cleanup_then(struct oj_daemon *d, void *arg)
{
    struct ws_job *j = arg;
    if (d == NULL) {
        job_free(j);
        return;
    }
    if (j->removed == NULL || j->why == NULL) {
        oj_call_fail(j->call, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
        j->cleanup_done(NULL, j->call);
        job_free(j);
        return;
    }
    size_t nleft = 0;
    for (size_t i = 0; i < j->l.n; i++) {
        struct ws *w = &j->l.w[i];
        char err[512];
        if (!j->removed[i] || j->dry_run)
            continue;
        /* Another cleanup may have journaled it meanwhile. */
        if (w->known && oj_state_get(oj_store_state(d->store), "workspace", w->name) &&
            oj_store_commit(d->store, oj_op_del("workspace", w->name), err, sizeof err) == 0) {
            LOG_ERROR("workspaces: removed %s but cannot record it: %s", w->path, err);
            j->removed[i] = false;
            continue;
        }
        oj_ws_stat_drop(d, w->name);
        LOG_INFO("workspaces: removed %s (%s, pipeline %s)", w->path, w->state,
                 w->pipeline[0] ? w->pipeline : "none");
    }
    bool *left = calloc(j->l.n + 1, sizeof *left);
    for (size_t i = 0; left && i < j->l.n; i++)
        if (j->l.w[i].stale && !j->removed[i] && j->why[i][0])
            left[i] = true;
    Oj__WorkspaceInfo *removed_storage, *left_storage;
    Oj__WorkspaceCleanupResponse out = OJ__WORKSPACE_CLEANUP_RESPONSE__INIT;
    out.removed = infos_of(&j->l, j->removed, &out.n_removed, &removed_storage);
    Oj__WorkspaceInfo **left_infos = infos_of(&j->l, left, &nleft, &left_storage);
    Oj__WorkspaceNotRemoved *nr = calloc(nleft + 1, sizeof *nr);
    Oj__WorkspaceNotRemoved **nrp = calloc(nleft + 1, sizeof *nrp);
    if (left && left_infos && nr && nrp) {
        size_t k = 0;
        for (size_t i = 0; i < j->l.n && k < nleft; i++) {
            if (!left[i])
                continue;
            oj__workspace_not_removed__init(&nr[k]);
            nr[k].workspace = left_infos[k];
            nr[k].reason = j->why[i];
            nrp[k] = &nr[k];
            k++;
        }
        out.not_removed = nrp;
        out.n_not_removed = nleft;
    }
    j->cleanup_done(&out, j->call);
    free(removed_storage);
    free(out.removed);
    free(left_storage);
    free(left_infos);
    free(left);
    free(nr);
    free(nrp);
    job_free(j);
}

static void rpc_cleanup(Oj__Control_Service *svc, const Oj__WorkspaceCleanupRequest *in,
                        Oj__WorkspaceCleanupResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct ws_job *j = job_new(d, call);
    if (j == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    j->cleanup = true;
    j->dry_run = in->dry_run;
    j->cleanup_done = done;
    if (oj_engine_work(d, OJ_LANE_ALONE, 0, cleanup_work, cleanup_then, j) == 0) {
        job_free(j);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "no thread to run git");
    }
}

/* ---- WorkspaceDiff: which workspace on the engine, git on its thread ------------------ */

/* Which workspace record the user meant: an exact workspace name, then an
 * exact pipeline id, then the one name or pipeline id the query is a prefix
 * of (a workspace is counted once even when both match). */
struct pick_ctx {
    const char *query;
    size_t qlen;
    const char *exact_name, *exact_id;
    const char *prefix[OJ_RESOLVE_LISTED];
    int nprefix;
};

static void pick_offer(const char *name, const cJSON *v, void *arg)
{
    struct pick_ctx *c = arg;
    const char *pid = oj_json_str(v, "pipeline_id");
    if (strcmp(name, c->query) == 0)
        c->exact_name = name;
    if (pid[0] && strcmp(pid, c->query) == 0)
        c->exact_id = name;
    if (strncmp(name, c->query, c->qlen) == 0 ||
        (pid[0] && strncmp(pid, c->query, c->qlen) == 0)) {
        if (c->nprefix < OJ_RESOLVE_LISTED)
            c->prefix[c->nprefix] = name;
        c->nprefix++;
    }
}

struct diff_job {
    char name[160], path[PATH_MAX], base[64];
    bool stat, include_untracked;
    int rc;
    char err[1200];
    struct oj_worktree_diff diff;
    Oj__WorkspaceDiffResponse_Closure done;
    void *call;
};

static void diff_work(void *arg)
{
    struct diff_job *j = arg;
    j->rc = oj_worktree_diff(j->path, j->base, j->stat, j->include_untracked, &j->diff, j->err,
                             sizeof j->err);
}

static void diff_then(struct oj_daemon *d, void *arg)
{
    struct diff_job *j = arg;
    if (d != NULL && j->rc != 0) {
        oj_call_fail(j->call, OJ__STATUS_CODE__INTERNAL, "%s", j->err);
        j->done(NULL, j->call);
    } else if (d != NULL) {
        Oj__WorkspaceDiffResponse out = OJ__WORKSPACE_DIFF_RESPONSE__INIT;
        out.name = j->name;
        out.path = j->path;
        out.base_commit = j->base;
        size_t len = oj_diff_cut(j->diff.text, j->diff.len, OJ_DIFF_MAX_BYTES);
        j->diff.text[len] = '\0';
        out.diff = j->diff.text;
        out.truncated = j->diff.more || len < j->diff.len;
        out.untracked = j->diff.untracked;
        out.n_untracked = j->diff.n_untracked;
        j->done(&out, j->call);
    }
    oj_worktree_diff_free(&j->diff);
    free(j);
}

static void rpc_diff(Oj__Control_Service *svc, const Oj__WorkspaceDiffRequest *in,
                     Oj__WorkspaceDiffResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct pick_ctx c = {.query = in->workspace, .qlen = strlen(in->workspace)};
    oj_state_each(oj_store_state(d->store), "workspace", pick_offer, &c);
    const char *name = c.exact_name ? c.exact_name : c.exact_id ? c.exact_id
                                                   : c.nprefix == 1 ? c.prefix[0]
                                                                     : NULL;
    if (name == NULL && c.nprefix == 0)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__NOT_FOUND,
                       "no workspace '%s' (a workspace name or a pipeline id, or a unique "
                       "prefix of one); list them with `oj workspace list`",
                       in->workspace);
    if (name == NULL) {
        char list[600] = "";
        for (int i = 0; i < c.nprefix && i < OJ_RESOLVE_LISTED; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     c.prefix[i]);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT,
                       "'%s' matches %d workspaces (%s%s); give more of its name or id",
                       in->workspace, c.nprefix, list,
                       c.nprefix > OJ_RESOLVE_LISTED ? ", ..." : "");
    }
    const cJSON *w = oj_state_get(oj_store_state(d->store), "workspace", name);
    const char *path = oj_json_str(w, "path"), *base = oj_json_str(w, "base");
    struct stat st;
    if (base[0] == '\0')
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__CONFLICT,
                       "workspace %s was made before oj recorded the commit a workspace starts "
                       "from; compare it yourself: git -C %s diff $(git merge-base HEAD <its "
                       "base branch>)",
                       name, path);
    if (stat(path, &st) != 0)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__CONFLICT,
                       "workspace %s's folder %s is gone; its branch %s keeps what was committed",
                       name, path, oj_json_str(w, "branch"));
    struct diff_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    snprintf(j->name, sizeof j->name, "%s", name);
    snprintf(j->path, sizeof j->path, "%s", path);
    snprintf(j->base, sizeof j->base, "%s", base);
    j->stat = in->stat;
    j->include_untracked = in->include_untracked;
    j->done = done;
    j->call = call;
    if (oj_engine_work(d, OJ_LANE_ALONE, OJ_WORK_THEN_THROUGH_HOLD, diff_work, diff_then, j) ==
        0) {
        free(j);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "no thread to run git");
    }
}

void oj_rpc_register_workspace(Oj__Control_Service *svc)
{
    svc->workspace_diff = rpc_diff;
    svc->workspace_list = rpc_list;
    svc->workspace_cleanup = rpc_cleanup;
}
