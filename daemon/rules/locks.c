/* locks.c — see locks.h. */
#include "locks.h"

#include "json.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *oj_lock_name_problem(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0)
        return "a lock needs a name";
    if (n > OJ_LOCK_NAME_MAX)
        return "lock names are at most 64 characters";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.')
            return "lock names use only letters, digits, '.', '_' and '-'";
    }
    return NULL;
}

const char *oj_lock_ref_problem(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0)
        return "a lock needs a name";
    if (n > 4096)
        return "no lock has a name that long";
    return NULL;
}

/* snprintf(dst, cap, "%s", src) without printf: oj status decodes every lock. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int oj_lock_from_json(const cJSON *v, struct oj_lock *l)
{
    memset(l, 0, sizeof *l); /* whole, padding too: records compare as bytes */
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(v, "holder");
    if (!cJSON_IsString(h))
        return -1;
    copy_str(l->holder, sizeof l->holder, h->valuestring);
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(v, "host");
    if (cJSON_IsString(host))
        copy_str(l->host, sizeof l->host, host->valuestring);
    int64_t pid = oj_json_int(v, "holder_pid");
    l->holder_pid = pid > 0 && pid <= INT32_MAX ? (int32_t)pid : 0;
    l->since_ms = oj_json_int(v, "since_ms");
    l->timeout_ms = oj_json_int(v, "timeout_ms");
    return 0;
}

cJSON *oj_lock_to_json(const struct oj_lock *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "holder", l->holder);
    cJSON_AddStringToObject(o, "host", l->host);
    cJSON_AddNumberToObject(o, "holder_pid", l->holder_pid);
    cJSON_AddNumberToObject(o, "since_ms", (double)l->since_ms);
    cJSON_AddNumberToObject(o, "timeout_ms", (double)l->timeout_ms);
    return o;
}

bool oj_lock_is_stale(const struct oj_lock *l, int64_t heartbeat_ms, int64_t now_ms,
                      bool holder_alive)
{
    if (!holder_alive)
        return true;
    return l->timeout_ms > 0 && now_ms - heartbeat_ms > l->timeout_ms;
}

int64_t oj_lock_last_heartbeat(const struct oj_lock *l, const int64_t *heartbeat,
                               int64_t daemon_started_ms)
{
    if (heartbeat)
        return *heartbeat;
    return daemon_started_ms > l->since_ms ? daemon_started_ms : l->since_ms;
}

int32_t oj_lock_pid_to_check(const struct oj_lock *l, const char *this_host)
{
    if (l->holder_pid <= 0)
        return 0;
    if (l->host[0] && strcmp(l->host, this_host) != 0)
        return 0; /* another machine's process: we cannot tell */
    return l->holder_pid;
}

struct oj_lock oj_lock_pipeline_terms(const char *pipeline_id, const char *host)
{
    struct oj_lock l = {.timeout_ms = OJ_LOCK_PIPELINE_TIMEOUT_MS};
    snprintf(l.holder, sizeof l.holder, "%s", pipeline_id);
    snprintf(l.host, sizeof l.host, "%s", host);
    return l;
}

enum oj_acquire_verdict oj_lock_acquire_verdict(const struct oj_lock *current, bool stale,
                                                const char *holder)
{
    if (current == NULL)
        return OJ_ACQUIRE_GRANTED;
    if (strcmp(current->holder, holder) == 0)
        return OJ_ACQUIRE_RENEWED;
    return stale ? OJ_ACQUIRE_TAKE_OVER : OJ_ACQUIRE_BUSY;
}

bool oj_lock_acquired(const struct oj_lock *current, enum oj_acquire_verdict v,
                      const struct oj_lock *want, int64_t now_ms, struct oj_lock *next)
{
    *next = *want;
    bool renewed = v == OJ_ACQUIRE_RENEWED && current != NULL;
    next->since_ms = renewed ? current->since_ms : now_ms;
    return !renewed || current->timeout_ms != next->timeout_ms ||
           current->holder_pid != next->holder_pid || strcmp(current->host, next->host) != 0;
}

enum oj_release_verdict oj_lock_release_verdict(const struct oj_lock *current, const char *holder,
                                                bool force)
{
    if (current == NULL)
        return OJ_RELEASE_NOT_HELD;
    if (!force && strcmp(current->holder, holder) != 0)
        return OJ_RELEASE_NOT_HOLDER;
    return OJ_RELEASE_OK;
}
