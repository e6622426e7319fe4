/* settings.h — where each daemon setting comes from: a flag (`oj daemon
 * start --set key=value`), else the environment (OJ_MAX_SESSIONS, ...), else the project's .oj/config.json, else the
 * user's $XDG_CONFIG_HOME/oj/config.json (~/.config/oj/config.json), else the
 * default. The layering is pure (texts and a getenv in, config.h's parse on
 * the result) and unit-tested; oj_settings_load reads the files. The file
 * keys are the variables' names without OJ_ in lower case ("max_sessions",
 * "log_level", "nudge_pause", ...); values are strings or whole numbers. A
 * key the daemon does not know is an error naming it (typos never silently
 * do nothing); "notifier" belongs to notifier.h and members named "//..." are
 * comments, as in runbooks. */
#ifndef OJ_SETTINGS_H
#define OJ_SETTINGS_H
#include <limits.h>
#include <stddef.h>

#include "config.h"

enum oj_setting_from { OJ_FROM_DEFAULT, OJ_FROM_USER, OJ_FROM_PROJECT, OJ_FROM_ENV, OJ_FROM_FLAG };

#define OJ_SETTINGS_N 21

struct oj_setting {
    const char *key; /* in config.json */
    const char *env; /* the variable */
    enum oj_setting_from from;
    char given[1024]; /* the value as written (empty: the default) */
};

struct oj_settings {
    struct oj_setting s[OJ_SETTINGS_N];
    char project_path[PATH_MAX];
    char user_path[PATH_MAX];
};

/* Resolves every setting into cfg. flags: n_flags "key=value" (--set);
 * getenv_fn looks a variable up (NULL: unset); a file's text may be NULL (no
 * file). -1 with one line in err naming the flag, the variable, or the file
 * and key, and what is wrong. */
int oj_settings_resolve(struct oj_settings *st, const char *const *flags, int n_flags,
                        const char *(*getenv_fn)(const char *),
                        const char *project_path, const char *project_text,
                        const char *user_path, const char *user_text, struct oj_config *cfg,
                        char *err, size_t errlen);

/* The same with the process environment and the two files (the project's
 * in state_dir). */
int oj_settings_load(struct oj_settings *st, const char *state_dir, const char *const *flags,
                     int n_flags, struct oj_config *cfg, char *err, size_t errlen);

/* Whether key is one of the settings' keys in config.json. */
bool oj_settings_is_key(const char *key);

/* Where setting i came from, in words: "default", "flag --set", "environment OJ_X",
 * "project <path>", "user <path>". */
void oj_setting_source(const struct oj_settings *st, int i, char *buf, size_t len);
/* Setting i's value in effect, as text (from cfg). */
void oj_setting_value(const struct oj_config *cfg, int i, char *buf, size_t len);
#endif
