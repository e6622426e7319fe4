/* pipeline_runbooks.c — the runbooks the engine uses: reloaded when a file in
 * .oj/runbooks changes (checked at a tick or a request, never in the middle
 * of one), the last good set kept while a new one does not load. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "pipeline_engine.h"

/* ---- runbooks ------------------------------------------------------------------ */

/* A cheap fingerprint of .oj/runbooks: the newest mtime among the directory
 * and its files, plus their count (a deleted file changes it). */
static int64_t runbooks_stamp(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return 0;
    int64_t newest = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec, count = 0;
    DIR *dh = opendir(dir);
    if (dh == NULL)
        return newest;
    struct dirent *e;
    char path[PATH_MAX + 300];
    while ((e = readdir(dh)) != NULL) {
        snprintf(path, sizeof path, "%s/%.255s", dir, e->d_name);
        if (e->d_name[0] != '.' && stat(path, &st) == 0) {
            int64_t t = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
            if (t > newest)
                newest = t;
            count++;
        }
    }
    closedir(dh);
    return newest + count;
}

/* Reloads only here, at the start of a tick or a request: definitions
 * handed out by oj_runbooks_current stay valid until the next refresh. */
void oj_runbooks_refresh(struct oj_daemon *d)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/runbooks", d->paths.state_dir);
    int64_t stamp = runbooks_stamp(dir);
    if (stamp == d->runbooks_mtime_ns && (d->runbooks || d->runbooks_error[0]))
        return;
    struct oj_runbooks *rb = calloc(1, sizeof *rb);
    char err[1024];
    d->runbooks_mtime_ns = stamp;
    if (rb == NULL)
        snprintf(err, sizeof err, "out of memory");
    if (rb) {
        rb->default_idle_timeout_ms = d->cfg.agent_idle_timeout_ms;
        rb->default_timeout_ms = d->cfg.phase_timeout_ms;
    }
    if (rb == NULL || oj_runbooks_load(dir, rb, err, sizeof err) != 0) {
        if (rb)
            oj_runbooks_free(rb);
        free(rb);
        snprintf(d->runbooks_error, sizeof d->runbooks_error, "%s", err);
        LOG_WARN("runbooks: %s", d->runbooks_error);
        /* Keep running pipelines on the definitions they started with. */
        return;
    }
    if (d->runbooks) {
        oj_runbooks_free(d->runbooks);
        free(d->runbooks);
    }
    d->runbooks = rb;
    d->runbooks_error[0] = '\0';
    LOG_INFO("runbooks: loaded %d pipeline(s), %d job(s) from %s", rb->n_pipelines, rb->n_jobs,
             dir);
}

const struct oj_runbooks *oj_runbooks_current(struct oj_daemon *d)
{
    if (d->runbooks == NULL && d->runbooks_error[0] == '\0')
        oj_runbooks_refresh(d); /* the first use */
    return d->runbooks;
}

const struct oj_pipeline_def *oj_pl_def_of(struct oj_daemon *d, const struct oj_pipeline *p)
{
    const struct oj_runbooks *rb = oj_runbooks_current(d);
    return rb ? oj_runbooks_pipeline(rb, p->name) : NULL;
}
