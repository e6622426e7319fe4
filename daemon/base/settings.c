/* settings.c — see settings.h. */
#include "settings.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include "duration.h"

/* Each setting: its key, its variable, where config.h's parse reads it. */
static const struct {
    const char *key, *env;
    size_t at; /* offset of its pointer in struct oj_config_env */
} table[OJ_SETTINGS_N] = {
    {"log_level", "OJ_LOG_LEVEL", offsetof(struct oj_config_env, log_level)},
    {"max_sessions", "OJ_MAX_SESSIONS", offsetof(struct oj_config_env, max_sessions)},
    {"watchdog_interval", "OJ_WATCHDOG_INTERVAL", offsetof(struct oj_config_env, watchdog)},
    {"snapshot_every", "OJ_SNAPSHOT_EVERY", offsetof(struct oj_config_env, snapshot_every)},
    {"snapshot_keep", "OJ_SNAPSHOT_KEEP", offsetof(struct oj_config_env, snapshot_keep)},
    {"compact_size", "OJ_COMPACT_SIZE", offsetof(struct oj_config_env, compact_size)},
    {"nudge_pause", "OJ_NUDGE_PAUSE", offsetof(struct oj_config_env, nudge_pause)},
    {"log_max_size", "OJ_LOG_MAX_SIZE", offsetof(struct oj_config_env, log_max_size)},
    {"log_keep", "OJ_LOG_KEEP", offsetof(struct oj_config_env, log_keep)},
    {"retain_history", "OJ_RETAIN_HISTORY", offsetof(struct oj_config_env, retain_history)},
    {"history_max_size", "OJ_HISTORY_MAX_SIZE", offsetof(struct oj_config_env, history_max_size)},
    {"retain_finished", "OJ_RETAIN_FINISHED", offsetof(struct oj_config_env, retain_finished)},
    {"port_base", "OJ_PORT_BASE", offsetof(struct oj_config_env, port_base)},
    {"port_step", "OJ_PORT_STEP", offsetof(struct oj_config_env, port_step)},
    {"agent_idle_timeout", "OJ_AGENT_IDLE_TIMEOUT",
     offsetof(struct oj_config_env, agent_idle_timeout)},
    {"phase_timeout", "OJ_PHASE_TIMEOUT", offsetof(struct oj_config_env, phase_timeout)},
    {"lock_held_long", "OJ_LOCK_HELD_LONG", offsetof(struct oj_config_env, lock_held_long)},
    {"remote_listen", "OJ_REMOTE_LISTEN", offsetof(struct oj_config_env, remote_listen)},
    {"tls_cert", "OJ_TLS_CERT", offsetof(struct oj_config_env, tls_cert)},
    {"tls_key", "OJ_TLS_KEY", offsetof(struct oj_config_env, tls_key)},
    {"tls_ca", "OJ_TLS_CA", offsetof(struct oj_config_env, tls_ca)},
};

static int find_key(const char *key)
{
    for (int i = 0; i < OJ_SETTINGS_N; i++)
        if (strcmp(table[i].key, key) == 0)
            return i;
    return -1;
}

bool oj_settings_is_key(const char *key) { return find_key(key) >= 0; }

/* Takes the file's values for the settings not given by a higher layer. */
static int layer(struct oj_settings *st, const char *path, const char *text,
                 enum oj_setting_from from, char *err, size_t errlen)
{
    if (text == NULL)
        return 0;
    cJSON *root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s: not a JSON object (%s); fix or remove it", path,
                 root ? "another JSON value" : "malformed JSON");
        cJSON_Delete(root);
        return -1;
    }
    int rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        if (strncmp(it->string, "//", 2) == 0)
            continue; /* a comment */
        if (strcmp(it->string, "notifier") == 0) {
            if (from == OJ_FROM_PROJECT)
                continue; /* the notifier's own loader reads it (project_config.h) */
            snprintf(err, errlen, "%s: \"notifier\" is a project's own: put it in the "
                     "project's .oj/config.json", path);
            rc = -1;
            break;
        }
        int i = find_key(it->string);
        if (i < 0) {
            char known[600] = "";
            for (int k = 0; k < OJ_SETTINGS_N; k++) {
                strncat(known, k ? ", " : "", sizeof known - strlen(known) - 1);
                strncat(known, table[k].key, sizeof known - strlen(known) - 1);
            }
            snprintf(err, errlen, "%s: unknown setting \"%.64s\"; the settings are %s, notifier",
                     path, it->string, known);
            rc = -1;
            break;
        }
        char value[sizeof st->s[0].given];
        if (cJSON_IsString(it))
            snprintf(value, sizeof value, "%s", it->valuestring);
        else if (cJSON_IsNumber(it) && it->valuedouble >= 0 &&
                 it->valuedouble == (double)(long long)it->valuedouble)
            snprintf(value, sizeof value, "%lld", (long long)it->valuedouble);
        else {
            snprintf(err, errlen, "%s: \"%s\" must be a string or a whole number", path,
                     it->string);
            rc = -1;
            break;
        }
        if (st->s[i].from < from) {
            st->s[i].from = from;
            snprintf(st->s[i].given, sizeof st->s[i].given, "%s", value);
        }
    }
    cJSON_Delete(root);
    return rc;
}

