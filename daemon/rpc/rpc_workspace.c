/* rpc_workspace.c — WorkspaceList and WorkspaceCleanup. A workspace entity
 * ("workspace"/<name>) holds branch, pipeline_id, path and created_at_ms; its
 * state is its pipeline's (or "vanished" when the pipeline's record is gone,
 * archived or never journaled). Git's own list of worktrees under
 * .oj/workspaces/ catches worktrees the state does not know. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon.h"
#include "log.h"
#include "rpc.h"
#include "rpc_table.h"
#include "pipeline.h"
#include "server.h"
#include "store.h"
#include "worktree.h"

struct ws {
    char name[160], branch[200], pipeline[32], state[32], path[PATH_MAX];
    bool known; /* in the state (else only git knows it) */
};

struct ws_list {
    struct oj_daemon *d;
    struct ws *w;
    size_t n, cap;
};

static struct ws *add(struct ws_list *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->w = realloc(l->w, l->cap * sizeof *l->w);
    }
    memset(&l->w[l->n], 0, sizeof l->w[l->n]);
    return &l->w[l->n++];
}

static void from_state(const char *name, const cJSON *v, void *arg)
{
    struct ws_list *l = arg;
    struct ws *w = add(l);
    w->known = true;
    snprintf(w->name, sizeof w->name, "%s", name);
    snprintf(w->branch, sizeof w->branch, "%s", oj_json_str(v, "branch"));
    snprintf(w->pipeline, sizeof w->pipeline, "%s", oj_json_str(v, "pipeline_id"));
    snprintf(w->path, sizeof w->path, "%s", oj_json_str(v, "path"));
    const cJSON *p = oj_state_get(oj_store_state(l->d->store), "pipeline", w->pipeline);
    struct stat st;
    if (stat(w->path, &st) != 0)
        snprintf(w->state, sizeof w->state, "missing");
    else
        snprintf(w->state, sizeof w->state, "%s",
                 p ? oj_pipeline_state_name(oj_pipeline_state_of(p)) : "vanished");
}

static void from_git(const char *path, const char *branch, void *arg)
{
    struct ws_list *l = arg;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->w[i].path, path) == 0)
            return;
    struct ws *w = add(l);
    const char *base = strrchr(path, '/');
    snprintf(w->name, sizeof w->name, "%s", base ? base + 1 : path);
    snprintf(w->branch, sizeof w->branch, "%s", branch);
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->state, sizeof w->state, "vanished");
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct ws *)a)->name, ((const struct ws *)b)->name);
}

/* The workspaces the daemon knows and those only git knows. When git could
 * not be asked because the worktree lock stayed busy, busy says why (else
 * it is left as it was). */
static void gather(struct oj_daemon *d, struct ws_list *l, char *busy, size_t busylen)
{
    l->d = d;
    oj_state_each(oj_store_state(d->store), "workspace", from_state, l);
    char under[PATH_MAX + 16], err[512];
    snprintf(under, sizeof under, "%s/workspaces", d->paths.state_dir);
    int rc = oj_worktree_each(d->paths.root, d->paths.worktree_lock, under, from_git, l, err,
                              sizeof err);
    if (rc < 0)
        LOG_DEBUG("workspaces: git worktree list: %s", err);
    if (rc == -2)
        snprintf(busy, busylen, "%s", err);
    if (l->n > 1) /* l->w is NULL when there are none, and qsort's array may not be */
        qsort(l->w, l->n, sizeof *l->w, by_name);
}

static void info(const struct ws *w, Oj__WorkspaceInfo *i)
{
    oj__workspace_info__init(i);
    i->name = (char *)w->name;
    i->branch = (char *)w->branch;
    i->pipeline_id = (char *)w->pipeline;
    i->state = (char *)w->state;
    i->path = (char *)w->path;
}

static void reply(const struct ws *w, size_t n, void (*send)(Oj__WorkspaceInfo **, size_t, void *),
                  void *arg)
{
    Oj__WorkspaceInfo *infos = calloc(n + 1, sizeof *infos);
    Oj__WorkspaceInfo **ptrs = calloc(n + 1, sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        info(&w[i], &infos[i]);
        ptrs[i] = &infos[i];
    }
    send(ptrs, n, arg);
    free(infos);
    free(ptrs);
}

struct list_call {
    Oj__WorkspaceListResponse_Closure done;
    void *call;
};

static void send_list(Oj__WorkspaceInfo **ptrs, size_t n, void *arg)
{
    struct list_call *c = arg;
    Oj__WorkspaceListResponse out = OJ__WORKSPACE_LIST_RESPONSE__INIT;
    out.workspaces = ptrs;
    out.n_workspaces = n;
    c->done(&out, c->call);
}

