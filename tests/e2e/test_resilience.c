/* The daemon under load and abuse: many concurrent clients, half-open
 * connections (the nng 1.5.2 listener bug), a second daemon racing the first. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../lib/harness.h"
#include "paths.h"
#include "rpc_client.h"

static struct oj_env e;
static struct oj_paths paths;

static void setup(void)
{
    env_setup(&e, true);
    struct oj_out a = OJ(&e, "daemon", "start");
    cr_assert_eq(a.code, 0, "%s", a.err);
    oj_out_free(&a);
    cr_assert_eq(oj_paths_init(&paths, e.dir), 0);
}
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

struct worker {
    int calls, failures;
    char first_error[256];
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct oj_client *c;
    if (oj_client_open(&c, paths.sock_path, 20000) != 0) {
        w->failures = w->calls;
        snprintf(w->first_error, sizeof w->first_error, "cannot connect");
        return NULL;
    }
    for (int i = 0; i < w->calls; i++) {
        Oj__StatusRequest req = OJ__STATUS_REQUEST__INIT;
        req.verbose = i % 2;
        Oj__StatusResponse *resp;
        int st = OJ_RPC(c, oj__control__status, &req, &resp);
        if (st != OJ__STATUS_CODE__OK || resp->max_sessions != 10) {
            if (w->failures++ == 0)
                snprintf(w->first_error, sizeof w->first_error, "%s: %s", oj_status_name(st),
                         oj_client_message(c));
        }
        oj_client_free_reply(resp);
    }
    oj_client_close(c);
    return NULL;
}

Test(resilience, a_thousand_requests_from_eight_clients, .init = setup, .fini = teardown)
{
    enum { CLIENTS = 8, CALLS = 125 };
    pthread_t t[CLIENTS];
    struct worker w[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        w[i] = (struct worker){.calls = CALLS};
        cr_assert_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    int failures = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(t[i], NULL);
        failures += w[i].failures;
        cr_expect_eq(w[i].failures, 0, "client %d: %s", i, w[i].first_error);
    }
    cr_expect_eq(failures, 0);

    /* The daemon counted every one of them. */
    struct oj_out o = OJ(&e, "status", "--json", "--verbose");
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j);
    cr_expect_geq(cJSON_GetObjectItem(j, "requests_served")->valuedouble, CLIENTS * CALLS);
    cJSON_Delete(j);
    oj_out_free(&o);
}

/* Connects and hangs up before the SP handshake completes: without a byte,
 * or after half of the 8-byte SP header. Either kills an nng 1.5.2 ipc
 * listener when the hang-up lands mid-negotiation (which is timing: under
 * load nng sometimes sees it as a reset and carries on). */
static void half_open(bool partial_header)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cr_assert_lt(strlen(paths.sock_path), sizeof sa.sun_path);
    memcpy(sa.sun_path, paths.sock_path, strlen(paths.sock_path) + 1);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    if (partial_header)
        cr_assert_eq(write(fd, "\0SP\0", 4), 4);
    close(fd);
}

Test(resilience, half_open_connections_do_not_kill_the_listener, .init = setup, .fini = teardown)
{
    for (int round = 0; round < 4; round++) {
        half_open(round % 2);
        struct oj_out o = OJ(&e, "status");
        cr_expect_eq(o.code, 0, "round %d: status after a half-open connection: %s", round, o.err);
        oj_out_free(&o);
    }
    /* New connections keep working, not only the retried ones. */
    struct oj_out o = OJ(&e, "status", "--json", "--verbose");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j);
    int restarts = cJSON_GetObjectItem(j, "listener_restarts")->valueint;
    if (restarts == 0)
        cr_log_warn("no half-open connection broke the listener this time (timing); the "
                    "statuses above passed either way");
    cJSON_Delete(j);
    oj_out_free(&o);
}

Test(resilience, a_second_daemon_leaves_the_first_alone, .init = setup, .fini = teardown)
{
    pid_t first = env_daemon_pid(&e);
    /* --foreground skips the client-side check: the daemon's own lock must refuse. */
    struct oj_out o = OJ(&e, "daemon", "start", "--foreground");
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "already running") != NULL || strstr(o.err, "already running"),
              "%s%s", o.out, o.err);
    oj_out_free(&o);
    cr_expect_eq(env_daemon_pid(&e), first);
    struct oj_out s = OJ(&e, "status");
    cr_expect_eq(s.code, 0, "the first daemon must still answer: %s", s.err);
    oj_out_free(&s);
}

struct starter {
    struct oj_env *e;
    int code;
    int pid; /* the pid it reported, started or already running */
};

static void *start_main(void *arg)
{
    struct starter *s = arg;
    struct oj_out o = OJ(s->e, "daemon", "start");
    s->code = o.code;
    const char *p = strstr(o.out, "(pid ");
    s->pid = p ? atoi(p + 5) : 0;
    oj_out_free(&o);
    return NULL;
}

Test(resilience, racing_starts_make_one_daemon, .init = setup, .fini = teardown)
{
    struct oj_out stop = OJ(&e, "daemon", "stop");
    cr_assert_eq(stop.code, 0);
    oj_out_free(&stop);
    enum { N = 4 };
    pthread_t t[N];
    struct starter s[N];
    for (int i = 0; i < N; i++) {
        s[i] = (struct starter){.e = &e};
        pthread_create(&t[i], NULL, start_main, &s[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    pid_t running = env_daemon_pid(&e);
    cr_assert_gt(running, 0);
    for (int i = 0; i < N; i++) {
        cr_expect_eq(s[i].code, 0, "starter %d", i);
        cr_expect_eq(s[i].pid, running, "starter %d names another daemon", i);
    }
    struct oj_out st = OJ(&e, "status");
    cr_expect_eq(st.code, 0, "%s", st.err);
    oj_out_free(&st);
}
