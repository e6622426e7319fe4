/* rpc_checks.c — every rpc of oj.Control once: whether it is read-only and
 * its stateless checks (rpc_checks.h). The server runs them before a call
 * reaches the engine, so a handler never sees a request that fails one and
 * checks only what needs the daemon's state. */
#include "rpc_checks.h"

#include <stdio.h>
#include <string.h>

#include "locks.h"
#include "sessions.h"
#include "oj.pb-c.h"

static const char *check_daemon_stop(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    const Oj__DaemonStopRequest *in = (const Oj__DaemonStopRequest *)m;
    if (in->timeout_ms >= 0)
        return NULL;
    snprintf(msg, msglen, "timeout_ms must be 0 (default) or positive, got %lld",
             (long long)in->timeout_ms);
    return msg;
}

static const char *check_dashboard(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    const Oj__DashboardRequest *in = (const Oj__DashboardRequest *)m;
    if (in->port < 0 || in->port > 65535) {
        snprintf(msg, msglen, "the dashboard's port must be 0 (a free one) to 65535, got %d",
                 (int)in->port);
        return msg;
    }
    if (strlen(in->listen) > 200 || strpbrk(in->listen, "/@ \t?#") != NULL) {
        snprintf(msg, msglen, "--listen takes a host or an address (like 127.0.0.1 or ::1), got "
                              "'%.200s'", in->listen);
        return msg;
    }
    return NULL;
}

static const char *check_run(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    const Oj__RunRequest *in = (const Oj__RunRequest *)m;
    return in->pipeline[0] ? NULL : "which pipeline? oj run <pipeline> [inputs...]";
}

static const char *check_checkpoint(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    const Oj__CheckpointRequest *in = (const Oj__CheckpointRequest *)m;
    return in->message[0] ? NULL : "say what progress to record: oj checkpoint \"<message>\"";
}

static const char *check_session_start(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    const Oj__SessionStartRequest *in = (const Oj__SessionStartRequest *)m;
    if (in->n_argv == 0 || in->argv[0][0] == '\0')
        return "give the command to run, after --: oj session start -- <command...>";
    if (in->idle_timeout_ms < 0)
        return "the idle timeout cannot be negative";
    return NULL;
}

static const char *check_workspace_cleanup(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    const Oj__WorkspaceCleanupRequest *in = (const Oj__WorkspaceCleanupRequest *)m;
    return in->stale ? NULL
                     : "cleanup removes only stale workspaces: set stale (oj workspace cleanup "
                       "--stale)";
}

static const char *check_workspace_diff(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    const Oj__WorkspaceDiffRequest *in = (const Oj__WorkspaceDiffRequest *)m;
    if (in->workspace[0] == '\0')
        return "which workspace? oj workspace diff <workspace name or pipeline id>";
    return NULL;
}

static const char *check_lock_ref(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    return oj_lock_ref_problem(((const Oj__LockRef *)m)->name);
}

static const char *check_lock_acquire(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    const Oj__LockAcquireRequest *in = (const Oj__LockAcquireRequest *)m;
    const char *bad = oj_lock_name_problem(in->name);
    if (bad == NULL && (in->holder[0] == '\0' || strlen(in->holder) > OJ_LOCK_HOLDER_MAX))
        bad = "a lock holder is a name of 1 to 200 characters";
    if (bad == NULL && in->timeout_ms < 0)
        bad = "the heartbeat timeout cannot be negative";
    return bad;
}

static const char *check_lock_release(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    const Oj__LockReleaseRequest *in = (const Oj__LockReleaseRequest *)m;
    const char *bad = oj_lock_ref_problem(in->name);
    if (bad == NULL && !in->force && in->holder[0] == '\0')
        bad = "say who releases the lock (holder), or force it";
    return bad;
}

static const char *check_restore(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    const Oj__RestoreSnapshotRequest *in = (const Oj__RestoreSnapshotRequest *)m;
    return in->latest == (in->id[0] != '\0') ? "give exactly one of latest or a snapshot id" : NULL;
}

