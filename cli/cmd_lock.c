/* cmd_lock.c — `oj lock …`: shared locks such as merge-lock.
 *
 * Without --holder, the caller is "<user>@<host>:<pid of the calling shell>"
 * and the lock follows that shell's life: a script that takes a lock and dies
 * leaves a stale lock, not a stuck one. The same script releases it as the
 * same holder. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "duration.h"

struct caller {
    char holder[300];
    char host[128];
    int pid;
};

static void default_caller(struct caller *c)
{
    memset(c, 0, sizeof *c);
    gethostname(c->host, sizeof c->host - 1);
    const struct passwd *pw = getpwuid(getuid());
    c->pid = (int)getppid();
    snprintf(c->holder, sizeof c->holder, "%s@%s:%d", pw ? pw->pw_name : "user", c->host,
             c->pid);
}

static void fmt_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void print_lock(const Oj__LockInfo *l)
{
    if (!l->held) {
        printf("%s: free\n", oj_esc(l->name));
        return;
    }
    char since[32], ago[32], timeout[32];
    fmt_time(l->since_ms, since, sizeof since);
    oj_duration_format(oj_wall_ms() - l->heartbeat_ms, ago, sizeof ago);
    printf("%s: held%s\n", oj_esc(l->name), l->stale ? " (STALE)" : "");
    printf("  holder:     %s\n", oj_esc(l->holder));
    if (l->holder_pid)
        printf("  process:    %d on %s\n", l->holder_pid, oj_esc(l->host));
    printf("  since:      %s\n", since);
    printf("  heartbeat:  %s ago\n", ago);
    if (l->timeout_ms) {
        oj_duration_format(l->timeout_ms, timeout, sizeof timeout);
        printf("  timeout:    %s\n", timeout);
    }
    if (l->stale)
        printf("  stale:      yes; `oj lock release %s --force` frees it, or a new acquire takes "
               "it over\n",
               oj_esc(l->name));
}

static void human_table(const Oj__LockListResponse *r)
{
    printf("%-24s %-36s %-19s %-10s %s\n", "NAME", "HOLDER", "SINCE", "HEARTBEAT", "STATE");
    for (size_t i = 0; i < r->n_locks; i++) {
        const Oj__LockInfo *l = r->locks[i];
        char since[32], ago[32];
        fmt_time(l->since_ms, since, sizeof since);
        oj_duration_format(oj_wall_ms() - l->heartbeat_ms, ago, sizeof ago);
        printf("%-24s %-36s %-19s %-10s %s\n", oj_esc(l->name), oj_esc(l->holder), since, ago,
               l->stale ? "stale" : "held");
    }
}

static void human_list(const void *m)
{
    const Oj__LockListResponse *r = m;
    if (r->n_locks == 0) {
        printf("no locks held\n");
        return;
    }
    human_table(r);
}

static void human_list_stale(const void *m)
{
    const Oj__LockListResponse *r = m;
    if (r->n_locks == 0) {
        printf("no stale locks\n");
        return;
    }
    human_table(r);
}

static void human_status(const void *m) { print_lock(m); }

static void human_acquire(const void *m)
{
    const Oj__LockInfo *l = m;
    printf("%s %s as %s\n", oj_esc(l->note), oj_esc(l->name), oj_esc(l->holder));
}

static void human_action(const void *m)
{
    const Oj__ActionResponse *r = m;
    printf("%s\n", oj_esc(r->message));
}

static int exec_list(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__LockListRequest req = OJ__LOCK_LIST_REQUEST__INIT;
    req.stale_only = oj_args_has(a, "stale");
    WITH_CLIENT(ctx, c, (oj__control__lock_list(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, req.stale_only ? human_list_stale : human_list)));
}

static int exec_status(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__LockRef req = OJ__LOCK_REF__INIT;
    req.name = a->pos[0];
    WITH_CLIENT(ctx, c, (oj__control__lock_status(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_status)));
}

static int exec_acquire(struct oj_ctx *ctx, const struct oj_args *a)
{
    long long timeout = 0;
    if (oj_opt_duration(a, "timeout", &timeout) != 0)
        return OJ_EXIT_USAGE;
    struct caller me;
    default_caller(&me);
    Oj__LockAcquireRequest req = OJ__LOCK_ACQUIRE_REQUEST__INIT;
    req.name = a->pos[0];
    req.timeout_ms = timeout;
    if (oj_args_get(a, "holder")) {
        req.holder = (char *)oj_args_get(a, "holder");
    } else {
        req.holder = me.holder;
        req.holder_pid = me.pid;
        req.host = me.host;
    }
    WITH_CLIENT(ctx, c, (oj__control__lock_acquire(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_acquire)));
}

static int exec_release(struct oj_ctx *ctx, const struct oj_args *a)
{
    struct caller me;
    default_caller(&me);
    Oj__LockReleaseRequest req = OJ__LOCK_RELEASE_REQUEST__INIT;
    req.name = a->pos[0];
    req.holder = (char *)(oj_args_get(a, "holder") ? oj_args_get(a, "holder") : me.holder);
    req.force = oj_args_has(a, "force");
    WITH_CLIENT(ctx, c, (oj__control__lock_release(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_action)));
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};
static const struct oj_opt list_opts[] = {
    {"stale", false, NULL, "only locks whose holder is gone or whose heartbeat is too old"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt acquire_opts[] = {
    {"holder", true, "H", "who holds it (default: user@host:<pid of the calling shell>)"},
    {"timeout", true, "DUR", "stale when not renewed (acquired again) within DUR"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt release_opts[] = {
    {"holder", true, "H", "release as this holder (default: as for acquire)"},
    {"force", false, NULL, "release whoever holds it (use with caution)"},
    OJ_OPT_JSON,
    {0},
};

const struct oj_cmd oj_cmd_lock_list = {
    "lock", "list", "[--stale] [--json]", "List held locks: holder, since, heartbeat, stale",
    NULL, list_opts, 0, 0, exec_list,
};
const struct oj_cmd oj_cmd_lock_status = {
    "lock", "status", "<name> [--json]", "Holder, since when, last heartbeat, stale or not",
    "A lock nobody holds is reported as free (exit 0).", json_only, 1, 1, exec_status,
};
const struct oj_cmd oj_cmd_lock_acquire = {
    "lock", "acquire", "<name> [--holder H] [--timeout DUR]", "Take a lock (for scripts)",
    "Exit 0 when taken (or renewed: acquiring again as the same holder is a heartbeat), 5 when\n"
    "another holder has it. A stale lock (holder process gone, or no heartbeat within\n"
    "--timeout) is taken over. Without --holder the lock follows the calling shell's life.",
    acquire_opts, 1, 1, exec_acquire,
};
const struct oj_cmd oj_cmd_lock_release = {
    "lock", "release", "<name> [--holder H] [--force]", "Release a lock",
    "Only the holder may release (exit 5 names the holder otherwise); --force releases\n"
    "whoever holds it, and exits 0 when the lock was already free. Without --force, exit 4\n"
    "when the lock is not held.",
    release_opts, 1, 1, exec_release,
};
