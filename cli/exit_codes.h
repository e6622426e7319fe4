/* exit_codes.h — what `oj` exits with. Documented in docs/cli.md; scripts rely
 * on these numbers, so they never change meaning. */
#ifndef OJ_EXIT_CODES_H
#define OJ_EXIT_CODES_H

enum oj_exit {
    OJ_EXIT_OK = 0,
    OJ_EXIT_FAILURE = 1,         /* the operation failed (daemon error, I/O error) */
    OJ_EXIT_USAGE = 2,           /* bad command line or bad argument value */
    OJ_EXIT_DAEMON_DOWN = 3,     /* no daemon is running for this project (or no project) */
    OJ_EXIT_NOT_FOUND = 4,       /* the named pipeline/session/lock/snapshot does not exist */
    OJ_EXIT_CONFLICT = 5,        /* refused because of current state (e.g. lock held by another) */
    OJ_EXIT_NOT_IMPLEMENTED = 6, /* the daemon does not implement this operation yet */
    OJ_EXIT_TIMEOUT = 7,         /* the daemon did not answer, or the operation timed out */
    OJ_EXIT_SHUTTING_DOWN = 8,   /* the daemon is stopping and refuses new work */
    OJ_EXIT_PERMISSION = 9,      /* the project's .oj/ or its daemon belongs to another user */
    /* the outcome of a pipeline waited for (oj pipeline wait, oj run --wait / --follow) */
    OJ_EXIT_PIPELINE_FAILED = 10,    /* it failed */
    OJ_EXIT_PIPELINE_CANCELLED = 11, /* it was cancelled */
    OJ_EXIT_NEEDS_HUMAN = 12,        /* it escalated: a human is needed */
};
#endif
