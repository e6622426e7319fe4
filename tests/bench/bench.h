/* bench.h — sections of the `make bench` report, one file each. */
#ifndef OJ_BENCH_H
#define OJ_BENCH_H
#include <stdbool.h>

/* Durable changes per second (1 and 8 clients) against the raw fdatasync rate,
 * and start-up time with 100,000 and 1,000,000 WAL records against parsing the
 * same file with cJSON alone. Prints its section; false on failure. */
bool bench_store_report(void);

/* Follow latency (an agent writes a line -> `oj session capture --follow`
 * prints it), p50 and p99; the daemon's CPU with 10 idle sessions over
 * OJ_BENCH_IDLE_SECONDS (default 60). Prints its section; false on failure. */
bool bench_sessions_report(void);

/* `oj run` until the agent's first line and its answer to the prompt, p50/p95/
 * max, against bare tmux starting the same agent; the daemon's CPU and RSS
 * with 10 pipelines whose agents sit idle over OJ_BENCH_PIPELINE_SECONDS
 * (default 15), against 10 plain sessions of the same agent. Prints its
 * section; false on failure. */
bool bench_pipelines_report(void);

/* Status p99 while one slow git, tmux or restore runs, against Status p99
 * with nothing slow running (the engine never waits). Prints its section;
 * false on failure. */
bool bench_nowait_report(void);
#endif
