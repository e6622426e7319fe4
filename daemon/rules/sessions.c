/* sessions.c — see sessions.h. */
#include "sessions.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolve.h"

/* ---- the codec ---------------------------------------------------------------- */

static const char *const STATE_NAMES[] = {
    [OJ_SESSION_STARTING] = "starting",
    [OJ_SESSION_RUNNING] = "running",
    [OJ_SESSION_DEAD] = "dead",
};

const char *oj_session_state_name(enum oj_session_state state)
{
    return (unsigned)state <= OJ_SESSION_DEAD ? STATE_NAMES[state] : "starting";
}

static enum oj_session_state state_from(const cJSON *v)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, "state");
    if (cJSON_IsString(s) && strcmp(s->valuestring, "running") == 0)
        return OJ_SESSION_RUNNING;
    if (cJSON_IsString(s) && strcmp(s->valuestring, "dead") == 0)
        return OJ_SESSION_DEAD;
    return OJ_SESSION_STARTING; /* "starting", or anything else: not dead */
}

bool oj_session_active(const cJSON *v) { return state_from(v) != OJ_SESSION_DEAD; }

/* The empty string every absent member reads as; never freed. */
static char EMPTY[1];

static void set(char **field, const char *value, bool *oom)
{
    if (*field && *field != EMPTY)
        free(*field);
    *field = EMPTY;
    if (value && value[0]) {
        char *copy = strdup(value);
        if (copy)
            *field = copy;
        else
            *oom = true;
    }
}

static const char *str(const cJSON *v, const char *k)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, k);
    return cJSON_IsString(s) ? s->valuestring : "";
}

/* The integer member k, 0 when absent or not a number, clamped to +-2^53 (a
 * double outside int64_t is undefined behaviour to convert). The rules call
 * nothing outside rules/, so this is json.h's oj_json_int, not a call to it. */
static int64_t num(const cJSON *v, const char *k)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, k);
    if (!cJSON_IsNumber(n) || n->valuedouble != n->valuedouble)
        return 0;
    const double lim = 9007199254740992.0;
    return n->valuedouble >= lim ? (int64_t)lim
           : n->valuedouble <= -lim ? -(int64_t)lim
                                    : (int64_t)n->valuedouble;
}

void oj_session_clear(struct oj_session *s)
{
    bool oom = false;
    char **fields[] = {&s->name, &s->cwd, &s->command, &s->pipeline_id, &s->phase, &s->reason,
                       &s->log, &s->needs_input};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        set(fields[i], NULL, &oom);
    s->state = OJ_SESSION_STARTING;
    s->started_at_ms = s->ended_at_ms = s->idle_timeout_ms = 0;
    s->log_offset = s->checkpoint_ms = 0;
    s->exit_status = 0;
}

int oj_session_from_json(const cJSON *v, struct oj_session *s)
{
    memset(s, 0, sizeof *s);
    oj_session_clear(s);
    if (!cJSON_IsObject(v))
        return -1;
    bool oom = false;
    set(&s->name, str(v, "name"), &oom);
    set(&s->cwd, str(v, "cwd"), &oom);
    set(&s->command, str(v, "command"), &oom);
    set(&s->pipeline_id, str(v, "pipeline_id"), &oom);
    set(&s->phase, str(v, "phase"), &oom);
    set(&s->reason, str(v, "reason"), &oom);
    set(&s->log, str(v, "log"), &oom);
    set(&s->needs_input, str(v, "needs_input"), &oom);
    s->state = state_from(v);
    s->started_at_ms = num(v, "started_at_ms");
    s->ended_at_ms = num(v, "ended_at_ms");
    int64_t status = num(v, "exit_status");
    s->exit_status = status >= INT32_MIN && status <= INT32_MAX ? (int)status : -1;
    s->idle_timeout_ms = num(v, "idle_timeout_ms");
    s->log_offset = num(v, "log_offset");
    s->checkpoint_ms = num(v, "checkpoint_ms");
    if (oom) {
        oj_session_clear(s);
        return -1;
    }
    return 0;
}

