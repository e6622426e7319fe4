/* daemon_offline.c — what the daemon's code does for the CLI while no daemon
 * runs (daemon_main.h): check the settings, list snapshots and restore one
 * on disk, load the runbooks. */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "settings.h"
#include "daemon_main.h"
#include "rpc_maintenance.h"
#include "runbook.h"
#include "snapshot_pick.h"
#include "store.h"

int oj_daemon_check_settings(const char *state_dir, const char *const *set, int n_set, char *err,
                             size_t errlen)
{
    struct oj_config cfg;
    struct oj_settings st;
    return oj_settings_load(&st, state_dir, set, n_set, &cfg, err, errlen);
}

/* The reply and the result its strings point into, freed together. */
struct offline_restore {
    Oj__RestoreSnapshotResponse reply; /* first: the pointer handed out */
    struct oj_restore_result r;
};

int oj_daemon_restore_offline(const char *state_dir, const char *id, bool dry_run,
                              Oj__RestoreSnapshotResponse **out, char *err, size_t errlen)
{
    *out = NULL;
    struct offline_restore *o = calloc(1, sizeof *o);
    if (o == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char whole[OJ_SNAPSHOT_ID_MAX];
    if (id != NULL) { /* the seq or a prefix, as the rpc takes it */
        int found = oj_snapshot_find(state_dir, id, whole, sizeof whole, err, errlen);
        if (found != 0) {
            free(o);
            return found == OJ_SNAPSHOT_PICK_NONE        ? -2
                   : found == OJ_SNAPSHOT_PICK_AMBIGUOUS ? -3
                                                         : -1;
        }
        id = whole;
    }
    int rc = oj_store_restore_offline(state_dir, id, dry_run, &o->r, err, errlen);
    if (rc != 0) {
        free(o);
        return rc;
    }
    oj_restore_reply(&o->r, dry_run, &o->reply);
    *out = &o->reply;
    return 0;
}

void oj_daemon_restore_free(Oj__RestoreSnapshotResponse *out)
{
    free((struct offline_restore *)(void *)out);
}

static cJSON *describe(const struct oj_runbooks *rb)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *ps = cJSON_AddArrayToObject(root, "pipelines");
    for (int i = 0; i < rb->n_pipelines; i++) {
        const struct oj_pipeline_def *p = &rb->pipelines[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", p->name);
        cJSON_AddStringToObject(o, "file", p->file);
        cJSON *in = cJSON_AddArrayToObject(o, "inputs");
        for (int k = 0; k < p->n_inputs; k++)
            cJSON_AddItemToArray(in, cJSON_CreateString(p->inputs[k]));
        cJSON *phases = cJSON_AddArrayToObject(o, "phases");
        for (int k = 0; k < p->n_phases; k++) {
            cJSON *ph = cJSON_CreateObject();
            cJSON_AddStringToObject(ph, "name", p->phases[k].name);
            cJSON_AddStringToObject(ph, "kind", p->phases[k].run ? "run" : "agent");
            if (p->phases[k].lock)
                cJSON_AddStringToObject(ph, "lock", p->phases[k].lock);
            cJSON_AddItemToArray(phases, ph);
        }
        if (p->notify)
            cJSON_AddStringToObject(o, "notify", p->notify);
        cJSON_AddItemToArray(ps, o);
    }
    cJSON *js = cJSON_AddArrayToObject(root, "jobs");
    for (int i = 0; i < rb->n_jobs; i++) {
        const struct oj_job_def *j = &rb->jobs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", j->name);
        cJSON_AddStringToObject(o, "file", j->file);
        cJSON_AddNumberToObject(o, "every_ms", (double)j->every_ms);
        if (j->run)
            cJSON_AddStringToObject(o, "run", j->run);
        else
            cJSON_AddStringToObject(o, "pipeline", j->pipeline);
        cJSON_AddBoolToObject(o, "enabled", j->enabled);
        cJSON_AddItemToArray(js, o);
    }
    return root;
}

int oj_daemon_runbooks_offline(const char *dir, const char *file, const char *text, cJSON **out,
                               char *err, size_t errlen)
{
    struct oj_runbooks rb = {0};
    *out = NULL;
    int rc = dir ? oj_runbooks_load(dir, &rb, err, errlen) : 0;
    if (rc == 0 && file)
        rc = text ? oj_runbook_parse(file, text, &rb, err, errlen)
                  : oj_runbook_load_file(file, &rb, err, errlen);
    if (rc == 0)
        *out = describe(&rb);
    oj_runbooks_free(&rb);
    if (rc == 0 && *out == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return rc;
}

int oj_daemon_snapshots_offline(const char *state_dir, Oj__SnapshotListResponse **out, char *err,
                                size_t errlen)
{
    return oj_snapshot_listing(state_dir, out, err, errlen);
}

void oj_daemon_snapshots_free(Oj__SnapshotListResponse *out) { oj_snapshot_listing_free(out); }
