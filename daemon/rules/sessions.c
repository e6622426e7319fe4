/* sessions.c — see sessions.h. */
#include "sessions.h"

#include <stdio.h>
#include <string.h>

static const char *str(const cJSON *v, const char *k)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, k);
    return cJSON_IsString(s) ? s->valuestring : "";
}

bool oj_session_active(const cJSON *v) { return strcmp(str(v, "state"), "dead") != 0; }

static void set_str(cJSON *o, const char *k, const char *val)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddStringToObject(o, k, val);
}

static void set_num(cJSON *o, const char *k, double val)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddNumberToObject(o, k, val);
}

cJSON *oj_session_dead(const cJSON *v, int exit_status, const char *reason, int64_t now_ms)
{
    cJSON *n = cJSON_Duplicate(v, 1);
    set_str(n, "state", "dead");
    set_num(n, "ended_at_ms", (double)now_ms);
    set_num(n, "exit_status", exit_status);
    set_str(n, "reason", reason);
    return n;
}

/* "exited with status N" or "killed by signal N" (a status of 128+N). */
static cJSON *ended(const cJSON *v, int status, int64_t now_ms)
{
    char why[64];
    if (status > 128)
        snprintf(why, sizeof why, "killed by signal %d", status - 128);
    else
        snprintf(why, sizeof why, "exited with status %d", status);
    return oj_session_dead(v, status, why, now_ms);
}

cJSON *oj_session_observe(const cJSON *v, const struct oj_session_seen *seen, int64_t now_ms)
{
    if (!oj_session_active(v))
        return NULL; /* dead is final: no observation changes it again */
    const struct oj_tmux_pane *pane = seen->server_gone ? NULL : seen->pane;
    if (pane && !pane->dead) {
        if (strcmp(str(v, "state"), "running") == 0)
            return NULL;
        cJSON *n = cJSON_Duplicate(v, 1);
        set_str(n, "state", "running");
        return n;
    }
    /* Its pane is dead or gone. */
    if (seen->status_file >= 0)
        return ended(v, seen->status_file, now_ms);
    if (pane && pane->status_known)
        return ended(v, pane->exit_status, now_ms);
    if (seen->server_gone)
        return oj_session_dead(v, -1, "the tmux server is gone", now_ms);
    if (pane == NULL)
        return oj_session_dead(v, -1, "vanished from tmux", now_ms);
    if (seen->dead_unknown_ticks >= OJ_SESSION_DEAD_UNKNOWN_TICKS)
        return oj_session_dead(v, -1, "exited (tmux recorded no status)", now_ms);
    return NULL; /* tmux may record the status a moment later */
}

bool oj_session_reap_now(const cJSON *v, const struct oj_tmux_pane *pane, bool log_drained)
{
    if (pane == NULL || (v && oj_session_active(v)) || (v == NULL && !pane->dead))
        return false; /* nothing there, or it lives */
    if (v && !pane->dead)
        return true; /* recorded dead but running: a kill that failed, finished now */
    return log_drained;
}

bool oj_session_log_drained(uint64_t size, int64_t published, int stable_ticks)
{
    if (stable_ticks >= OJ_SESSION_DRAIN_GIVE_UP_TICKS)
        return true;
    return stable_ticks >= 1 && (size == 0 || (published >= 0 && (uint64_t)published >= size));
}

bool oj_session_archivable(const cJSON *v, int64_t cutoff_ms, bool referenced)
{
    if (oj_session_active(v) || referenced)
        return false;
    const cJSON *end = cJSON_GetObjectItemCaseSensitive(v, "ended_at_ms");
    double t = cJSON_IsNumber(end) ? end->valuedouble : 0;
    if (t <= 0) { /* a record from before ended_at_ms: its start is the best bound */
        const cJSON *start = cJSON_GetObjectItemCaseSensitive(v, "started_at_ms");
        t = cJSON_IsNumber(start) ? start->valuedouble : 0;
    }
    return (int64_t)t < cutoff_ms;
}

cJSON *oj_session_new(const char *name, const char *cwd, const char *command, const char *log,
                      int64_t now_ms)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", name);
    cJSON_AddStringToObject(v, "cwd", cwd);
    cJSON_AddStringToObject(v, "command", command);
    cJSON_AddStringToObject(v, "pipeline_id", "");
    cJSON_AddStringToObject(v, "phase", "");
    cJSON_AddStringToObject(v, "state", "starting");
    cJSON_AddNumberToObject(v, "started_at_ms", (double)now_ms);
    cJSON_AddNumberToObject(v, "ended_at_ms", 0);
    cJSON_AddNumberToObject(v, "exit_status", 0);
    cJSON_AddStringToObject(v, "reason", "");
    cJSON_AddStringToObject(v, "log", log);
    return v;
}

bool oj_session_stuck_now(int64_t now, int64_t last_output, int64_t idle_timeout,
                          int64_t last_nudge, int64_t pause, int64_t last_raised)
{
    if (idle_timeout <= 0 || now - last_output < idle_timeout)
        return false; /* not idle */
    if (last_nudge > 0 && now - last_nudge < pause)
        return false; /* give the nudge time to work */
    if (last_raised > 0 && last_raised >= last_output && last_raised >= last_nudge)
        return false; /* already raised for this spell */
    return true;
}

long oj_text_control_at(const char *text)
{
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return p - text;
    return -1;
}
