/* fsutil.h — durable file updates, the one way oj replaces a file: write a
 * temp file beside it, fsync it, rename it over the target, fsync the
 * directory. A crash leaves the old file or the new one, never a mix. */
#ifndef OJ_FSUTIL_H
#define OJ_FSUTIL_H
#include <stddef.h>
#include <sys/uio.h>

/* fsync of a directory, so a rename or unlink in it is durable. 0 or -1. */
int oj_fsync_dir(const char *dir);

/* Writes the pieces in iov to `path` atomically as above (mode 0600).
 * Returns 0, or -1 with a one-line reason in err. */
int oj_write_atomic(const char *path, const struct iovec *iov, int iovcnt, char *err,
                    size_t errlen);
#endif