static void rpc_list(Oj__Control_Service *svc, const Oj__WorkspaceListRequest *in,
                     Oj__WorkspaceListResponse_Closure done, void *call)
{
    (void)in;
    struct ws_list l = {0};
    char busy[1024] = ""; /* list shows what the daemon knows either way */
    gather(oj_daemon_of(svc), &l, busy, sizeof busy);
    struct list_call c = {done, call};
    reply(l.w, l.n, send_list, &c);
    free(l.w);
}

struct cleanup_call {
    Oj__WorkspaceCleanupResponse_Closure done;
    void *call;
    const struct ws *left; /* stale ones it could not remove, with why */
    char (*why)[1024];
    size_t nleft;
};

static void send_cleanup(Oj__WorkspaceInfo **ptrs, size_t n, void *arg)
{
    struct cleanup_call *c = arg;
    Oj__WorkspaceCleanupResponse out = OJ__WORKSPACE_CLEANUP_RESPONSE__INIT;
    out.removed = ptrs;
    out.n_removed = n;
    Oj__WorkspaceInfo *infos = calloc(c->nleft + 1, sizeof *infos);
    Oj__WorkspaceNotRemoved *nr = calloc(c->nleft + 1, sizeof *nr);
    Oj__WorkspaceNotRemoved **nrp = calloc(c->nleft + 1, sizeof *nrp);
    if (infos && nr && nrp) {
        for (size_t i = 0; i < c->nleft; i++) {
            info(&c->left[i], &infos[i]);
            oj__workspace_not_removed__init(&nr[i]);
            nr[i].workspace = &infos[i];
            nr[i].reason = c->why[i];
            nrp[i] = &nr[i];
        }
        out.not_removed = nrp;
        out.n_not_removed = c->nleft;
    }
    c->done(&out, c->call);
    free(infos);
    free(nr);
    free(nrp);
}

/* Stale: its pipeline is finished (done, failed, cancelled), archived or
 * gone. Never a workspace of a running, waiting or escalated pipeline. */
static bool stale(struct oj_daemon *d, const struct ws *w)
{
    const cJSON *p = w->pipeline[0]
                         ? oj_state_get(oj_store_state(d->store), "pipeline", w->pipeline)
                         : NULL;
    return p == NULL || !oj_pipeline_active(p);
}

static void rpc_cleanup(Oj__Control_Service *svc, const Oj__WorkspaceCleanupRequest *in,
                        Oj__WorkspaceCleanupResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct ws_list l = {0};
    /* While a long checkout holds the worktree lock, each git call would wait
     * for it on the engine thread: once it is found busy, the rest are left
     * (and named) rather than each waited for. */
    char busy[1024] = "";
    gather(d, &l, busy, sizeof busy);
    struct ws *removed = calloc(l.n + 1, sizeof *removed);
    struct ws *left = calloc(l.n + 1, sizeof *left);
    char(*why)[1024] = calloc(l.n + 1, sizeof *why);
    size_t nr = 0, nleft = 0;
    if (removed == NULL || left == NULL || why == NULL) {
        free(removed);
        free(left);
        free(why);
        free(l.w);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < l.n; i++) {
        struct ws *w = &l.w[i];
        if (!stale(d, w))
            continue;
        if (!in->dry_run) {
            char err[1024];
            int rc = -2;
            if (busy[0])
                snprintf(err, sizeof err, "%s", busy);
            else if ((rc = oj_worktree_remove(d->paths.root, d->paths.worktree_lock, w->path,
                                              w->branch, err, sizeof err)) == -2)
                snprintf(busy, sizeof busy, "%s", err);
            if (rc != 0) {
                LOG_WARN("workspaces: cannot remove %s: %s", w->path, err);
                left[nleft] = *w;
                snprintf(why[nleft++], sizeof *why, "%s", err);
                continue;
            }
            if (w->known && oj_store_commit(d->store, oj_op_del("workspace", w->name), err,
                                            sizeof err) == 0) {
                LOG_ERROR("workspaces: removed %s but cannot record it: %s", w->path, err);
                continue;
            }
            LOG_INFO("workspaces: removed %s (%s, pipeline %s)", w->path, w->state,
                     w->pipeline[0] ? w->pipeline : "none");
        }
        removed[nr++] = *w;
    }
    struct cleanup_call c = {done, call, left, why, nleft};
    reply(removed, nr, send_cleanup, &c);
    free(removed);
    free(left);
    free(why);
    free(l.w);
}

void oj_rpc_register_workspace(Oj__Control_Service *svc)
{
    svc->workspace_list = rpc_list;
    svc->workspace_cleanup = rpc_cleanup;
}
