/* What the daemon does with a request's bytes before a handler runs, and how
 * it encodes replies (daemon/wire/request.c), with the UTF-8 rules under them
 * (common/utf8.c, common/pb_utf8.c): strict protobuf decoders (Python, Go,
 * Java) refuse a whole message whose `string` field is not UTF-8. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "oj.pb-c.h"
#include "pb_utf8.h"
#include "request.h"
#include "rpc_checks.h"
#include "utf8.h"
#include "wire.pb-c.h"

#define S(lit) lit, sizeof lit - 1

Test(utf8, tells_well_formed_from_ill_formed)
{
    cr_expect(oj_utf8_valid(S("plain ascii")));
    cr_expect(oj_utf8_valid(S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf")));
    cr_expect_not(oj_utf8_valid(S("\xff")));
    cr_expect_not(oj_utf8_valid(S("\x80")), "a lone continuation byte");
    cr_expect_not(oj_utf8_valid(S("\xc0\xaf")), "overlong '/'");
    cr_expect_not(oj_utf8_valid(S("\xe0\x80\xaf")), "overlong, 3 bytes");
    cr_expect_not(oj_utf8_valid(S("\xf0\x80\x80\xaf")), "overlong, 4 bytes");
    cr_expect_not(oj_utf8_valid(S("\xed\xa0\x80")), "a UTF-16 surrogate");
    cr_expect_not(oj_utf8_valid(S("\xf4\x90\x80\x80")), "past U+10FFFF");
    cr_expect_not(oj_utf8_valid(S("\xe2\x82")), "cut short");
    cr_expect_not(oj_utf8_valid(S("\xf5\x80\x80\x80")));
}

Test(utf8, copy_replaces_bad_bytes_and_cuts_at_character_boundaries)
{
    char out[64];
    cr_expect_eq(oj_utf8_copy(out, sizeof out, S("a\xff" "b")), 5);
    cr_expect_str_eq(out, "a\xef\xbf\xbd" "b");
    cr_expect_eq(oj_utf8_fixed_len(S("a\xff" "b")), 5);
    oj_utf8_copy(out, sizeof out, S("\xe2\x82x"));
    cr_expect_str_eq(out, "\xef\xbf\xbd\xef\xbf\xbdx", "each bad byte becomes one U+FFFD");

    /* "€€€" is 9 bytes: room for 7 (+ NUL) keeps two whole euros, never a piece. */
    char small[8];
    cr_expect_eq(oj_utf8_copy(small, sizeof small, S("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac")), 6);
    cr_expect_str_eq(small, "\xe2\x82\xac\xe2\x82\xac");
    cr_expect(oj_utf8_valid(small, strlen(small)));

    /* The helper for messages: what `%.80s` did, without cutting a character. */
    char name[400], shown[81];
    strcpy(name, "x");
    for (int i = 0; i < 100; i++)
        strcat(name, "\xc3\xa9"); /* 1 + 200 bytes: byte 80 is the middle of an é */
    oj_utf8_show(shown, sizeof shown, name);
    cr_expect_eq(strlen(shown), 79);
    cr_expect(oj_utf8_valid(shown, strlen(shown)));
    cr_expect_str_eq(oj_utf8_show(shown, sizeof shown, NULL), "");
}

Test(utf8, uncut_len_drops_only_a_character_cut_at_the_end)
{
    cr_expect_eq(oj_utf8_uncut_len(S("ab\xe2\x82")), 2, "a euro cut after 2 bytes");
    cr_expect_eq(oj_utf8_uncut_len(S("ab\xf0\x9f\x98")), 2);
    cr_expect_eq(oj_utf8_uncut_len(S("ab\xc3")), 2);
    cr_expect_eq(oj_utf8_uncut_len(S("ab\xe2\x82\xac")), 5, "whole: kept");
    cr_expect_eq(oj_utf8_uncut_len(S("ab")), 2);
    cr_expect_eq(oj_utf8_uncut_len(S("ab\xff")), 3, "garbage is not a cut: it stays");
    cr_expect_eq(oj_utf8_uncut_len(S("ab\xed\xa0")), 4, "the start of a surrogate is no cut");
    cr_expect_eq(oj_utf8_uncut_len("", 0), 0);
}

/* A message with bad strings at every depth: a repeated message field with
 * string fields inside. */
