/* session_output.c — a session's screen and log, for `oj session capture`
 * (see sessions_engine.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log_text.h"
#include "session_live.h"
#include "sessions_engine.h"
#include "tmux.h"

#define RANGE_MAX (16u * 1024 * 1024)

static uint64_t log_size(const struct oj_session *s)
{
    int64_t mtime;
    uint64_t size;
    oj_session_log_stat(s->log, &mtime, &size);
    return size;
}

int oj_session_log_range(const struct oj_session *s, uint64_t from, uint64_t to, uint8_t **buf,
                         size_t *len, uint64_t *end)
{
    uint64_t size = log_size(s);
    if (to == 0 || to > size)
        to = size;
    if (from > to)
        from = to;
    if (to - from > RANGE_MAX)
        to = from + RANGE_MAX;
    *buf = malloc(to - from + 1);
    if (*buf == NULL)
        return -1;
    int fd = open(s->log, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, *buf, to - from, (off_t)from) : 0;
    if (fd >= 0)
        close(fd);
    if (n < 0)
        n = 0;
    *len = (size_t)n;
    *end = from + (uint64_t)n;
    return 0;
}

#define LOG_TEXT_READ_MAX (1u << 20)

/* An ended session's last lines from its log (its pane is gone once its
 * output is in the log): the log's last MiB at most, as text (log_text.h).
 * malloc'd, or NULL with err. */
static char *log_tail_text(const struct oj_session *s, uint64_t size, unsigned lines, char *err,
                           size_t errlen)
{
    uint64_t from = size > LOG_TEXT_READ_MAX ? size - LOG_TEXT_READ_MAX : 0;
    char *raw = malloc(size - from + 1);
    if (raw == NULL) {
        snprintf(err, errlen, "daemon out of memory");
        return NULL;
    }
    ssize_t n = 0; /* no log at all: a session that never started has no output */
    int fd = open(s->log, O_RDONLY | O_CLOEXEC), e = errno;
    if (fd >= 0) {
        n = pread(fd, raw, size - from, (off_t)from);
        e = errno;
        close(fd);
    }
    if (n < 0 || (fd < 0 && e != ENOENT)) {
        snprintf(err, errlen, "cannot read %s, the output of the ended session: %s", s->log,
                 strerror(e));
        free(raw);
        return NULL;
    }
    char *text = oj_log_text(raw, (size_t)n, lines, from > 0);
    free(raw);
    if (text == NULL)
        snprintf(err, errlen, "daemon out of memory");
    return text;
}

int oj_session_screen(struct oj_daemon *d, const char *id, const struct oj_session *s,
                      unsigned lines, char **text, uint64_t *log_offset, char *err,
                      size_t errlen)
{
    *text = NULL;
    /* The log size first: whatever the screen shows is at or before it. */
    *log_offset = log_size(s);
    if (oj_tmux_capture(d->paths.tmux_sock_path, id, lines, text, err, errlen) == 0)
        return 0;
    if (s->state != OJ_SESSION_DEAD)
        return -1;
    *text = log_tail_text(s, *log_offset, lines, err, errlen);
    return *text ? 0 : -1;
}
