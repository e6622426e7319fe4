/* pidlock.h — the daemon's single-instance lock.
 *
 * Purpose: exactly one daemon per project, and a way for anyone to ask which
 * process that is without trusting a pid written by a process that may have
 * crashed.
 *
 * The daemon opens .oj/daemon.pid and takes a POSIX write lock (fcntl
 * F_SETLK) on the whole file *before* it touches any other file or socket,
 * then writes its pid into it and keeps the descriptor open for life. The
 * kernel drops the lock when the process dies, however it dies, so a pid file
 * left behind by `kill -9` never blocks a start. Clients ask with F_GETLK,
 * which names the process holding the lock (or none).
 *
 * Caveat of POSIX locks: closing *any* descriptor of the file in the holding
 * process drops its lock, so the daemon must never open daemon.pid again.
 */
#ifndef OJ_PIDLOCK_H
#define OJ_PIDLOCK_H
#include <sys/types.h>

/* Takes the lock and writes our pid. Returns the open descriptor (keep it),
 * -2 when another process holds it (its pid in *holder), or -1 on another
 * error (errno set). */
int oj_pidlock_acquire(const char *path, pid_t *holder);

/* Returns the pid of the process holding the lock, 0 when nobody does (or the
 * file does not exist), -1 on error. */
pid_t oj_pidlock_holder(const char *path);
#endif