cJSON *oj_session_to_json(const struct oj_session *s)
{
    cJSON *v = cJSON_CreateObject();
    if (v == NULL)
        return NULL;
    /* The order of the members as a new session has always been written. */
    bool ok = cJSON_AddStringToObject(v, "name", s->name) &&
              cJSON_AddStringToObject(v, "cwd", s->cwd) &&
              cJSON_AddStringToObject(v, "command", s->command) &&
              cJSON_AddStringToObject(v, "pipeline_id", s->pipeline_id) &&
              cJSON_AddStringToObject(v, "phase", s->phase) &&
              cJSON_AddStringToObject(v, "state", oj_session_state_name(s->state)) &&
              cJSON_AddNumberToObject(v, "started_at_ms", (double)s->started_at_ms) &&
              cJSON_AddNumberToObject(v, "ended_at_ms", (double)s->ended_at_ms) &&
              cJSON_AddNumberToObject(v, "exit_status", s->exit_status) &&
              cJSON_AddStringToObject(v, "reason", s->reason) &&
              cJSON_AddStringToObject(v, "log", s->log) &&
              cJSON_AddNumberToObject(v, "idle_timeout_ms", (double)s->idle_timeout_ms);
    if (ok && s->needs_input[0]) /* records without patterns stay as they always were */
        ok = cJSON_AddStringToObject(v, "needs_input", s->needs_input);
    if (ok && s->checkpoint_ms != 0)
        ok = cJSON_AddNumberToObject(v, "log_offset", (double)s->log_offset) &&
             cJSON_AddNumberToObject(v, "checkpoint_ms", (double)s->checkpoint_ms);
    if (!ok) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

int oj_session_init(struct oj_session *s, const char *name, const char *cwd, const char *command,
                    const char *log, const char *pipeline_id, const char *phase,
                    int64_t idle_timeout_ms, int64_t now_ms)
{
    memset(s, 0, sizeof *s);
    oj_session_clear(s);
    bool oom = false;
    set(&s->name, name, &oom);
    set(&s->cwd, cwd, &oom);
    set(&s->command, command, &oom);
    set(&s->log, log, &oom);
    set(&s->pipeline_id, pipeline_id, &oom);
    set(&s->phase, phase, &oom);
    s->started_at_ms = now_ms;
    s->idle_timeout_ms = idle_timeout_ms;
    if (oom) {
        oj_session_clear(s);
        return -1;
    }
    return 0;
}

int oj_session_copy(struct oj_session *dst, const struct oj_session *src)
{
    if (oj_session_init(dst, src->name, src->cwd, src->command, src->log, src->pipeline_id,
                        src->phase, src->idle_timeout_ms, src->started_at_ms) != 0)
        return -1;
    bool oom = false;
    set(&dst->reason, src->reason, &oom);
    set(&dst->needs_input, src->needs_input, &oom);
    if (oom) {
        oj_session_clear(dst);
        return -1;
    }
    dst->state = src->state;
    dst->ended_at_ms = src->ended_at_ms;
    dst->exit_status = src->exit_status;
    dst->log_offset = src->log_offset;
    dst->checkpoint_ms = src->checkpoint_ms;
    return 0;
}

/* ---- the rules ---------------------------------------------------------------- */

void oj_session_mark_dead(struct oj_session *s, int exit_status, const char *reason,
                          int64_t now_ms)
{
    bool oom = false;
    s->state = OJ_SESSION_DEAD;
    s->ended_at_ms = now_ms;
    s->exit_status = exit_status;
    set(&s->reason, reason, &oom); /* out of memory: dead all the same, without the why */
}

/* "exited with status N" or "killed by signal N" (a status of 128+N). */
static void ended(struct oj_session *s, int status, int64_t now_ms)
{
    char why[64];
    if (status > 128)
        snprintf(why, sizeof why, "killed by signal %d", status - 128);
    else
        snprintf(why, sizeof why, "exited with status %d", status);
    oj_session_mark_dead(s, status, why, now_ms);
}

bool oj_session_observe(struct oj_session *s, const struct oj_session_seen *seen, int64_t now_ms)
{
    if (s->state == OJ_SESSION_DEAD)
        return false; /* dead is final: no observation changes it again */
    const struct oj_tmux_pane *pane = seen->server_gone ? NULL : seen->pane;
    if (pane && !pane->dead) {
        if (s->state == OJ_SESSION_RUNNING)
            return false;
        s->state = OJ_SESSION_RUNNING;
        return true;
    }
    /* Its pane is dead or gone. */
    if (seen->status_file >= 0)
        ended(s, seen->status_file, now_ms);
    else if (pane && pane->status_known)
        ended(s, pane->exit_status, now_ms);
    else if (seen->server_gone)
        oj_session_mark_dead(s, -1, "the tmux server is gone", now_ms);
    else if (pane == NULL)
        oj_session_mark_dead(s, -1, "vanished from tmux", now_ms);
    else if (seen->dead_unknown_ticks >= OJ_SESSION_DEAD_UNKNOWN_TICKS)
        oj_session_mark_dead(s, -1, "exited (tmux recorded no status)", now_ms);
    else
        return false; /* tmux may record the status a moment later */
    return true;
}

bool oj_session_reap_now(const struct oj_session *s, const struct oj_tmux_pane *pane,
                         bool log_drained)
{
    if (pane == NULL || (s && s->state != OJ_SESSION_DEAD) || (s == NULL && !pane->dead))
        return false; /* nothing there, or it lives */
    if (s && !pane->dead)
        return true; /* recorded dead but running: a kill that failed, finished now */
    return log_drained;
}

bool oj_session_log_drained(uint64_t size, int64_t published, int stable_ticks)
{
    if (stable_ticks >= OJ_SESSION_DRAIN_GIVE_UP_TICKS)
        return true;
    return stable_ticks >= 1 && (size == 0 || (published >= 0 && (uint64_t)published >= size));
}

bool oj_session_archivable(const struct oj_session *s, int64_t cutoff_ms, bool referenced)
{
    if (s->state != OJ_SESSION_DEAD || referenced)
        return false;
    /* A record from before ended_at_ms: its start is the best bound. */
    int64_t t = s->ended_at_ms > 0 ? s->ended_at_ms : s->started_at_ms;
    return t < cutoff_ms;
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

int64_t oj_session_last_output(const struct oj_session *s, int64_t log_mtime_ms)
{
    return log_mtime_ms > s->started_at_ms ? log_mtime_ms : s->started_at_ms;
}

int64_t oj_session_idle_ms(const struct oj_session *s, int64_t last_output_ms, int64_t now_ms)
{
    if (s->state == OJ_SESSION_DEAD && s->ended_at_ms > last_output_ms)
        now_ms = s->ended_at_ms;
    return now_ms > last_output_ms ? now_ms - last_output_ms : 0;
}

const char *oj_session_shown_state(const struct oj_session *s, int64_t idle_ms, bool needs_input)
{
    if (s->state == OJ_SESSION_RUNNING && needs_input)
        return "needs_input";
    if (s->state == OJ_SESSION_RUNNING && s->idle_timeout_ms > 0 && idle_ms > s->idle_timeout_ms)
        return "idle";
    return oj_session_state_name(s->state);
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

void oj_session_default_name(const char *argv0, char *name, size_t len)
{
    const char *base = strrchr(argv0, '/');
    snprintf(name, len, "%.64s", base ? base + 1 : argv0);
    for (char *p = name; *p; p++)
        if (!name_char(*p))
            *p = '-';
    if (oj_name_looks_like_id(name)) {
        char stem[80];
        snprintf(stem, sizeof stem, "%s", name);
        snprintf(name, len, "%.60s-cmd", stem);
    }
}

bool oj_session_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char(name[i]))
            return false;
    return true;
}

long oj_text_control_at(const char *text)
{
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return p - text;
    return -1;
}
