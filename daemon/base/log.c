/* log.c — see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;
static bool log_stderr;
static enum oj_log_level log_level = OJ_LOG_INFO;
/* Under log_mu: where the file is, how big it is, when to rotate it. */
static char log_path[PATH_MAX];
static uint64_t log_size, log_max_bytes;
static unsigned log_keep;
static bool log_captures_stderr;
static pthread_mutex_t limit_mu = PTHREAD_MUTEX_INITIALIZER;

int oj_log_level_parse(const char *s, enum oj_log_level *out)
{
    if (s == NULL || *s == '\0') {
        *out = OJ_LOG_INFO;
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum oj_log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *oj_log_level_name(enum oj_log_level l) { return level_names[l]; }

/* Opens log_path into log_fd (the old one closed). Caller holds log_mu. */
static int open_locked(void)
{
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    log_size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
    if (log_captures_stderr)
        dup2(log_fd, STDERR_FILENO);
    return 0;
}

int oj_log_open(const char *path, enum oj_log_level level, bool also_stderr)
{
    pthread_mutex_lock(&log_mu);
    snprintf(log_path, sizeof log_path, "%s", path);
    int rc = open_locked();
    int e = errno;
    if (rc == 0) {
        log_level = level;
        log_stderr = also_stderr;
    }
    pthread_mutex_unlock(&log_mu);
    errno = e;
    return rc;
}

int oj_log_fd(void) { return log_fd; }

void oj_log_close(void)
{
    pthread_mutex_lock(&log_mu);
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
    log_captures_stderr = false;
    log_max_bytes = 0;
    pthread_mutex_unlock(&log_mu);
}

void oj_log_set_rotation(uint64_t max_bytes, unsigned keep)
{
    pthread_mutex_lock(&log_mu);
    log_max_bytes = max_bytes;
    log_keep = keep;
    pthread_mutex_unlock(&log_mu);
}

void oj_log_capture_stderr(void)
{
    pthread_mutex_lock(&log_mu);
    log_captures_stderr = true;
    if (log_fd >= 0)
        dup2(log_fd, STDERR_FILENO);
    pthread_mutex_unlock(&log_mu);
}

int oj_log_reopen(void)
{
    pthread_mutex_lock(&log_mu);
    int rc = log_path[0] ? open_locked() : 0;
    int e = errno;
    pthread_mutex_unlock(&log_mu);
    errno = e;
    return rc;
}

/* daemon.log -> daemon.log.1 -> ... -> daemon.log.<keep>, then a new file.
 * Caller holds log_mu. On failure the current file carries on. */
static void rotate_locked(void)
{
    char from[PATH_MAX + 16], to[PATH_MAX + 16];
    if (log_keep == 0) {
        if (ftruncate(log_fd, 0) == 0)
            log_size = 0;
        return;
    }
    for (unsigned i = log_keep; i > 1; i--) {
        snprintf(from, sizeof from, "%s.%u", log_path, i - 1);
        snprintf(to, sizeof to, "%s.%u", log_path, i);
        rename(from, to); /* a missing one is fine */
    }
    snprintf(to, sizeof to, "%s.1", log_path);
    if (rename(log_path, to) == 0)
        open_locked();
}

void oj_log(enum oj_log_level level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %s ", ts.tv_nsec / 1000000,
                  level_tags[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2; /* truncated entry still ends in a newline */
    line[n++] = '\n';

    int saved = errno;
    pthread_mutex_lock(&log_mu);
    if (log_fd >= 0 && log_max_bytes > 0 && log_size > 0 && log_size + (uint64_t)n > log_max_bytes)
        rotate_locked();
    if (log_fd >= 0 && write(log_fd, line, (size_t)n) < 0) {
        /* Nowhere better to report a failing log write; drop the entry. */
    } else {
        log_size += (uint64_t)n;
    }
    if (log_stderr && write(STDERR_FILENO, line, (size_t)n) < 0) {
    }
    pthread_mutex_unlock(&log_mu);
    errno = saved;
}

enum oj_log_limit_verdict oj_log_limit_check(struct oj_log_limit *l, int64_t now_ms,
                                             unsigned *report)
{
    *report = 0;
    if (l->in_window == 0 || now_ms - l->window_start_ms >= OJ_LOG_LIMIT_WINDOW_MS ||
        now_ms < l->window_start_ms) {
        l->window_start_ms = now_ms;
        l->in_window = 0;
    }
    if (l->in_window >= OJ_LOG_LIMIT_BURST) {
        l->suppressed++;
        return OJ_LOG_LIMIT_DROP;
    }
    l->in_window++;
    *report = l->suppressed;
    l->suppressed = 0;
    return l->in_window == OJ_LOG_LIMIT_BURST ? OJ_LOG_LIMIT_PASS_LAST : OJ_LOG_LIMIT_PASS;
}

void oj_log_limited(struct oj_log_limit *l, enum oj_log_level level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned report;
    pthread_mutex_lock(&limit_mu);
    enum oj_log_limit_verdict v =
        oj_log_limit_check(l, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &report);
    pthread_mutex_unlock(&limit_mu);
    if (v == OJ_LOG_LIMIT_DROP)
        return;
    char text[1800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char before[64] = "";
    if (report)
        snprintf(before, sizeof before, " (suppressed %u similar)", report);
    oj_log(level, "%s%s%s", text, before,
           v == OJ_LOG_LIMIT_PASS_LAST ? " (more like this within a minute are suppressed and "
                                         "counted)"
                                       : "");
}
