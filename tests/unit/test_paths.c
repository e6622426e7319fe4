/* Where the daemon's files live, and the socket path fallback. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

static char tmp[64];

static void mk(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/ojp.XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static void rm(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    cr_assert_eq(system(cmd), 0);
}

Test(paths, finds_nearest_project_walking_up, .init = mk, .fini = rm)
{
    char p[PATH_MAX], root[PATH_MAX];
    snprintf(p, sizeof p, "%s/.oj", tmp);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/a", tmp);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/a/b", tmp);
    mkdir(p, 0700);
    cr_assert_eq(oj_find_project(p, root, sizeof root), 0);
    cr_expect_str_eq(root, tmp);

    /* A nearer .oj/ wins. */
    snprintf(p, sizeof p, "%s/a/.oj", tmp);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/a/b", tmp);
    cr_assert_eq(oj_find_project(p, root, sizeof root), 0);
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/a", tmp);
    cr_expect_str_eq(root, want);
}

Test(paths, no_project_found, .init = mk, .fini = rm)
{
    char root[PATH_MAX];
    /* /tmp itself has no .oj (tests never create one there). */
    cr_expect_eq(oj_find_project(tmp, root, sizeof root), -1);
    cr_expect_eq(oj_find_project("/nonexistent/dir", root, sizeof root), -1);
}

Test(paths, sockets_live_in_state_dir_when_short)
{
    struct oj_paths p;
    cr_assert_eq(oj_paths_init(&p, "/home/me/repo"), 0);
    cr_expect_str_eq(p.sock_path, "/home/me/repo/.oj/daemon.sock");
    cr_expect_str_eq(p.pid_path, "/home/me/repo/.oj/daemon.pid");
    cr_expect_str_eq(p.log_path, "/home/me/repo/.oj/logs/daemon.log");
    cr_expect_not(p.sock_fallback);
}

Test(paths, long_roots_fall_back_to_a_short_per_user_dir)
{
    char root[300];
    memset(root, 'x', sizeof root);
    root[0] = '/';
    root[sizeof root - 1] = '\0';
    setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
    struct oj_paths p;
    cr_assert_eq(oj_paths_init(&p, root), 0);
    cr_expect(p.sock_fallback);
    cr_expect(strncmp(p.sock_path, "/run/user/1000/oj/", 18) == 0, "%s", p.sock_path);
    cr_expect_lt(strlen(p.events_sock_path), OJ_SUN_PATH_MAX);

    unsetenv("XDG_RUNTIME_DIR");
    struct oj_paths q;
    cr_assert_eq(oj_paths_init(&q, root), 0);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "/tmp/oj-%u/", (unsigned)getuid());
    cr_expect(strncmp(q.sock_path, prefix, strlen(prefix)) == 0, "%s", q.sock_path);

    /* Same root, same name; another root, another name. */
    struct oj_paths r;
    root[5] = 'y';
    cr_assert_eq(oj_paths_init(&r, root), 0);
    cr_expect_str_neq(q.sock_path, r.sock_path);
}

Test(paths, prepare_makes_private_dirs_hidden_from_git, .init = mk, .fini = rm)
{
    struct oj_paths p;
    char err[256];
    cr_assert_eq(oj_paths_init(&p, tmp), 0);
    cr_assert_eq(oj_paths_prepare(&p, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_eq(stat(p.state_dir, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0700);
    cr_assert_eq(stat(p.log_dir, &st), 0);
    char gi[PATH_MAX + 16];
    snprintf(gi, sizeof gi, "%s/.gitignore", p.state_dir);
    FILE *f = fopen(gi, "r");
    cr_assert_not_null(f);
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    cr_expect_gt(n, 0);
    cr_expect(strstr(buf, "\n*\n") != NULL, "must ignore everything: %s", buf);
    /* Idempotent. */
    cr_expect_eq(oj_paths_prepare(&p, err, sizeof err), 0, "%s", err);
}

Test(paths, prepare_refuses_a_file_where_a_dir_belongs, .init = mk, .fini = rm)
{
    struct oj_paths p;
    char err[256];
    cr_assert_eq(oj_paths_init(&p, tmp), 0);
    cr_assert_eq(mkdir(p.state_dir, 0700), 0);
    FILE *f = fopen(p.log_dir, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_expect_eq(oj_paths_prepare(&p, err, sizeof err), -1);
    cr_expect(strstr(err, p.log_dir) != NULL, "error names the path: %s", err);
}