Test(pb_utf8, finds_and_repairs_bad_strings_in_nested_and_repeated_fields)
{
    Oj__LockInfo a = OJ__LOCK_INFO__INIT, b = OJ__LOCK_INFO__INIT;
    a.name = "fine";
    a.holder = "caf\xc3\xa9";
    b.name = "also-fine";
    b.holder = "bad\xff" "holder";
    Oj__LockInfo *locks[] = {&a, &b};
    Oj__LockListResponse list = OJ__LOCK_LIST_RESPONSE__INIT;
    list.n_locks = 2;
    list.locks = locks;
    const char *bad = NULL;
    cr_expect_not(oj_pb_utf8_valid(&list.base, &bad));
    cr_expect_str_eq(bad, "holder");

    size_t len;
    uint8_t *buf = oj_pb_pack_utf8(&list.base, &len);
    cr_assert_not_null(buf);
    cr_expect_str_eq(b.holder, "bad\xff" "holder", "the caller's message is left alone");
    Oj__LockListResponse *got = oj__lock_list_response__unpack(NULL, len, buf);
    cr_assert_not_null(got);
    cr_expect(oj_pb_utf8_valid(&got->base, NULL));
    cr_expect_str_eq(got->locks[0]->holder, "caf\xc3\xa9", "valid text is untouched");
    cr_expect_str_eq(got->locks[1]->holder, "bad\xef\xbf\xbdholder");
    oj__lock_list_response__free_unpacked(got, NULL);
    free(buf);

    /* Repeated strings too. */
    char *argv[] = {"ok", "\xc0\xaf"};
    Oj__SessionStartRequest st = OJ__SESSION_START_REQUEST__INIT;
    st.n_argv = 2;
    st.argv = argv;
    cr_expect_not(oj_pb_utf8_valid(&st.base, &bad));
    cr_expect_str_eq(bad, "argv");
}

static uint8_t *frame(const char *method, uint64_t id, const void *payload, size_t plen,
                      size_t *len)
{
    Oj__RequestFrame f = OJ__REQUEST_FRAME__INIT;
    f.method = (char *)method;
    f.request_id = id;
    f.payload.data = (uint8_t *)payload;
    f.payload.len = plen;
    *len = oj__request_frame__get_packed_size(&f);
    uint8_t *buf = malloc(*len + 1);
    oj__request_frame__pack(&f, buf);
    return buf;
}

static int read_req(const char *method, uint64_t id, const void *payload, size_t plen,
                    struct oj_request *rq, char *msg, size_t msglen)
{
    size_t len;
    uint8_t *buf = frame(method, id, payload, plen, &len);
    int st = oj_request_read(&oj__control__descriptor, oj_rpc_checks, buf, len, rq, msg, msglen);
    free(buf);
    return st;
}

