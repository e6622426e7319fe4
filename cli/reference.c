/* reference.c — see reference.h. docs/cli.md holds the same tables in words
 * (tests/unit/test_docs.c checks every code and variable is in both). */
#include "reference.h"

#include <stddef.h>

const struct oj_exit_doc oj_exit_docs[] = {
    {0, "ok", "success (also: daemon start when it already runs, daemon stop when it is not "
              "running)"},
    {1, "failed", "the operation failed (daemon error, I/O error, daemon running but not "
                  "accepting connections)"},
    {2, "usage error", "usage error: unknown command or option, missing or malformed argument, "
                       "bad environment setting"},
    {3, "daemon not running", "no daemon is running for this project, or there is no project"},
    {4, "not found", "the named pipeline, session, lock, snapshot or runbook file does not "
                     "exist"},
    {5, "conflict", "refused because of the current state (e.g. a lock held by someone else)"},
    {6, "not implemented yet", "the daemon does not implement this operation yet, or is older "
                               "than this oj and does not know it (restart it)"},
    {7, "timed out", "timed out: the daemon did not answer in time, or did not stop within the "
                     "bound"},
    {8, "daemon stopping", "the daemon is stopping and accepts no new work"},
    {9, "permission denied", "permission denied: the project's .oj/ or its daemon belongs to "
                             "another user; run oj as that user; or with --remote, the TLS "
                             "handshake failed: a certificate was refused"},
    {10, "pipeline failed", "a pipeline waited for (oj pipeline wait, oj run --wait or "
                            "--follow) failed"},
    {11, "pipeline cancelled", "a pipeline waited for was cancelled"},
    {12, "pipeline escalated", "a pipeline waited for escalated: a human is needed"},
    {0, NULL, NULL},
};