int oj_settings_resolve(struct oj_settings *st, const char *const *flags, int n_flags,
                        const char *(*getenv_fn)(const char *),
                        const char *project_path, const char *project_text,
                        const char *user_path, const char *user_text, struct oj_config *cfg,
                        char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    snprintf(st->project_path, sizeof st->project_path, "%s", project_path ? project_path : "");
    snprintf(st->user_path, sizeof st->user_path, "%s", user_path ? user_path : "");
    for (int i = 0; i < OJ_SETTINGS_N; i++) {
        st->s[i].key = table[i].key;
        st->s[i].env = table[i].env;
        const char *v = getenv_fn ? getenv_fn(table[i].env) : NULL;
        if (v && v[0] && st->s[i].from < OJ_FROM_ENV) {
            st->s[i].from = OJ_FROM_ENV;
            snprintf(st->s[i].given, sizeof st->s[i].given, "%s", v);
        }
    }
    for (int f = 0; f < n_flags; f++) {
        const char *eq = strchr(flags[f], '=');
        char key[64];
        snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - flags[f]) : 63, flags[f]);
        int i = eq ? find_key(key) : -1;
        if (i < 0) {
            snprintf(err, errlen, "--set %.100s: %s; e.g. --set max_sessions=4 (the keys of "
                     ".oj/config.json)", flags[f], eq ? "no such setting" : "give key=value");
            return -1;
        }
        st->s[i].from = OJ_FROM_FLAG;
        snprintf(st->s[i].given, sizeof st->s[i].given, "%s", eq + 1);
    }
    if (layer(st, project_path, project_text, OJ_FROM_PROJECT, err, errlen) != 0 ||
        layer(st, user_path, user_text, OJ_FROM_USER, err, errlen) != 0)
        return -1;
    struct oj_config_env env = {0};
    for (int i = 0; i < OJ_SETTINGS_N; i++)
        if (st->s[i].from != OJ_FROM_DEFAULT)
            *(const char **)((char *)&env + table[i].at) = st->s[i].given;
    char why[512];
    if (oj_config_parse(cfg, &env, why, sizeof why) == 0)
        return 0;
    /* config.h names the variable; a value from a file is named by file and key */
    for (int i = 0; i < OJ_SETTINGS_N; i++) {
        size_t n = strlen(table[i].env);
        if (strncmp(why, table[i].env, n) != 0 || (why[n] != ' ' && why[n] != '\0'))
            continue;
        if (st->s[i].from == OJ_FROM_FLAG) {
            snprintf(err, errlen, "--set %s=%s:%s", table[i].key, st->s[i].given, why + n);
            return -1;
        }
        if (st->s[i].from == OJ_FROM_PROJECT || st->s[i].from == OJ_FROM_USER) {
            snprintf(err, errlen, "%s: \"%s\"%s", st->s[i].from == OJ_FROM_PROJECT
                                                      ? st->project_path
                                                      : st->user_path,
                     table[i].key, why + n);
            return -1;
        }
    }
    snprintf(err, errlen, "%s", why);
    return -1;
}

static const char *env_lookup(const char *name) { return getenv(name); }

/* A config file's text: 0 with *text (NULL when there is no file), or -1
 * with why in err (unreadable, over 1 MiB). */
static int read_config(const char *path, char **text, char *err, size_t errlen)
{
    *text = NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    if (buf)
        n = fread(buf, 1, cap + 1, f);
    fclose(f);
    if (buf == NULL || n > cap) {
        free(buf);
        snprintf(err, errlen, "%s: larger than 1 MiB; a config file is a few settings", path);
        return -1;
    }
    buf[n] = '\0';
    *text = buf;
    return 0;
}

