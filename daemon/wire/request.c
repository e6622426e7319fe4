/* request.c — see request.h. */
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "locks.h"
#include "oj.pb-c.h"
#include "pb_utf8.h"
#include "utf8.h"
#include "wire.pb-c.h"

/* A stateless check: NULL when the request is fine, else why not (a static
 * string or `msg`). Only what is wrong whatever the daemon's state belongs
 * here; the handlers check the rest (and some of this again). */
typedef const char *(*check_fn)(const ProtobufCMessage *in, char *msg, size_t msglen);

static const char *check_daemon_stop(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    const Oj__DaemonStopRequest *in = (const Oj__DaemonStopRequest *)m;
    if (in->timeout_ms >= 0)
        return NULL;
    snprintf(msg, msglen, "timeout_ms must be 0 (default) or positive, got %lld",
             (long long)in->timeout_ms);
    return msg;
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

static const char *check_archive(const ProtobufCMessage *m, char *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    const Oj__ArchiveRequest *in = (const Oj__ArchiveRequest *)m;
    return in->older_than_ms < 0 ? "older_than_ms cannot be negative" : NULL;
}

/* Every rpc of oj.Control, once. Read-only: it changes nothing, so running
 * it twice is harmless and the daemon does not remember its id or reply. */
enum { MUTATES = 0, READ_ONLY = 1 };
static const struct rpc_rule {
    const char *name;
    bool read_only;
    check_fn check;
} rules[] = {
    {"Ping", READ_ONLY, NULL},
    {"Status", READ_ONLY, NULL},
    {"DaemonStop", MUTATES, check_daemon_stop},
    {"Run", MUTATES, check_run},
    {"PipelineList", READ_ONLY, NULL},
    {"PipelineStatus", READ_ONLY, NULL},
    {"PipelineShow", READ_ONLY, NULL},
    {"PipelineNudge", MUTATES, NULL},
    {"PipelineRestart", MUTATES, NULL},
    {"PipelineResume", MUTATES, NULL},
    {"PipelineCancel", MUTATES, NULL},
    {"Done", MUTATES, NULL},
    {"Checkpoint", MUTATES, check_checkpoint},
    {"SessionList", READ_ONLY, NULL},
    {"SessionShow", READ_ONLY, NULL},
    {"SessionCapture", READ_ONLY, NULL},
    {"SessionSend", MUTATES, NULL},
    {"SessionNudge", MUTATES, NULL},
    {"SessionKill", MUTATES, NULL},
    {"SessionStart", MUTATES, check_session_start},
    {"WorkspaceList", READ_ONLY, NULL},
    {"WorkspaceCleanup", MUTATES, check_workspace_cleanup},
    {"LockList", READ_ONLY, NULL},
    {"LockStatus", READ_ONLY, check_lock_ref},
    {"LockAcquire", MUTATES, check_lock_acquire},
    {"LockRelease", MUTATES, check_lock_release},
    {"MaintenanceCompact", MUTATES, NULL},
    {"MaintenanceSnapshot", MUTATES, NULL},
    {"MaintenanceRestoreSnapshot", MUTATES, check_restore},
    {"MaintenanceArchive", MUTATES, check_archive},
    {"CronList", READ_ONLY, NULL},
    {"CronRun", MUTATES, NULL},
    {"CronSetEnabled", MUTATES, NULL},
};
#define N_RULES (sizeof rules / sizeof rules[0])

const char *oj_rpc_table_name(size_t i) { return i < N_RULES ? rules[i].name : NULL; }

static const struct rpc_rule *rule_of(const char *method)
{
    for (size_t i = 0; i < N_RULES; i++)
        if (strcmp(rules[i].name, method) == 0)
            return &rules[i];
    return NULL;
}

bool oj_rpc_read_only(const char *method)
{
    const struct rpc_rule *r = rule_of(method);
    return r && r->read_only; /* an rpc missing from the table counts as changing things */
}

int oj_request_read(const ProtobufCServiceDescriptor *svc, const void *buf, size_t len,
                    struct oj_request *rq, char *msg, size_t msglen)
{
    memset(rq, 0, sizeof *rq);
    msg[0] = '\0';
    Oj__RequestFrame *f = oj__request_frame__unpack(NULL, len, buf);
    if (f == NULL) {
        snprintf(msg, msglen, "request is not an oj.RequestFrame; see proto/wire.proto");
        return OJ__STATUS_CODE__BAD_FRAME;
    }
    rq->id = f->request_id;
    const ProtobufCMethodDescriptor *m =
        protobuf_c_service_descriptor_get_method_by_name(svc, f->method);
    if (m == NULL) {
        char shown[81];
        snprintf(msg, msglen, "unknown method '%s'; see service oj.Control in proto/oj.proto",
                 oj_utf8_show(shown, sizeof shown, f->method));
        oj__request_frame__free_unpacked(f, NULL);
        return OJ__STATUS_CODE__UNKNOWN_METHOD;
    }
    rq->method = m;
    rq->method_index = (unsigned)(m - svc->methods);
    uint64_t h = oj_fnv1a64(m->name, strlen(m->name) + 1); /* the NUL ends the name */
    rq->digest = oj_fnv1a64_add(h, f->payload.data, f->payload.len);
    rq->dedup = rq->id != 0 && !oj_rpc_read_only(m->name);
    rq->input = protobuf_c_message_unpack(m->input, NULL, f->payload.len, f->payload.data);
    oj__request_frame__free_unpacked(f, NULL);
    if (rq->input == NULL) {
        snprintf(msg, msglen, "payload of %s is not a valid %s", m->name, m->input->name);
        return OJ__STATUS_CODE__BAD_FRAME;
    }
    const struct rpc_rule *r = rule_of(m->name);
    const char *bad = r && r->check ? r->check(rq->input, msg, msglen) : NULL;
    if (bad) {
        if (bad != msg)
            snprintf(msg, msglen, "%s", bad);
        return OJ__STATUS_CODE__INVALID_ARGUMENT;
    }
    return OJ__STATUS_CODE__OK;
}

void oj_request_clear(struct oj_request *rq)
{
    if (rq->input)
        protobuf_c_message_free_unpacked(rq->input, NULL);
    rq->input = NULL;
}

uint8_t *oj_reply_pack(uint64_t id, int status, const char *message, const ProtobufCMessage *out,
                       size_t *len)
{
    Oj__ReplyFrame rf = OJ__REPLY_FRAME__INIT;
    rf.status = (Oj__StatusCode)status;
    rf.request_id = id;
    /* The message, valid UTF-8: a character cut by a full buffer goes, and
     * bytes that are not UTF-8 (a user's name echoed) become U+FFFD. */
    char *text = NULL;
    if (message && message[0]) {
        size_t n = oj_utf8_uncut_len(message, strlen(message));
        size_t need = oj_utf8_fixed_len(message, n) + 1;
        text = malloc(need);
        if (text == NULL)
            return NULL;
        oj_utf8_copy(text, need, message, n);
        rf.message = text;
    }
    uint8_t *payload = NULL;
    if (out && status == OJ__STATUS_CODE__OK) {
        payload = oj_pb_pack_utf8(out, &rf.payload.len);
        if (payload == NULL) {
            free(text);
            return NULL;
        }
        rf.payload.data = payload;
    }
    *len = oj__reply_frame__get_packed_size(&rf);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        oj__reply_frame__pack(&rf, buf);
    free(payload);
    free(text);
    return buf;
}
