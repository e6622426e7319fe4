/* daemon_main.h — the daemon's one entry for the rest of the oj binary.
 *
 * `oj` is one binary with two halves: the CLI (cli/) is a client of the
 * daemon's socket and never touches daemon state. What it needs of the
 * daemon's own code is here and nowhere else: run the daemon (`oj daemon
 * start`), check its settings before forking, list or restore snapshots when
 * no daemon runs (the daemon's code does it, not the CLI), and load runbooks
 * as the daemon would. `make check-layers`
 * lets cli/ include this header, and call what it declares, and nothing else
 * of daemon/. */
#ifndef OJ_DAEMON_MAIN_H
#define OJ_DAEMON_MAIN_H
#include <stdbool.h>
#include <cjson/cJSON.h>
#include <stddef.h>

#include "oj.pb-c.h"

struct oj_daemon_opts {
    const char *root;  /* absolute project root (holds .oj/) */
    bool foreground;   /* copy log entries to stderr */
    bool recover;      /* --recover: truncate a corrupt WAL to its last good record */
    bool rebuild;      /* --rebuild-state: ignore snapshots, replay the whole WAL */
    /* -1, or a pipe for the starting CLI: any number of "NOTE <text>\n", then
     * "READY <pid>\n", "ALREADY <pid>\n" or "ERROR <why>\n". */
    int ready_fd;
    const char *const *set; /* n_set "key=value" settings from `--set` (settings.h) */
    int n_set;
};

/* Runs the daemon until it is stopped. Returns the process exit status. Must
 * be called before anything in the process has used nng. */
int oj_daemon_run(const struct oj_daemon_opts *o);

/* Reads the settings as a starting daemon of the project whose state lives
 * in state_dir will (the environment, .oj/config.json, the user's
 * config.json: settings.h): 0, or -1 with a one-line reason naming the
 * variable or the file and key in err. */
int oj_daemon_check_settings(const char *state_dir, const char *const *set, int n_set, char *err,
                             size_t errlen);

/* Restores a snapshot of the project whose state lives in state_dir with no
 * daemon running; the caller holds the daemon's single-instance lock
 * (.oj/daemon.pid). Works even when the WAL is damaged. id NULL = the newest
 * snapshot, else its id, seq or a unique id prefix; with dry_run, only says
 * what would be dropped. Returns 0 with *out, what the RestoreSnapshot rpc
 * would answer (free it with oj_daemon_restore_free), -1 with err (nothing
 * changed), -2 when no such snapshot exists, or -3 when id is a prefix of
 * more than one (err names them). */
int oj_daemon_restore_offline(const char *state_dir, const char *id, bool dry_run,
                              Oj__RestoreSnapshotResponse **out, char *err, size_t errlen);
void oj_daemon_restore_free(Oj__RestoreSnapshotResponse *out);

/* Loads runbooks with the daemon's own loader (rules/runbook.c), no daemon
 * needed (`oj runbook list|check`, `oj init`): every *.json of dir as the
 * daemon does (dir NULL: none), then `file` (NULL: none), read from disk, or
 * when `text` is given, that text under the file's name. Returns 0 with *out
 * (cJSON_Delete it): {"pipelines": [{"name", "file", "inputs": [...],
 * "phases": [{"name", "kind": "run"|"agent", "lock"}], "notify"}], "jobs":
 * [{"name", "file", "every_ms", "run" or "pipeline", "enabled"}]}; or -1
 * with the loader's one-line error (file, place, problem) in err. */
int oj_daemon_runbooks_offline(const char *dir, const char *file, const char *text, cJSON **out,
                               char *err, size_t errlen);

/* The snapshots of the project whose state lives in state_dir, as the
 * MaintenanceSnapshots rpc answers: 0 with *out (free it with
 * oj_daemon_snapshots_free), or -1 with err. Reads only: no lock needed. */
int oj_daemon_snapshots_offline(const char *state_dir, Oj__SnapshotListResponse **out, char *err,
                                size_t errlen);
void oj_daemon_snapshots_free(Oj__SnapshotListResponse *out);
#endif
