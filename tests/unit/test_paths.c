/* Where the daemon's files live, and the socket path fallback. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "fnv.h"
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

static void mkdir_in(const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    cr_assert_eq(mkdir(p, 0755), 0, "%s", p);
}

/* A git repository nested in a project's tree (a .git directory, or a .git
 * file as a submodule has) is a root of its own, without .oj/ yet; a .git
 * under .oj/ (a pipeline's workspace) is not. */
Test(paths, the_nearest_git_repository_wins_over_a_parents_project, .init = mk, .fini = rm)
{
    mkdir_in(".oj");
    mkdir_in("inner");
    mkdir_in("inner/.git");
    mkdir_in("inner/src");
    mkdir_in("sub");
    mkdir_in("sub/mod");
    char p[PATH_MAX], root[PATH_MAX], want[PATH_MAX];
    snprintf(p, sizeof p, "%s/sub/mod/.git", tmp);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("gitdir: ../../.git/modules/mod\n", f);
    fclose(f);

    snprintf(p, sizeof p, "%s/inner/src", tmp);
    cr_expect_eq(oj_find_root(p, root, sizeof root), 0, "a repository without .oj/");
    snprintf(want, sizeof want, "%s/inner", tmp);
    cr_expect_str_eq(root, want);
    cr_expect_eq(oj_find_project(p, root, sizeof root), -1, "not the parent's project");

    snprintf(p, sizeof p, "%s/sub/mod", tmp);
    cr_expect_eq(oj_find_root(p, root, sizeof root), 0, "a .git file counts");
    cr_expect_str_eq(root, p);

    snprintf(p, sizeof p, "%s/sub", tmp);
    cr_expect_eq(oj_find_root(p, root, sizeof root), 1);
    cr_expect_str_eq(root, tmp);

    /* The nested repository's own project. */
    mkdir_in("inner/.oj");
    snprintf(p, sizeof p, "%s/inner/src", tmp);
    cr_expect_eq(oj_find_root(p, root, sizeof root), 1);
    cr_expect_str_eq(root, want);

    /* A workspace under .oj/ belongs to the project around it. */
    mkdir_in(".oj/workspaces");
    mkdir_in(".oj/workspaces/w");
    mkdir_in(".oj/workspaces/w/.git");
    snprintf(p, sizeof p, "%s/.oj/workspaces/w", tmp);
    cr_expect_eq(oj_find_root(p, root, sizeof root), 1);
    cr_expect_str_eq(root, tmp);
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

/* Published FNV-1a 64 test vectors (the FNV reference test suite). */
Test(paths, fnv1a64_matches_the_published_test_vectors)
{
    cr_expect_eq(oj_fnv1a64("", 0), 0xcbf29ce484222325ULL);
    cr_expect_eq(oj_fnv1a64_str(""), 0xcbf29ce484222325ULL);
    cr_expect_eq(oj_fnv1a64_str("a"), 0xaf63dc4c8601ec8cULL);
    cr_expect_eq(oj_fnv1a64_str("foobar"), 0x85944171f73967e8ULL);
    cr_expect_eq(oj_fnv1a64("foobar", 6), 0x85944171f73967e8ULL);
    cr_expect_eq(oj_fnv1a64_add(oj_fnv1a64("foo", 3), "bar", 3), 0x85944171f73967e8ULL,
                 "hashing in pieces is hashing the whole");
    cr_expect_eq(oj_path_hash("foobar"), 0x85944171f73967e8ULL);
}

/* The number that follows `key` in `text` (hex with 0x), or 0. */
static unsigned long long number_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    cr_assert_not_null(p, "docs/protocol.md no longer says '%s'", key);
    p = strstr(p + strlen(key), "0x");
    cr_assert_not_null(p, "no hex number after '%s' in docs/protocol.md", key);
    return strtoull(p, NULL, 16);
}

/* A client that knows only docs/protocol.md must find the socket: compute
 * the fallback name with the constants and check values the doc gives. */
Test(paths, fallback_socket_names_follow_the_documented_recipe)
{
    char *doc = read_file("docs/protocol.md");
    cr_assert_not_null(doc, "tests run from the repository root");
    unsigned long long basis = number_after(doc, "offset basis");
    unsigned long long prime = number_after(doc, "XOR b) *");

    /* The doc's check values, `"<input>"` → `<hex>`, hold for oj's hash. */
    const char *p = strstr(doc, "Check values:");
    cr_assert_not_null(p);
    int n = 0;
    while ((p = strstr(p, "`\"")) != NULL && n < 10) {
        const char *in = p + 2, *q = strchr(in, '"');
        cr_assert_not_null(q);
        char input[32], hex[32];
        snprintf(input, sizeof input, "%.*s", (int)(q - in), in);
        const char *h = strstr(q, "→");
        cr_assert(h && h - q < 8, "check value \"%s\" has no result", input);
        h += strlen("→");
        h += strspn(h, " \n");
        cr_assert_eq(*h++, '`');
        snprintf(hex, sizeof hex, "%.*s", (int)strcspn(h, "`"), h);
        char got[32];
        snprintf(got, sizeof got, "%016llx", (unsigned long long)oj_fnv1a64_str(input));
        cr_expect_str_eq(got, hex, "the doc says \"%s\" -> %s", input, hex);
        n++;
        p = h;
        if (strncmp(h + strlen(hex), "`.", 2) == 0)
            break; /* the last one ends the sentence */
    }
    cr_expect_eq(n, 3, "the doc lists three check values");

    /* The longest root that keeps its sockets in .oj/ is 91 bytes (the doc's number). */
    cr_assert(strstr(doc, "longer than 91 bytes") != NULL);
    char root[200];
    memset(root, 'r', sizeof root);
    root[0] = '/';
    root[91] = '\0';
    struct oj_paths paths;
    cr_assert_eq(oj_paths_init(&paths, root), 0);
    cr_expect_not(paths.sock_fallback, "a 91-byte root still fits");
    memset(root, 'r', sizeof root);
    root[0] = '/';
    root[92] = '\0';
    setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
    cr_assert_eq(oj_paths_init(&paths, root), 0);
    unsetenv("XDG_RUNTIME_DIR");
    cr_expect(paths.sock_fallback, "a 92-byte root falls back");

    uint64_t h = basis; /* the doc's recipe, byte by byte */
    for (const char *c = root; *c; c++)
        h = (h ^ (unsigned char)*c) * prime;
    char want[128];
    snprintf(want, sizeof want, "/run/user/4242/oj/%016llx.sock", (unsigned long long)h);
    cr_expect_str_eq(paths.sock_path, want);
    snprintf(want, sizeof want, "/run/user/4242/oj/%016llx.ev.sock", (unsigned long long)h);
    cr_expect_str_eq(paths.events_sock_path, want);
    free(doc);
}
