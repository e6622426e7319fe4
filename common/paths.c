/* paths.c — see paths.h. */
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fnv.h"

static bool has(const char *dir, const char *name, bool want_dir)
{
    char probe[PATH_MAX + 8];
    struct stat st;
    snprintf(probe, sizeof probe, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
    return stat(probe, &st) == 0 && (!want_dir || S_ISDIR(st.st_mode));
}

/* Whether the absolute path dir lies inside some `.oj/` directory. */
static bool inside_state_dir(const char *dir)
{
    return strstr(dir, "/.oj/") != NULL;
}

int oj_find_root(const char *start, char *root, size_t len)
{
    char dir[PATH_MAX];
    if (realpath(start, dir) == NULL)
        return -1;
    for (;;) {
        bool project = has(dir, ".oj", true);
        if (project || (has(dir, ".git", false) && !inside_state_dir(dir))) {
            if (strlen(dir) >= len)
                return -1;
            strcpy(root, dir);
            return project ? 1 : 0;
        }
        if (strcmp(dir, "/") == 0)
            return -1;
        char *slash = strrchr(dir, '/');
        if (slash == dir)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}

int oj_find_project(const char *start, char *root, size_t len)
{
    return oj_find_root(start, root, len) == 1 ? 0 : -1;
}

uint64_t oj_path_hash(const char *s) { return oj_fnv1a64_str(s); }

static int join(char *out, const char *a, const char *b)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
    return (n < 0 || n >= PATH_MAX) ? -1 : 0;
}

int oj_paths_init(struct oj_paths *p, const char *root)
{
    memset(p, 0, sizeof *p);
    if (strlen(root) >= sizeof p->root) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(p->root, root);
    if (join(p->state_dir, root, ".oj") || join(p->pid_path, p->state_dir, "daemon.pid") ||
        join(p->log_dir, p->state_dir, "logs") || join(p->log_path, p->log_dir, "daemon.log") ||
        join(p->sock_path, p->state_dir, "daemon.sock") ||
        join(p->events_sock_path, p->state_dir, "events.sock") ||
        join(p->tmux_sock_path, p->state_dir, "tmux.sock") ||
        join(p->session_log_dir, p->log_dir, "sessions") ||
        join(p->worktree_lock, p->state_dir, "worktree.lock")) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(p->sock_dir, p->state_dir);
    if (strlen(p->sock_path) < OJ_SUN_PATH_MAX && strlen(p->events_sock_path) < OJ_SUN_PATH_MAX &&
        strlen(p->tmux_sock_path) < OJ_SUN_PATH_MAX)
        return 0;

    /* Too deep for a Unix socket: use a short per-user directory instead. */
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    char user_dir[32], key[40];
    snprintf(user_dir, sizeof user_dir, "/tmp/oj-%u", (unsigned)getuid());
    if (xdg != NULL && xdg[0] == '/') {
        if (join(p->sock_dir, xdg, "oj") != 0)
            strcpy(p->sock_dir, user_dir);
    } else {
        strcpy(p->sock_dir, user_dir);
    }
    uint64_t h = oj_path_hash(root);
    snprintf(key, sizeof key, "%016llx.sock", (unsigned long long)h);
    int bad = join(p->sock_path, p->sock_dir, key);
    snprintf(key, sizeof key, "%016llx.ev.sock", (unsigned long long)h);
    bad |= join(p->events_sock_path, p->sock_dir, key);
    snprintf(key, sizeof key, "%016llx.tmux.sock", (unsigned long long)h);
    bad |= join(p->tmux_sock_path, p->sock_dir, key);
    p->sock_fallback = true;
    if (bad || strlen(p->tmux_sock_path) >= OJ_SUN_PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static int make_private_dir(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(dir, &st) != 0) {
        snprintf(err, errlen, "cannot stat %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
        errno = EPERM;
        snprintf(err, errlen, "%s is not a directory owned by you; remove it and retry", dir);
        return -1;
    }
    if ((st.st_mode & 0777) != 0700 && chmod(dir, 0700) != 0) {
        snprintf(err, errlen, "cannot make %s private (chmod 0700): %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int oj_paths_prepare(const struct oj_paths *p, char *err, size_t errlen)
{
    if (make_private_dir(p->state_dir, err, errlen) || make_private_dir(p->log_dir, err, errlen) ||
        make_private_dir(p->session_log_dir, err, errlen))
        return -1;
    if (p->sock_fallback && make_private_dir(p->sock_dir, err, errlen))
        return -1;

    /* "*" inside .oj/ hides the directory and everything in it from git
     * status, without touching the user's own .gitignore. */
    char gi[PATH_MAX];
    if (join(gi, p->state_dir, ".gitignore") == 0 && access(gi, F_OK) != 0) {
        int fd = open(gi, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            static const char body[] = "# oj state: never part of the repository\n*\n";
            ssize_t w = write(fd, body, sizeof body - 1);
            close(fd);
            if (w != (ssize_t)(sizeof body - 1)) {
                snprintf(err, errlen, "cannot write %s", gi);
                return -1;
            }
        }
    }
    return 0;
}

void oj_self_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    buf[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
}