const struct oj_env_doc oj_env_docs[] = {
    {"OJ_LOG_LEVEL", "daemon", "error, warn, info or debug", "info"},
    {"OJ_MAX_SESSIONS", "daemon", "most sessions active at once (1-1000)", "10"},
    {"OJ_WATCHDOG_INTERVAL", "daemon", "how often the listener self-check runs (duration)",
     "500ms"},
    {"OJ_NUDGE_PAUSE", "daemon", "after a nudge, no stuck event for this long (duration)", "30s"},
    {"OJ_SNAPSHOT_EVERY", "daemon", "automatic snapshot after this many changes (0 = never)",
     "10000"},
    {"OJ_SNAPSHOT_KEEP", "daemon", "snapshots kept (1-1000)", "5"},
    {"OJ_COMPACT_SIZE", "daemon",
     "automatic compaction when the WAL passes this size (0 = never)", "100MB"},
    {"OJ_LOG_MAX_SIZE", "daemon", "daemon.log is rotated before it passes this size (0 = never)",
     "10MB"},
    {"OJ_LOG_KEEP", "daemon", "rotated daemon logs kept (0-100)", "5"},
    {"OJ_RETAIN_FINISHED", "daemon",
     "done and cancelled pipelines and ended sessions are archived this long after they "
     "finished (duration; 0 = only by oj maintenance archive)",
     "1h"},
    {"OJ_RETAIN_HISTORY", "daemon",
     "logs, status files, prompts and archives of records no longer live are removed this "
     "long after they were last written (duration; 0 = never)",
     "7d"},
    {"OJ_HISTORY_MAX_SIZE", "daemon",
     "all of that history together; past it the oldest goes first (size; 0 = no cap)", "1GiB"},
    {"OJ_PORT_BASE", "daemon",
     "each new workspace gets the first port base + k * step (k = 0-999) no other workspace "
     "holds, as its OJ_PORT (1024-65535)",
     "20000"},
    {"OJ_PORT_STEP", "daemon", "the step between workspace ports (1-1000)", "1"},
    {"OJ_AGENT_IDLE_TIMEOUT", "daemon",
     "an agent phase that names no idle_timeout gets this (duration; 0 = 5m)", "5m"},
    {"OJ_PHASE_TIMEOUT", "daemon",
     "a phase that names no timeout gets this overall limit (duration; 0 = none)", "0"},
    {"OJ_LOCK_HELD_LONG", "daemon",
     "oj status lists a lock held this long, with who waits for it (duration; 0 = only stale "
     "ones)",
     "30m"},
    {"OJ_REMOTE_LISTEN", "daemon",
     "also serve requests on this tls+tcp://ADDR:PORT and events on PORT + 1, mutual TLS; needs "
     "OJ_TLS_CERT, OJ_TLS_KEY and OJ_TLS_CA",
     "none"},
    {"OJ_TLS_CERT", "daemon", "the daemon's certificate for remote access (absolute path, PEM)",
     "none"},
    {"OJ_TLS_KEY", "daemon", "its private key (absolute path, PEM, unencrypted)", "none"},
    {"OJ_TLS_CA", "daemon",
     "the CA whose certificates remote clients must present (absolute path, PEM)", "none"},
    {"OJ_DASHBOARD_DIR", "daemon",
     "where oj dashboard's page files are (a dir holding index.html)",
     "<dir of oj>/../share/oj/dashboard, else <dir of oj>/../daemon/dashboard"},
    {"OJ_TIMEOUT", "CLI", "bound on one request (duration)", "30s"},
    {"OJ_REMOTE", "CLI", "as --remote: run commands against the daemon at this tls+tcp:// URL",
     "unset"},
    {"OJ_CERT", "CLI", "as --cert: this client's certificate for --remote", "unset"},
    {"OJ_KEY", "CLI", "as --key: its private key", "unset"},
    {"OJ_CA", "CLI", "as --ca: the CA that signed the remote daemon's certificate", "unset"},
    {"OJ_AGENT_WAIT", "CLI (oj done, oj checkpoint)",
     "how long to keep trying while the daemon is stopping or down (duration)", "60s"},
    {"NO_COLOR", "CLI",
     "set and not empty: no colour in tables (--color=always still colours)", "unset"},
    {"COLUMNS", "CLI", "on a terminal, the width tables fit instead of the window's", "the terminal's"},
    {"XDG_RUNTIME_DIR", "both",
     "where sockets go when .oj/ is too deep for a Unix socket path", "/tmp/oj-<uid>"},
    {"OJ_PROJECT", "CLI, agents, shell steps",
     "the project root; set by the daemon inside sessions and steps, used when there is no -C",
     "unset"},
    {"OTTER_TASK", "oj done, oj checkpoint",
     "set by the daemon inside a session: the pipeline id (a standalone session's name)", "-"},
    {"OTTER_PHASE", "oj done, oj checkpoint", "set by the daemon inside a session: the phase",
     "-"},
    {"OJ_SESSION_ID", "oj done, oj checkpoint",
     "set by the daemon inside a session: the session id", "-"},
    {"OTTER_WORKSPACE", "agents, shell steps", "set by the daemon: the pipeline's workspace", "-"},
    {"OTTER_PROMPT_FILE", "agents", "set by the daemon: the phase's prompt file", "-"},
    {"OJ_PORT", "setup, shell steps, agents",
     "set by the daemon: the workspace's own port, different from every other workspace's", "-"},
    {NULL, NULL, NULL, NULL},
};

const struct oj_file_doc oj_file_docs[] = {
    {".oj/", "the project's state, found by walking up from the current directory (or -C DIR)"},
    {".oj/runbooks/*.json", "pipeline and job definitions, see oj-runbook(5)"},
    {".oj/config.json", "the project's settings: each OJ_ variable's name without OJ_ in lower "
                        "case (max_sessions, nudge_pause, ...); the environment beats it"},
    {"~/.config/oj/config.json", "the user's settings ($XDG_CONFIG_HOME/oj/config.json), under "
                                 "the project's"},
    {".oj/wal.jsonl", "the write-ahead log: every acknowledged change"},
    {".oj/snapshots/", "point-in-time copies of the whole state"},
    {".oj/archive/", "finished pipelines and sessions moved out of the live state"},
    {".oj/workspaces/", "each pipeline's git worktree"},
    {".oj/logs/daemon.log", "the daemon's log (oj daemon logs)"},
    {".oj/logs/sessions/", "each session's raw output"},
    {".oj/logs/pipelines/", "each pipeline's worktree, shell-step and notify output"},
    {".oj/daemon.sock", "the request socket (see the protocol in share/oj/proto/)"},
    {".oj/tmux.sock", "the daemon's private tmux server"},
    {NULL, NULL},
};