Test(request, the_digest_is_the_method_and_the_payload)
{
    struct oj_request a, b, c, d;
    char msg[512];
    cr_assert_eq(read_req("SessionKill", 1, "\x0a\x01x", 3, &a, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(read_req("SessionKill", 2, "\x0a\x01y", 3, &b, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(read_req("SessionNudge", 1, "\x0a\x01x", 3, &c, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(read_req("SessionKill", 9, "\x0a\x01x", 3, &d, msg, sizeof msg), 0, "%s", msg);
    cr_expect_neq(a.digest, b.digest, "another payload, another request");
    cr_expect_neq(a.digest, c.digest, "another method, another request");
    cr_expect_eq(a.digest, d.digest, "the id is not part of what the request is");
    cr_expect_str_eq(a.method->name, "SessionKill");
    cr_expect_str_eq(((Oj__SessionRef *)a.input)->id, "x");
    oj_request_clear(&a);
    oj_request_clear(&b);
    oj_request_clear(&c);
    oj_request_clear(&d);
}

Test(request, ids_are_remembered_only_for_requests_that_change_something)
{
    struct oj_request rq;
    char msg[512];
    cr_assert_eq(read_req("MaintenanceSnapshot", 7, NULL, 0, &rq, msg, sizeof msg), 0);
    cr_expect(rq.dedup);
    oj_request_clear(&rq);
    cr_assert_eq(read_req("MaintenanceSnapshot", 0, NULL, 0, &rq, msg, sizeof msg), 0);
    cr_expect_not(rq.dedup, "id 0 is never de-duplicated");
    oj_request_clear(&rq);
    cr_assert_eq(read_req("Status", 7, NULL, 0, &rq, msg, sizeof msg), 0);
    cr_expect_not(rq.dedup, "Status is read-only");
    oj_request_clear(&rq);
}

/* A change may skip the engine's queue only when it touches nothing but the
 * state and the WAL: one that starts a subprocess, writes other files or
 * waits (a run, a session, a restore, a stop) would hold one of nng's
 * threads, which must never block. */
Test(request, only_state_and_wal_changes_run_at_once)
{
    const char *at_once[] = {"LockAcquire", "LockRelease", "Checkpoint", "Status", "LockList"};
    for (size_t i = 0; i < sizeof at_once / sizeof *at_once; i++)
        cr_expect(oj_rpc_at_once(oj_rpc_checks, at_once[i]), "%s may run at once", at_once[i]);
    const char *queued[] = {"Run", "DaemonStop", "SessionStart", "SessionKill", "SessionSend",
                            "PipelineCancel", "Done", "WorkspaceCleanup", "MaintenanceCompact",
                            "MaintenanceSnapshot", "MaintenanceRestoreSnapshot",
                            "MaintenanceArchive", "CronRun", "NoSuchRpc"};
    for (size_t i = 0; i < sizeof queued / sizeof *queued; i++)
        cr_expect_not(oj_rpc_at_once(oj_rpc_checks, queued[i]), "%s must go through the queue",
                      queued[i]);
}

/* The table in rpc_checks.c classifies every rpc of oj.Control exactly once,
 * and docs/protocol.md lists exactly the read-only ones. */
Test(request, every_rpc_is_classified_and_the_doc_lists_the_read_only_ones)
{
    const ProtobufCServiceDescriptor *svc = &oj__control__descriptor;
    size_t n = 0;
    for (const char *name; (name = oj_rpc_checks[n].name) != NULL; n++) {
        cr_expect_not_null(protobuf_c_service_descriptor_get_method_by_name(svc, name),
                           "the table names %s, which oj.Control lacks", name);
        for (size_t k = 0; k < n; k++)
            cr_expect_str_neq(oj_rpc_checks[k].name, name, "%s twice in the table", name);
    }
    cr_expect_eq(n, svc->n_methods, "the table has %zu rpcs, oj.Control %u", n, svc->n_methods);

    char *doc = read_file("docs/protocol.md");
    cr_assert_not_null(doc, "tests run from the repository root");
    const char *line = strstr(doc, "Read-only rpcs:");
    cr_assert_not_null(line, "docs/protocol.md lacks the 'Read-only rpcs:' list");
    const char *end = strstr(line, ".\n");
    cr_assert_not_null(end);
    for (unsigned i = 0; i < svc->n_methods; i++) {
        char want[80];
        snprintf(want, sizeof want, "`%s`", svc->methods[i].name);
        const char *at = strstr(line, want);
        bool listed = at && at < end;
        bool read_only = oj_rpc_read_only(oj_rpc_checks, svc->methods[i].name);
        cr_expect_eq(listed, read_only, "%s is %sread-only but the doc %s it",
                     svc->methods[i].name, read_only ? "" : "not ",
                     listed ? "lists" : "does not list");
    }
    free(doc);
}

Test(request, bad_frames_methods_and_payloads_get_their_status)
{
    struct oj_request rq;
    char msg[512];
    cr_expect_eq(oj_request_read(&oj__control__descriptor, oj_rpc_checks, "\xff\xff\xff", 3, &rq,
                                 msg, sizeof msg),
                 OJ__STATUS_CODE__BAD_FRAME);
    cr_expect_null(rq.method);
    oj_request_clear(&rq);

    /* An unknown method, named with bytes that are not UTF-8 and a multi-byte
     * character across the old `%.80s` cut: the message stays valid UTF-8. */
    char method[300] = "\xff";
    for (int i = 0; i < 60; i++)
        strcat(method, "\xe2\x82\xac");
    cr_expect_eq(read_req(method, 3, NULL, 0, &rq, msg, sizeof msg),
                 OJ__STATUS_CODE__UNKNOWN_METHOD);
    cr_expect_eq(rq.id, 3);
    cr_expect(oj_utf8_valid(msg, strlen(msg)), "%s", msg);
    cr_expect(strstr(msg, "\xef\xbf\xbd\xe2\x82\xac") != NULL, "%s", msg);
    oj_request_clear(&rq);

    cr_expect_eq(read_req("Status", 4, "\xff\xff", 2, &rq, msg, sizeof msg),
                 OJ__STATUS_CODE__BAD_FRAME);
    cr_expect(strstr(msg, "StatusRequest") != NULL, "%s", msg);
    oj_request_clear(&rq);
}

Test(request, stateless_checks_refuse_before_any_handler)
{
    struct oj_request rq;
    char msg[512];
    Oj__LockAcquireRequest la = OJ__LOCK_ACQUIRE_REQUEST__INIT;
    la.name = "../../etc";
    la.holder = "me";
    uint8_t buf[256];
    size_t n = oj__lock_acquire_request__pack(&la, buf);
    cr_expect_eq(read_req("LockAcquire", 1, buf, n, &rq, msg, sizeof msg),
                 OJ__STATUS_CODE__INVALID_ARGUMENT);
    cr_expect(strstr(msg, "lock names use only") != NULL, "%s", msg);
    oj_request_clear(&rq);

    Oj__DaemonStopRequest ds = OJ__DAEMON_STOP_REQUEST__INIT;
    ds.timeout_ms = -5;
    n = oj__daemon_stop_request__pack(&ds, buf);
    cr_expect_eq(read_req("DaemonStop", 1, buf, n, &rq, msg, sizeof msg),
                 OJ__STATUS_CODE__INVALID_ARGUMENT);
    cr_expect(strstr(msg, "got -5") != NULL, "%s", msg);
    oj_request_clear(&rq);

    cr_expect_eq(read_req("SessionStart", 1, NULL, 0, &rq, msg, sizeof msg),
                 OJ__STATUS_CODE__INVALID_ARGUMENT, "no command: %s", msg);
    oj_request_clear(&rq);
}

/* The handlers no longer repeat these checks: the table is the only guard,
 * so each refusal a handler used to make is made here, with its words. */
static void expect_refused(const char *method, const ProtobufCMessage *in, const char *says)
{
    uint8_t buf[512];
    size_t n = protobuf_c_message_pack(in, buf);
    struct oj_request rq;
    char msg[512];
    cr_expect_eq(read_req(method, 1, buf, n, &rq, msg, sizeof msg),
                 OJ__STATUS_CODE__INVALID_ARGUMENT, "%s passed its check", method);
    cr_expect(strstr(msg, says) != NULL, "%s: %s", method, msg);
    oj_request_clear(&rq);
}

Test(request, each_rpcs_stateless_check_refuses_with_its_reason)
{
    Oj__RunRequest run = OJ__RUN_REQUEST__INIT;
    expect_refused("Run", &run.base, "which pipeline?");
    Oj__CheckpointRequest cp = OJ__CHECKPOINT_REQUEST__INIT;
    expect_refused("Checkpoint", &cp.base, "say what progress to record");

    char *empty[] = {""};
    Oj__SessionStartRequest ss = OJ__SESSION_START_REQUEST__INIT;
    expect_refused("SessionStart", &ss.base, "give the command to run");
    ss.n_argv = 1;
    ss.argv = empty;
    expect_refused("SessionStart", &ss.base, "give the command to run");
    char *cmd[] = {"sh"};
    ss.argv = cmd;
    ss.idle_timeout_ms = -1;
    expect_refused("SessionStart", &ss.base, "the idle timeout cannot be negative");

    Oj__WorkspaceCleanupRequest wc = OJ__WORKSPACE_CLEANUP_REQUEST__INIT;
    expect_refused("WorkspaceCleanup", &wc.base, "cleanup removes only stale workspaces");

    Oj__LockAcquireRequest la = OJ__LOCK_ACQUIRE_REQUEST__INIT;
    la.name = "build";
    expect_refused("LockAcquire", &la.base, "a lock holder is a name of 1 to 200");
    la.holder = "me";
    la.timeout_ms = -1;
    expect_refused("LockAcquire", &la.base, "the heartbeat timeout cannot be negative");
    Oj__LockReleaseRequest lr = OJ__LOCK_RELEASE_REQUEST__INIT;
    lr.name = "build";
    expect_refused("LockRelease", &lr.base, "say who releases the lock");
    lr.force = true; /* forced: no holder needed */
    uint8_t buf[256];
    size_t n = protobuf_c_message_pack(&lr.base, buf);
    struct oj_request rq;
    char msg[512];
    cr_expect_eq(read_req("LockRelease", 1, buf, n, &rq, msg, sizeof msg), 0, "%s", msg);
    oj_request_clear(&rq);

    Oj__RestoreSnapshotRequest rs = OJ__RESTORE_SNAPSHOT_REQUEST__INIT;
    expect_refused("MaintenanceRestoreSnapshot", &rs.base, "exactly one of latest or a snapshot");
    rs.latest = true;
    rs.id = "snap-1";
    expect_refused("MaintenanceRestoreSnapshot", &rs.base, "exactly one of latest or a snapshot");
    Oj__ArchiveRequest ar = OJ__ARCHIVE_REQUEST__INIT;
    ar.older_than_ms = -1;
    expect_refused("MaintenanceArchive", &ar.base, "older_than_ms cannot be negative");
    Oj__DaemonStopRequest ds = OJ__DAEMON_STOP_REQUEST__INIT;
    ds.timeout_ms = -1;
    expect_refused("DaemonStop", &ds.base, "timeout_ms must be 0 (default) or positive");
}

/* A reader handed no table checks nothing and remembers every id but 0. */
Test(request, with_no_table_nothing_is_checked_and_nothing_is_read_only)
{
    Oj__DaemonStopRequest ds = OJ__DAEMON_STOP_REQUEST__INIT;
    ds.timeout_ms = -1;
    uint8_t payload[64];
    size_t plen = oj__daemon_stop_request__pack(&ds, payload);
    size_t len;
    uint8_t *buf = frame("DaemonStop", 1, payload, plen, &len);
    struct oj_request rq;
    char msg[512];
    cr_expect_eq(oj_request_read(&oj__control__descriptor, NULL, buf, len, &rq, msg, sizeof msg),
                 0, "%s", msg);
    oj_request_clear(&rq);
    free(buf);
    buf = frame("Status", 1, NULL, 0, &len);
    cr_expect_eq(oj_request_read(&oj__control__descriptor, NULL, buf, len, &rq, msg, sizeof msg),
                 0, "%s", msg);
    cr_expect(rq.dedup, "no table: Status counts as changing things");
    oj_request_clear(&rq);
    free(buf);
}

/* Every reply leaves valid UTF-8: the message (a cut character dropped, bad
 * bytes replaced) and the payload's strings. */
Test(request, replies_are_valid_utf8_whatever_the_handler_wrote)
{
    char message[600] = "no session '\xff";
    while (strlen(message) < 508)
        strcat(message, "\xe2\x82\xac");
    message[strlen(message) - 1] = '\0'; /* a euro cut after 2 bytes, as by a full buffer */
    size_t len;
    uint8_t *buf = oj_reply_pack(5, OJ__STATUS_CODE__NOT_FOUND, message, NULL, NULL, &len);
    cr_assert_not_null(buf);
    Oj__ReplyFrame *r = oj__reply_frame__unpack(NULL, len, buf);
    cr_assert_not_null(r);
    cr_expect(oj_pb_utf8_valid(&r->base, NULL), "%s", r->message);
    cr_expect_eq(r->request_id, 5);
    cr_expect(strncmp(r->message, "no session '\xef\xbf\xbd\xe2\x82\xac", 18) == 0, "%s",
              r->message);
    size_t ml = strlen(r->message);
    cr_expect(ml >= 3 && strcmp(r->message + ml - 3, "\xe2\x82\xac") == 0,
              "the cut euro is gone, the whole ones stay");
    oj__reply_frame__free_unpacked(r, NULL);
    free(buf);

    Oj__ActionResponse out = OJ__ACTION_RESPONSE__INIT;
    out.id = "s1";
    out.message = "phase failed: \xc3";
    buf = oj_reply_pack(6, OJ__STATUS_CODE__OK, NULL, &out.base, NULL, &len);
    cr_assert_not_null(buf);
    r = oj__reply_frame__unpack(NULL, len, buf);
    cr_assert_not_null(r);
    cr_expect_str_eq(r->message, "");
    Oj__ActionResponse *a = oj__action_response__unpack(NULL, r->payload.len, r->payload.data);
    cr_assert_not_null(a);
    cr_expect(oj_pb_utf8_valid(&a->base, NULL), "%s", a->message);
    cr_expect_str_eq(a->message, "phase failed: \xef\xbf\xbd");
    oj__action_response__free_unpacked(a, NULL);
    oj__reply_frame__free_unpacked(r, NULL);
    free(buf);
}