int oj_settings_load(struct oj_settings *st, const char *state_dir, const char *const *flags,
                     int n_flags, struct oj_config *cfg, char *err, size_t errlen)
{
    char project[PATH_MAX], user[PATH_MAX];
    snprintf(project, sizeof project, "%s/config.json", state_dir);
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(user, sizeof user, "%s/oj/config.json", xdg);
    else if (home && home[0])
        snprintf(user, sizeof user, "%s/.config/oj/config.json", home);
    else
        user[0] = '\0';
    char *ptext = NULL, *utext = NULL;
    int rc = read_config(project, &ptext, err, errlen);
    if (rc == 0 && user[0])
        rc = read_config(user, &utext, err, errlen);
    if (rc == 0)
        rc = oj_settings_resolve(st, flags, n_flags, env_lookup, project, ptext, user, utext, cfg,
                                 err, errlen);
    free(ptext);
    free(utext);
    return rc;
}

void oj_setting_source(const struct oj_settings *st, int i, char *buf, size_t len)
{
    switch (st->s[i].from) {
    case OJ_FROM_FLAG:
        snprintf(buf, len, "flag --set");
        break;
    case OJ_FROM_ENV:
        snprintf(buf, len, "environment %s", st->s[i].env);
        break;
    case OJ_FROM_PROJECT:
        snprintf(buf, len, "project %s", st->project_path);
        break;
    case OJ_FROM_USER:
        snprintf(buf, len, "user %s", st->user_path);
        break;
    default:
        snprintf(buf, len, "default");
    }
}

static void size_text(uint64_t b, char *buf, size_t len)
{
    if (b == 0)
        snprintf(buf, len, "0");
    else if (b % (1ULL << 30) == 0)
        snprintf(buf, len, "%lluGiB", (unsigned long long)(b >> 30));
    else if (b % (1000ULL * 1000) == 0)
        snprintf(buf, len, "%lluMB", (unsigned long long)(b / 1000000));
    else
        snprintf(buf, len, "%llu", (unsigned long long)b);
}

static void ms_text(int64_t ms, char *buf, size_t len)
{
    if (ms == 0)
        snprintf(buf, len, "0");
    else
        oj_duration_format(ms, buf, len);
}

void oj_setting_value(const struct oj_config *c, int i, char *buf, size_t len)
{
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    switch (i) {
    case 0: snprintf(buf, len, "%s", levels[c->log_level]); break;
    case 1: snprintf(buf, len, "%u", c->max_sessions); break;
    case 2: ms_text(c->watchdog_ms, buf, len); break;
    case 3: snprintf(buf, len, "%llu", (unsigned long long)c->snapshot_every); break;
    case 4: snprintf(buf, len, "%u", c->snapshot_keep); break;
    case 5: size_text(c->compact_bytes, buf, len); break;
    case 6: ms_text(c->nudge_pause_ms, buf, len); break;
    case 7: size_text(c->log_max_bytes, buf, len); break;
    case 8: snprintf(buf, len, "%u", c->log_keep); break;
    case 9: ms_text(c->retain_history_ms, buf, len); break;
    case 10: size_text(c->history_max_bytes, buf, len); break;
    case 11: ms_text(c->retain_finished_ms, buf, len); break;
    case 12: snprintf(buf, len, "%d", c->port_base); break;
    case 13: snprintf(buf, len, "%d", c->port_step); break;
    case 14: ms_text(c->agent_idle_timeout_ms > 0 ? c->agent_idle_timeout_ms : 300000, buf, len);
        break;
    case 15: ms_text(c->phase_timeout_ms, buf, len); break;
    case 16: ms_text(c->lock_held_long_ms, buf, len); break;
    case 17: snprintf(buf, len, "%s", c->remote_listen[0] ? c->remote_listen : "none"); break;
    case 18: snprintf(buf, len, "%s", c->tls_cert[0] ? c->tls_cert : "none"); break;
    case 19: snprintf(buf, len, "%s", c->tls_key[0] ? c->tls_key : "none"); break;
    case 20: snprintf(buf, len, "%s", c->tls_ca[0] ? c->tls_ca : "none"); break;
    default: snprintf(buf, len, "?");
    }
}
