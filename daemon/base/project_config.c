/* project_config.c — see project_config.h. */
#include "project_config.h"
#include "settings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "duration.h"
#include "event_kind.h"

const char *const oj_notifier_default_kinds[] = {
    "pipeline.escalated", "pipeline.failed", "session.needs_input", "pipeline.done", NULL,
};

static int fail(char *err, size_t errlen, const char *file, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t errlen, const char *file, const char *key, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s: %s", file, key, what);
    return -1;
}

static bool comment(const char *name) { return strncmp(name, "//", 2) == 0; }

/* Whether every member of o (but comments) is one of allowed; else err names it. */
static int only(const cJSON *o, const char *const *allowed, const char *file, const char *place,
                char *err, size_t errlen)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, o)
    {
        /* at the top level, the daemon's settings (settings.h) are keys too */
        bool ok = comment(m->string) || (place[0] == '\0' && oj_settings_is_key(m->string));
        for (size_t i = 0; !ok && allowed[i]; i++)
            ok = strcmp(m->string, allowed[i]) == 0;
        if (!ok) {
            char key[200];
            snprintf(key, sizeof key, "%s%s%.100s", place, place[0] ? "." : "", m->string);
            char known[200] = "";
            for (size_t i = 0; allowed[i]; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s\"%s\"",
                         i ? ", " : "", allowed[i]);
            return fail(err, errlen, file, key, "unknown key (known: %s)", known);
        }
    }
    return 0;
}

static int parse_notifier(const char *file, const cJSON *n, struct oj_notifier_config *c,
                          char *err, size_t errlen)
{
    static const char *const allowed[] = {"command", "kinds", "timeout", NULL};
    if (!cJSON_IsObject(n))
        return fail(err, errlen, file, "notifier",
                    "an object: {\"command\": \"...\", \"kinds\": [...], \"timeout\": \"10s\"}");
    if (only(n, allowed, file, "notifier", err, errlen) != 0)
        return -1;
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(n, "command");
    if (!cJSON_IsString(cmd) || cmd->valuestring[strspn(cmd->valuestring, " \t\n")] == '\0')
        return fail(err, errlen, file, "notifier.command",
                    "required: the shell command to run for each event (it gets the event as "
                    "JSON on stdin and in OJ_EVENT_* variables)");
    if ((c->command = strdup(cmd->valuestring)) == NULL)
        return fail(err, errlen, file, "notifier", "out of memory");
    const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(n, "kinds");
    if (kinds == NULL) {
        for (size_t i = 0; oj_notifier_default_kinds[i]; i++)
            if ((c->kinds[c->n_kinds++] = strdup(oj_notifier_default_kinds[i])) == NULL)
                return fail(err, errlen, file, "notifier", "out of memory");
    } else {
        if (!cJSON_IsArray(kinds) || cJSON_GetArraySize(kinds) == 0 ||
            cJSON_GetArraySize(kinds) > OJ_NOTIFIER_MAX_KINDS)
            return fail(err, errlen, file, "notifier.kinds",
                        "a list of 1 to %d event kinds, e.g. [\"pipeline.escalated\", "
                        "\"session.needs_input\"] (a prefix ending in '.' picks every kind "
                        "it starts)", OJ_NOTIFIER_MAX_KINDS);
        const cJSON *k;
        size_t i = 0;
        cJSON_ArrayForEach(k, kinds)
        {
            char key[64];
            snprintf(key, sizeof key, "notifier.kinds[%zu]", i++);
            if (!cJSON_IsString(k))
                return fail(err, errlen, file, key, "an event kind is a string");
            const char *bad = oj_event_kind_problem(k->valuestring);
            if (bad)
                return fail(err, errlen, file, key, "\"%.60s\": %s", k->valuestring, bad);
            if ((c->kinds[c->n_kinds++] = strdup(k->valuestring)) == NULL)
                return fail(err, errlen, file, "notifier", "out of memory");
        }
    }
    c->timeout_ms = OJ_NOTIFIER_DEFAULT_TIMEOUT_MS;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(n, "timeout");
    if (t) {
        int64_t ms = 0;
        if (!cJSON_IsString(t) || oj_duration_parse(t->valuestring, &ms) != 0 || ms <= 0 ||
            ms > OJ_NOTIFIER_MAX_TIMEOUT_MS)
            return fail(err, errlen, file, "notifier.timeout",
                        "a duration from \"1s\" to \"5m\" with its unit, like \"10s\" "
                        "(default 10s)");
        c->timeout_ms = ms;
    }
    return 0;
}

int oj_project_config_parse(const char *file, const char *text, struct oj_project_config *cfg,
                            char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cJSON *root = cJSON_Parse(text);
    int rc = 0;
    if (root == NULL || !cJSON_IsObject(root)) {
        rc = fail(err, errlen, file, "top level",
                  root ? "must be a JSON object, like {\"notifier\": {...}}" : "not valid JSON");
    } else {
        static const char *const allowed[] = {"notifier", NULL};
        rc = only(root, allowed, file, "", err, errlen);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "notifier");
        if (rc == 0 && n && !cJSON_IsNull(n))
            rc = parse_notifier(file, n, &cfg->notifier, err, errlen);
    }
    cJSON_Delete(root);
    if (rc != 0)
        oj_project_config_free(cfg);
    return rc;
}

int oj_project_config_load(const char *path, struct oj_project_config *cfg, char *err,
                           size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0; /* no file: nothing configured */
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > OJ_PROJECT_CONFIG_MAX_BYTES) {
        fclose(f);
        snprintf(err, errlen, "%s: not a regular file of at most %d KiB", path,
                 OJ_PROJECT_CONFIG_MAX_BYTES / 1024);
        return -1;
    }
    char *text = malloc((size_t)st.st_size + 1);
    size_t n = text ? fread(text, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (text == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    text[n] = '\0';
    int rc = oj_project_config_parse(path, text, cfg, err, errlen);
    free(text);
    return rc;
}

void oj_project_config_free(struct oj_project_config *cfg)
{
    free(cfg->notifier.command);
    for (size_t i = 0; i < cfg->notifier.n_kinds; i++)
        free(cfg->notifier.kinds[i]);
    memset(cfg, 0, sizeof *cfg);
}
