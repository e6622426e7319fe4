/* runbook.h — pipelines and scheduled jobs, defined in JSON files in
 * .oj/runbooks/ (format in docs/runbooks.md). Parsing and validation are pure:
 * a runbook either loads whole or is refused with an error naming the file,
 * the place inside it and what is wrong. */
#ifndef OJ_RUNBOOK_H
#define OJ_RUNBOOK_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum oj_stuck_action { OJ_STUCK_NUDGE, OJ_STUCK_RESTART, OJ_STUCK_ESCALATE };

struct oj_stuck_step {
    enum oj_stuck_action action;
    int max; /* restart:N; 1 otherwise */
};

#define OJ_MAX_STUCK_STEPS 8

/* A runbook file larger than this is refused unread (a runaway generator
 * must not stall the daemon parsing it). */
#define OJ_RUNBOOK_MAX_BYTES (1024 * 1024)

/* The pause before a phase starts again when a `next` or `on_fail` loops back
 * to it: the default, and the least a runbook may ask for. */
#define OJ_LOOP_PAUSE_MS 1000

/* How long a pipeline's "setup" command may run unless its setup_timeout says. */
#define OJ_SETUP_TIMEOUT_MS (10 * 60 * 1000)

struct oj_phase_def {
    char *name;
    char *run;            /* shell step; NULL for an agent phase */
    char *agent_command;  /* agent phase: the command (template) */
    char *prompt;         /* agent phase: prompt text (template), or NULL */
    char *prompt_file;    /* agent phase: file with the prompt (template), or NULL */
    int64_t idle_timeout_ms;
    char *needs_input;    /* agent phase: its own prompt patterns (prompt.h), one a line, or NULL */
    struct oj_stuck_step on_stuck[OJ_MAX_STUCK_STEPS];
    int n_on_stuck;
    int64_t timeout_ms;   /* overall; 0 = none */
    char *lock;           /* e.g. "merge-lock", or NULL */
    char *next;           /* phase name, or "done" (default: the following phase, or done) */
    char *on_fail;        /* phase name, or "fail" (default) */
    bool rerun_after_crash; /* shell step cut off by a crash: run again (default) or fail */
    int64_t pause_ms;     /* a loop back into this phase waits this long first (>= 1 s) */
};

struct oj_pipeline_def {
    char *name;
    char *file;           /* the runbook it came from */
    char **inputs;
    int n_inputs;
    struct oj_phase_def *phases;
    int n_phases;
    char *notify;         /* command run on escalation (template), or NULL */
    char *setup;          /* run in a new workspace before its first phase (template), or NULL */
    int64_t setup_timeout_ms;
};

struct oj_job_def {
    char *name;
    char *file;
    int64_t every_ms;
    char *run;            /* a command, or NULL */
    char *pipeline;       /* or a pipeline to start */
    cJSON *inputs;        /* its inputs: {"name": "value"} */
    bool enabled;
};

struct oj_runbooks {
    struct oj_pipeline_def *pipelines;
    int n_pipelines;
    struct oj_job_def *jobs;
    int n_jobs;
    /* Set before parsing (the daemon's settings agent_idle_timeout and
     * phase_timeout): what a phase that names none gets. 0: the documented
     * defaults, 5 minutes of quiet and no overall limit. */
    int64_t default_idle_timeout_ms;
    int64_t default_timeout_ms;
};

/* Parses one runbook's text (file names the errors) into rb, adding to what
 * it holds. Returns 0, or -1 with "<file>: <place>: <what is wrong>" in err
 * (rb is then unchanged). A member whose name starts with "//" is a comment,
 * ignored in every object. */
int oj_runbook_parse(const char *file, const char *text, struct oj_runbooks *rb, char *err,
                     size_t errlen);

/* Reads one runbook file (the limits of oj_runbooks_load) and parses it
 * into rb. */
int oj_runbook_load_file(const char *path, struct oj_runbooks *rb, char *err, size_t errlen);

/* Loads every *.json in dir (a missing dir is no runbooks). A file over
 * OJ_RUNBOOK_MAX_BYTES, or one that is not a regular file, is an error. */
int oj_runbooks_load(const char *dir, struct oj_runbooks *rb, char *err, size_t errlen);

void oj_runbooks_free(struct oj_runbooks *rb);
const struct oj_pipeline_def *oj_runbooks_pipeline(const struct oj_runbooks *rb, const char *name);
const struct oj_phase_def *oj_pipeline_phase(const struct oj_pipeline_def *p, const char *name);

/* The placeholders every template may use besides the pipeline's inputs. */
extern const char *const oj_template_builtins[];
#endif
