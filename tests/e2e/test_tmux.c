/* The thin tmux shell against a real tmux server on a private socket. */
#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmux.h"

static char dir[] = "/tmp/ojtmux.XXXXXX";
static char sock[PATH_MAX], log_path[PATH_MAX];

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/tmux.sock", dir);
    snprintf(log_path, sizeof log_path, "%s/out.log", dir);
}

static void teardown(void)
{
    char cmd[2 * PATH_MAX + 64];
    /* the whole server: a failed test may leave sessions behind */
    snprintf(cmd, sizeof cmd, "tmux -S '%s' kill-server 2>/dev/null; rm -rf '%s'", sock, dir);
    cr_expect_eq(system(cmd), 0);
}

static atomic_bool stop;

/* Another client of the same server, as the daemon's tick is. */
static void *lister(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        struct oj_tmux_pane *panes = NULL;
        char err[256];
        oj_tmux_list(sock, &panes, err, sizeof err);
        free(panes);
    }
    return NULL;
}

/* Killing a server's last session makes tmux exit; a session started in that
 * moment used to fail with "server exited unexpectedly" (seen as a pipeline
 * restart failing its phase). Every start right after a kill must work. */
Test(tmux, a_session_starts_while_the_server_exits_after_its_last_one, .init = setup,
     .fini = teardown, .timeout = 120)
{
    char err[512] = "";
    char name[32];
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, lister, NULL), 0);
    for (int i = 0; i < 60; i++) {
        snprintf(name, sizeof name, "s%d", i);
        cr_assert_eq(oj_tmux_new(sock, name, dir, NULL, "sleep 30", log_path, err, sizeof err), 0,
                     "start %d: %s", i, err);
        cr_assert_eq(oj_tmux_kill(sock, name, err, sizeof err), 0, "kill %d: %s", i, err);
    }
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    cr_assert_eq(oj_tmux_new(sock, "last", dir, NULL, "sleep 30", log_path, err, sizeof err), 0,
                 "%s", err);
    struct oj_tmux_pane *panes = NULL;
    int n = oj_tmux_list(sock, &panes, err, sizeof err);
    cr_expect_eq(n, 1, "one session left (%d): %s", n, err);
    if (n > 0)
        cr_expect_str_eq(panes[0].session, "last");
    free(panes);
}
