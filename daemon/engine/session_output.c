/* session_output.c — a session's screen and log, for `oj session capture`
 * (see sessions_engine.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "engine_work.h"
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

uint64_t oj_session_log_range_size(const struct oj_session *s, uint64_t from, uint64_t to)
{
    uint64_t size = log_size(s);
    if (to == 0 || to > size)
        to = size;
    if (from > to)
        from = to;
    return to - from > RANGE_MAX ? RANGE_MAX : to - from;
}

int oj_log_range(const char *log, uint64_t from, uint64_t to, uint8_t **buf, size_t *len,
                 uint64_t *end)
{
    int64_t mtime;
    uint64_t size;
    oj_session_log_stat(log, &mtime, &size);
    if (to == 0 || to > size)
        to = size;
    if (from > to)
        from = to;
    if (to - from > RANGE_MAX)
        to = from + RANGE_MAX;
    *buf = malloc(to - from + 1);
    if (*buf == NULL)
        return -1;
    int fd = open(log, O_RDONLY | O_CLOEXEC);
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

/* A capture for the tmux queue: copies of what it needs. */
struct screen_job {
    char sock[PATH_MAX], id[64];
    struct oj_session s;
    unsigned lines;
    oj_session_shown shown;
    void *arg;
};

static void screen_work(void *arg)
{
    struct screen_job *j = arg;
    char err[512] = "", *text = NULL;
    /* The log size first: whatever the screen shows is at or before it. */
    uint64_t log_offset = log_size(&j->s);
    bool dead = false;
    int rc = oj_tmux_capture(j->sock, j->id, j->lines, &text, &dead, err, sizeof err);
    /* An ended session's output is its log: its pane is gone once the log
     * has it all, and until then (the record may not say dead yet) a dead
     * pane's screen shows tmux's "Pane is dead" line instead of the first
     * line it scrolled away, and a pane dies only once its command's last
     * output is in the log (the end mark, tmux.h; a command that ends the
     * shell itself skips that wait). */
    if ((rc != 0 && j->s.state == OJ_SESSION_DEAD) || (rc == 0 && dead)) {
        free(text);
        log_offset = log_size(&j->s);
        text = log_tail_text(&j->s, log_offset, j->lines, err, sizeof err);
        rc = text ? 0 : -1;
    }
    j->shown(j->arg, rc, rc == 0 ? text : NULL, rc == 0 ? log_offset : 0, err);
    free(text);
    oj_session_clear(&j->s);
    free(j);
}

int oj_session_screen(struct oj_daemon *d, const char *id, const struct oj_session *s,
                      unsigned lines, oj_session_shown shown, void *arg, char *err,
                      size_t errlen)
{
    struct screen_job *j = calloc(1, sizeof *j);
    if (j == NULL || oj_session_copy(&j->s, s) != 0) {
        free(j);
        snprintf(err, errlen, "daemon out of memory");
        return -1;
    }
    snprintf(j->sock, sizeof j->sock, "%s", d->paths.tmux_sock_path);
    snprintf(j->id, sizeof j->id, "%s", id);
    j->lines = lines;
    j->shown = shown;
    j->arg = arg;
    if (oj_engine_work(d, OJ_LANE_TMUX, 0, screen_work, NULL, j) == 0) {
        oj_session_clear(&j->s);
        free(j);
        snprintf(err, errlen, "daemon out of memory");
        return -1;
    }
    return 0;
}
