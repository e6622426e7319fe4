/* fsutil.c — see fsutil.h. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int oj_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int oj_write_atomic(const char *path, const struct iovec *iov, int iovcnt, char *err,
                    size_t errlen)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp ||
        snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        snprintf(err, errlen, "path too long: %.200s", path);
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %.400s: %s", tmp, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < iovcnt && rc == 0; i++)
        rc = write_all(fd, iov[i].iov_base, iov[i].iov_len);
    if (rc == 0)
        rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %.400s: %s", tmp, strerror(e));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0 || oj_fsync_dir(dir) != 0) {
        snprintf(err, errlen, "cannot put %.400s in place: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
