/* project_config.h — the project's own settings, .oj/config.json, read when
 * the daemon starts (docs/config.md). Today one key, "notifier": a command the
 * daemon runs for chosen event kinds. Parsing is pure (text in, struct out) so
 * it is unit-tested; a bad file is refused with an error naming the key.
 *
 *   {"notifier": {"command": "notify-send \"oj: $OJ_EVENT_KIND\" \"$OJ_EVENT_MESSAGE\"",
 *                 "kinds": ["pipeline.escalated", "pipeline.failed",
 *                           "session.needs_input", "pipeline.done"],
 *                 "timeout": "10s"}}
 *
 * A member whose name starts with "//" is a comment, as in runbooks. */
#ifndef OJ_PROJECT_CONFIG_H
#define OJ_PROJECT_CONFIG_H
#include <stddef.h>
#include <stdint.h>

/* The file's path under the project root. */
#define OJ_PROJECT_CONFIG_FILE ".oj/config.json"
/* A config file larger than this is refused unread. */
#define OJ_PROJECT_CONFIG_MAX_BYTES (256 * 1024)

#define OJ_NOTIFIER_MAX_KINDS 32
#define OJ_NOTIFIER_DEFAULT_TIMEOUT_MS 10000
#define OJ_NOTIFIER_MAX_TIMEOUT_MS (5 * 60 * 1000)

struct oj_notifier_config {
    char *command;  /* a shell command line; NULL: no notifier */
    char *kinds[OJ_NOTIFIER_MAX_KINDS]; /* event kinds, or prefixes ending in '.' */
    size_t n_kinds;
    int64_t timeout_ms; /* each run is killed past this */
};

struct oj_project_config {
    struct oj_notifier_config notifier;
};

/* The kinds a notifier gets when its "kinds" is left out. */
extern const char *const oj_notifier_default_kinds[];

/* Parses the file's text into cfg (which it first empties). 0, or -1 with
 * "<file>: <key>: <what is wrong>" in err (cfg then empty). */
int oj_project_config_parse(const char *file, const char *text, struct oj_project_config *cfg,
                            char *err, size_t errlen);
/* Reads and parses the file at path; a missing file is an empty config. */
int oj_project_config_load(const char *path, struct oj_project_config *cfg, char *err,
                           size_t errlen);
void oj_project_config_free(struct oj_project_config *cfg);
#endif
