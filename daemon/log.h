/* log.h — the daemon's log: .oj/logs/daemon.log, one line per entry,
 *   2026-11-28T15:16:49.123Z INFO  server: listening on ipc:///…/daemon.sock
 * Level from OJ_LOG_LEVEL (error, warn, info, debug; default info). Safe to
 * call from any thread; never blocks on anything but the file write. */
#ifndef OJ_LOG_H
#define OJ_LOG_H
#include <stdbool.h>

enum oj_log_level { OJ_LOG_ERROR = 0, OJ_LOG_WARN, OJ_LOG_INFO, OJ_LOG_DEBUG };

/* "error", "warn", "info", "debug" (case-insensitive); NULL or "" means info.
 * Returns 0, or -1 for anything else. */
int oj_log_level_parse(const char *s, enum oj_log_level *out);
const char *oj_log_level_name(enum oj_log_level l);

/* Opens (appends to) `path`. With `also_stderr`, entries are copied to stderr
 * (foreground mode). Returns 0 or -1 with errno set. */
int oj_log_open(const char *path, enum oj_log_level level, bool also_stderr);
int oj_log_fd(void); /* the log file's descriptor, for redirecting stderr into it */
void oj_log_close(void);

void oj_log(enum oj_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_ERROR(...) oj_log(OJ_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...) oj_log(OJ_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) oj_log(OJ_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) oj_log(OJ_LOG_DEBUG, __VA_ARGS__)
#endif
