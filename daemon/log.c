/* log.c — see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;
static bool log_stderr;
static enum oj_log_level log_level = OJ_LOG_INFO;

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

int oj_log_open(const char *path, enum oj_log_level level, bool also_stderr)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    pthread_mutex_lock(&log_mu);
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
    log_level = level;
    log_stderr = also_stderr;
    pthread_mutex_unlock(&log_mu);
    return 0;
}

int oj_log_fd(void) { return log_fd; }

void oj_log_close(void)
{
    pthread_mutex_lock(&log_mu);
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
    pthread_mutex_unlock(&log_mu);
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
    if (log_fd >= 0 && write(log_fd, line, (size_t)n) < 0) {
        /* Nowhere better to report a failing log write; drop the entry. */
    }
    if (log_stderr && write(STDERR_FILENO, line, (size_t)n) < 0) {
    }
    pthread_mutex_unlock(&log_mu);
    errno = saved;
}
