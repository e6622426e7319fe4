/* log.h — the daemon's log: .oj/logs/daemon.log, one line per entry,
 *   2026-11-28T15:16:49.123Z INFO  server: listening on ipc:///…/daemon.sock
 * Level from OJ_LOG_LEVEL (error, warn, info, debug; default info). Safe to
 * call from any thread; never blocks on anything but the file write. Bounded:
 * rotated past a size (OJ_LOG_MAX_SIZE, OJ_LOG_KEEP), reopened on SIGHUP. */
#ifndef OJ_LOG_H
#define OJ_LOG_H
#include <stdbool.h>
#include <stdint.h>

enum oj_log_level { OJ_LOG_ERROR = 0, OJ_LOG_WARN, OJ_LOG_INFO, OJ_LOG_DEBUG };

/* "error", "warn", "info", "debug" (case-insensitive); NULL or "" means info.
 * Returns 0, or -1 for anything else. */
int oj_log_level_parse(const char *s, enum oj_log_level *out);
const char *oj_log_level_name(enum oj_log_level l);

/* Opens (appends to) `path`. With `also_stderr`, entries are copied to stderr
 * (foreground mode). Returns 0 or -1 with errno set. */
int oj_log_open(const char *path, enum oj_log_level level, bool also_stderr);
int oj_log_fd(void); /* the log file's descriptor */
void oj_log_close(void);

/* Size cap: an entry that would take the file past max_bytes first rotates
 * it: <path>.<keep-1> -> <path>.<keep>, ..., <path> -> <path>.1, then a new
 * <path>. keep = 0 starts the file afresh without keeping the old one;
 * max_bytes = 0 never rotates. */
void oj_log_set_rotation(uint64_t max_bytes, unsigned keep);

/* Points stderr at the log file, now and after every rotation or reopen
 * (crash and sanitizer reports land in the log). */
void oj_log_capture_stderr(void);

/* Closes and reopens the file by its path (SIGHUP: an external logrotate
 * moved it away). Returns 0 or -1 with errno set (the old file stays). */
int oj_log_reopen(void);

/* Rate limit for a warning that can repeat without bound (one per garbage
 * frame): at most OJ_LOG_LIMIT_BURST entries per OJ_LOG_LIMIT_WINDOW_MS for
 * one call site; the rest are counted and the next entry let through says
 * how many were suppressed. Pure: the caller gives the time. */
#define OJ_LOG_LIMIT_BURST 10
#define OJ_LOG_LIMIT_WINDOW_MS 60000
struct oj_log_limit {
    int64_t window_start_ms;
    unsigned in_window;  /* entries let through in this window */
    unsigned suppressed; /* entries dropped since the last one let through */
};
enum oj_log_limit_verdict {
    OJ_LOG_LIMIT_PASS,      /* write it */
    OJ_LOG_LIMIT_PASS_LAST, /* write it, and say the next ones are suppressed */
    OJ_LOG_LIMIT_DROP,      /* count it, write nothing */
};
/* On PASS and PASS_LAST, *report is how many were suppressed before this
 * one (to say so), and the count starts again. */
enum oj_log_limit_verdict oj_log_limit_check(struct oj_log_limit *l, int64_t now_ms,
                                             unsigned *report);

void oj_log_limited(struct oj_log_limit *l, enum oj_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void oj_log(enum oj_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_ERROR(...) oj_log(OJ_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...) oj_log(OJ_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) oj_log(OJ_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) oj_log(OJ_LOG_DEBUG, __VA_ARGS__)
/* A warning rate-limited per call site (see oj_log_limit_check). */
#define LOG_WARN_LIMITED(...)                                                                     \
    do {                                                                                          \
        static struct oj_log_limit limit_;                                                        \
        oj_log_limited(&limit_, OJ_LOG_WARN, __VA_ARGS__);                                        \
    } while (0)
#endif
