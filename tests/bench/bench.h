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
/* The floors of the durable-changes figures (bench_floor.c): a bare nng
 * req/rep server in this process that only echoes (FLOOR_ECHO), or that
 * writes 200 bytes per request into a prefilled file and acknowledges after
 * a group-commit fdatasync, through a commit thread and a sync thread as the
 * daemon does (FLOOR_COMMIT). `clients` clients (at most 16) do `each`
 * requests after a warm-up; the first client's round-trip times go to us
 * (microseconds; may be NULL). Requests per second, or -1. Uses files in dir. */
enum bench_floor_kind { FLOOR_ECHO, FLOOR_COMMIT };
double bench_floor_run(const char *dir, enum bench_floor_kind kind, int clients, int each,
                       double *us);

/* Cost as work grows (bench_tick.c, bench_finished.c, bench_memory.c,
 * bench_crc.c): the tick's CPU with 10, 100 and 1,000 idle pipelines and with
 * 10,000 finished ones; `oj pipeline list` and `oj status` with 10,000
 * finished pipelines, and the client's own start-up; the daemon's memory per
 * record, after replaying history and after a compaction; oj_crc32 (zlib)
 * against the slicing-by-8 code it replaced. Each prints its section; false
 * on failure. */
bool bench_tick_report(void);
bool bench_finished_report(void);
bool bench_memory_report(void);
bool bench_crc_report(void);

/* Status p99 while one slow git, tmux or restore runs, against Status p99
 * with nothing slow running (the engine never waits). Prints its section;
 * false on failure. */
bool bench_nowait_report(void);

/* The dashboard: its bundle's bytes (and gzip'ed), and its first paint with 100
 * pipelines in a headless Chromium against the page's own load (bench_dashboard.c).
 * Prints its section; false on failure. */
bool bench_dashboard_report(void);
#endif
