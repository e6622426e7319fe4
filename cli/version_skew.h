/* version_skew.h — a CLI and a daemon of different oj versions: every reply
 * names the daemon's version (ReplyFrame.daemon_version), the CLI says once
 * that they differ, and an rpc an older daemon does not know is explained
 * with the fix (restart the daemon). The rules are pure; the CLI's side
 * (remembering that it said so) is in cli_support.c. */
#ifndef OJ_VERSION_SKEW_H
#define OJ_VERSION_SKEW_H
#include <stdbool.h>
#include <stddef.h>

/* Compares dotted version numbers field by field ("0.10.0" > "0.9.1");
 * <0 when a is older, 0 the same, >0 newer. */
int oj_version_cmp(const char *a, const char *b);

/* The one-line note for a CLI of version `cli` talking to a daemon of
 * version `daemon` (empty: older than versioned replies) into buf; false
 * (buf untouched) when they are the same version. */
bool oj_version_note(const char *cli, const char *daemon, char *buf, size_t len);

/* The error for UNKNOWN_METHOD: the daemon's own message, its version and
 * what to do. */
void oj_unknown_method_error(const char *message, const char *cli, const char *daemon, char *buf,
                             size_t len);
#endif
