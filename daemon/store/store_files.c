/* store_files.c — the store's file moves: keeping a copy of a WAL before it is
 * replaced, and putting a new WAL in place that rests on a snapshot. See
 * store_impl.h for the contracts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"
#include "store_impl.h"
#include "wal.h"

void oj_store_note(struct oj_store *s, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    LOG_WARN("store: %s", buf);
    if (s->opts.note)
        s->opts.note(buf, s->opts.note_arg);
}

void oj_store_stamp(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm);
}

/* A name `<base>.*` in `dir` that is the same file as st, into out. */
static bool find_same_file(const char *dir, const char *base, const struct stat *st, char *out,
                           size_t outlen)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    size_t blen = strlen(base);
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] != '.')
            continue;
        struct stat o;
        if (fstatat(dirfd(d), de->d_name, &o, AT_SYMLINK_NOFOLLOW) == 0 && o.st_dev == st->st_dev &&
            o.st_ino == st->st_ino) {
            snprintf(out, outlen, "%s/%s", dir, de->d_name);
            found = true;
        }
    }
    closedir(d);
    return found;
}

/* dir and base name of path */
static void split(const char *path, char *dir, size_t dirlen, const char **base)
{
    snprintf(dir, dirlen, "%s", path);
    char *slash = strrchr(dir, '/');
    *base = path;
    if (slash) {
        *slash = '\0';
        *base = path + (slash - dir) + 1;
    } else {
        snprintf(dir, dirlen, ".");
    }
}

bool oj_store_has_copy(const char *path, char *out, size_t outlen)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return false;
    char dir[4200];
    const char *base;
    split(path, dir, sizeof dir, &base);
    return find_same_file(dir, base, &st, out, outlen);
}

int oj_store_keep_copy(const char *path, const char *tag, char *out, size_t outlen, bool *made,
                       char *err, size_t errlen)
{
    *made = false;
    out[0] = '\0';
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot keep a copy of %s: %s", path, strerror(errno));
        return -1;
    }
    char dir[4200];
    const char *base;
    split(path, dir, sizeof dir, &base);
    if (find_same_file(dir, base, &st, out, outlen))
        return 0;
    char stamp[32];
    oj_store_stamp(stamp, sizeof stamp);
    for (int i = 1; i < 1000; i++) {
        if (i == 1)
            snprintf(out, outlen, "%s.%s-%s", path, tag, stamp);
        else
            snprintf(out, outlen, "%s.%s-%s-%d", path, tag, stamp, i);
        if (link(path, out) == 0) {
            *made = true;
            return 0;
        }
        if (errno != EEXIST)
            break;
    }
    snprintf(err, errlen, "cannot keep a copy of %s as %s: %s", path, out, strerror(errno));
    out[0] = '\0';
    return -1;
}

int oj_store_rebase_wal(const char *dir, const char *wal_path, const struct oj_snapshot_info *snap,
                        const char *keep_tag, char *kept, size_t keptlen, char *err,
                        size_t errlen)
{
    cJSON *op = oj_op_base(snap->id, snap->seq);
    size_t len = 0;
    char *line = op ? oj_wal_format(snap->seq + 1, oj_wall_ms(), op, &len) : NULL;
    cJSON_Delete(op);
    if (line == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char tmp[4300], keep[4400] = "";
    snprintf(tmp, sizeof tmp, "%s.tmp", wal_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, line, len) == (ssize_t)len && fsync(fd) == 0;
    int e = errno;
    free(line);
    if (fd >= 0)
        close(fd);
    if (!ok) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(e ? e : EIO));
        unlink(tmp);
        return -1;
    }
    bool made = false;
    if (keep_tag &&
        oj_store_keep_copy(wal_path, keep_tag, keep, sizeof keep, &made, err, errlen) != 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, wal_path) != 0) {
        snprintf(err, errlen, "cannot replace %s: %s", wal_path, strerror(errno));
        unlink(tmp);
        if (made)
            unlink(keep);
        return -1;
    }
    /* The new WAL is in place from here on: callers must not undo around it. */
    if (oj_fsync_dir(dir) != 0)
        LOG_ERROR("store: cannot fsync %s after replacing the WAL: %s", dir, strerror(errno));
    if (kept)
        snprintf(kept, keptlen, "%s", keep);
    return 0;
}