static const char *check_ask(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    const Oj__AskRequest *in = (const Oj__AskRequest *)m;
    if (in->session_id[0] == '\0')
        return "OJ_SESSION_ID is not set: `oj ask` is for agents inside an oj session";
    if (in->question[0] == '\0')
        return "say what to ask: oj ask \"<question>\"";
    if (strlen(in->question) > 500)
        return "the question is longer than 500 bytes; ask it in one short line";
    long at = oj_text_control_at(in->question);
    if (at >= 0) {
        snprintf(msg, msglen, "the question holds a control character (byte %ld); ask it in one "
                              "line of text", at + 1);
        return msg;
    }
    return NULL;
}

static const char *check_archive(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    const Oj__ArchiveRequest *in = (const Oj__ArchiveRequest *)m;
    return in->older_than_ms < 0 ? "older_than_ms cannot be negative" : NULL;
}

/* Every rpc of oj.Control, once. AT_ONCE marks the changes that only touch
 * the state and the WAL (no subprocess, no other file, no wait): they skip
 * the engine's queue when it is idle (request.h), as read-only ones do. */
enum { MUTATES = OJ_RPC_MUTATES, READ_ONLY = OJ_RPC_READ_ONLY, AT_ONCE = OJ_RPC_AT_ONCE };
const struct oj_rpc_entry oj_rpc_checks[] = {
    {"Ping", READ_ONLY, NULL},
    {"Status", READ_ONLY, NULL},
    {"DaemonStop", MUTATES, check_daemon_stop},
    {"DaemonLogs", READ_ONLY, NULL},
    {"DashboardStart", READ_ONLY, check_dashboard},
    {"Run", MUTATES, check_run},
    {"PipelineList", READ_ONLY, NULL},
    {"PipelineStatus", READ_ONLY, NULL},
    {"PipelineShow", READ_ONLY, NULL},
    {"PipelineNudge", MUTATES, NULL},
    {"PipelineRestart", MUTATES, NULL},
    {"PipelineResume", MUTATES, NULL},
    {"PipelineCancel", MUTATES, NULL},
    {"PipelineLogs", READ_ONLY, NULL},
    {"Done", MUTATES, NULL},
    {"Checkpoint", MUTATES | AT_ONCE, check_checkpoint},
    {"Ask", MUTATES, check_ask},
    {"SessionList", READ_ONLY, NULL},
    {"SessionShow", READ_ONLY, NULL},
    {"SessionCapture", READ_ONLY, NULL},
    {"SessionSend", MUTATES, NULL},
    {"SessionNudge", MUTATES, NULL},
    {"SessionKill", MUTATES, NULL},
    {"SessionStart", MUTATES, check_session_start},
    {"SessionAttach", READ_ONLY, NULL},
    {"WorkspaceList", READ_ONLY, NULL},
    {"WorkspaceCleanup", MUTATES, check_workspace_cleanup},
    {"WorkspaceDiff", READ_ONLY, check_workspace_diff},
    {"LockList", READ_ONLY, NULL},
    {"LockStatus", READ_ONLY, check_lock_ref},
    {"LockAcquire", MUTATES | AT_ONCE, check_lock_acquire},
    {"LockRelease", MUTATES | AT_ONCE, check_lock_release},
    {"MaintenanceCompact", MUTATES, NULL},
    {"MaintenanceSnapshot", MUTATES, NULL},
    {"MaintenanceRestoreSnapshot", MUTATES, check_restore},
    {"MaintenanceArchive", MUTATES, check_archive},
    {"MaintenanceSnapshots", READ_ONLY, NULL},
    {"CronList", READ_ONLY, NULL},
    {"CronRun", MUTATES, NULL},
    {"CronSetEnabled", MUTATES, NULL},
    {NULL, MUTATES, NULL},
};
