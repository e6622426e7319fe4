/* runbook.c — see runbook.h. */
#include "runbook.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "duration.h"
#include "locks.h"
#include "prompt.h"
#include "template.h"

const char *const oj_template_builtins[] = {"pipeline", "id",    "workspace",        "branch",
                                            "phase",    "project", "prompt_file_path", NULL};

struct ctx {
    const char *file;
    char *err;
    size_t errlen;
    int64_t default_idle_timeout_ms, default_timeout_ms; /* oj_runbooks' defaults */
};

static int fail(struct ctx *c, const char *place, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, const char *place, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s: %s", c->file, place, what);
    return -1;
}

static char *dup_or_null(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static bool good_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

/* Members allowed in an object: anything else is a typo worth reporting. */
static int only(struct ctx *c, const char *place, const cJSON *o, const char *const allowed[])
{
    for (const cJSON *m = o->child; m; m = m->next) {
        bool ok = false;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], m->string) == 0;
        if (!ok)
            return fail(c, place, "unknown member \"%s\"", m->string);
    }
    return 0;
}

static int duration(struct ctx *c, const char *place, const cJSON *o, const char *key,
                    int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = 0;
    if (v == NULL)
        return 0;
    char where[300];
    snprintf(where, sizeof where, "%.200s.%.60s", place, key);
    int rc = cJSON_IsString(v) ? oj_duration_parse(v->valuestring, out) : -1;
    if (rc == OJ_DURATION_NO_UNIT) /* once read as seconds: say so, the fix is one letter */
        return fail(c, where,
                    "\"%.40s\" needs a unit (a bare number is no longer read as seconds); "
                    "write \"%.40ss\", \"%.40sm\" or \"%.40sh\"",
                    v->valuestring, v->valuestring, v->valuestring, v->valuestring);
    if (rc != 0)
        return fail(c, where, "not a duration; write it like \"90s\", \"5m\" or \"2h\"");
    return 0;
}

static int string_or_absent(struct ctx *c, const char *place, const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v && (!cJSON_IsString(v) || v->valuestring[0] == '\0')) {
        char where[300];
        snprintf(where, sizeof where, "%.200s.%.60s", place, key);
        return fail(c, where, "must be a non-empty string");
    }
    return 0;
}

static int check_template(struct ctx *c, const char *place, const char *tmpl,
                          const struct oj_pipeline_def *p)
{
    if (tmpl == NULL)
        return 0;
    const char *known[64];
    int n = 0;
    for (int i = 0; oj_template_builtins[i] && n < 60; i++)
        known[n++] = oj_template_builtins[i];
    for (int i = 0; p && i < p->n_inputs && n < 63; i++)
        known[n++] = p->inputs[i];
    known[n] = NULL;
    char why[200];
    if (oj_template_check(tmpl, known, why, sizeof why) != 0)
        return fail(c, place, "%s", why);
    return 0;
}

static int parse_stuck(struct ctx *c, const char *place, const cJSON *a, struct oj_phase_def *ph)
{
    if (a == NULL) { /* the default chain: nudge, restart once, escalate */
        ph->on_stuck[0] = (struct oj_stuck_step){OJ_STUCK_NUDGE, 1};
        ph->on_stuck[1] = (struct oj_stuck_step){OJ_STUCK_RESTART, 1};
        ph->on_stuck[2] = (struct oj_stuck_step){OJ_STUCK_ESCALATE, 1};
        ph->n_on_stuck = 3;
        return 0;
    }
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0 ||
        cJSON_GetArraySize(a) > OJ_MAX_STUCK_STEPS)
        return fail(c, place, "must be a list of 1 to %d steps: \"nudge\", \"restart[:N]\", "
                              "\"escalate\"",
                    OJ_MAX_STUCK_STEPS);
    const cJSON *s;
    cJSON_ArrayForEach(s, a)
    {
        struct oj_stuck_step st = {OJ_STUCK_NUDGE, 1};
        const char *v = cJSON_IsString(s) ? s->valuestring : "";
        if (strcmp(v, "nudge") == 0)
            st.action = OJ_STUCK_NUDGE;
        else if (strcmp(v, "escalate") == 0)
            st.action = OJ_STUCK_ESCALATE;
        else if (strcmp(v, "restart") == 0)
            st.action = OJ_STUCK_RESTART;
        else if (strncmp(v, "restart:", 8) == 0 && atoi(v + 8) >= 1 && atoi(v + 8) <= 100) {
            st.action = OJ_STUCK_RESTART;
            st.max = atoi(v + 8);
        } else
            return fail(c, place, "step \"%s\" is not nudge, restart, restart:N (1-100) or escalate",
                        v);
        ph->on_stuck[ph->n_on_stuck++] = st;
    }
    return 0;
}

/* An agent's "needs_input": a list of prompt patterns (prompt.h), kept one a
 * line. */
static int parse_needs_input(struct ctx *c, const char *place, const cJSON *a,
                             struct oj_phase_def *ph)
{
    if (a == NULL)
        return 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > OJ_PROMPT_MAX_PATTERNS)
        return fail(c, place, "must be a list of at most %d patterns: substrings, or "
                              "\"/regex/\"", OJ_PROMPT_MAX_PATTERNS);
    size_t len = 1;
    const cJSON *s;
    cJSON_ArrayForEach(s, a)
    {
        char why[256];
        if (!cJSON_IsString(s))
            return fail(c, place, "each pattern is a string: a substring, or \"/regex/\"");
        const char *bad = oj_prompt_pattern_problem(s->valuestring, why, sizeof why);
        if (bad)
            return fail(c, place, "pattern \"%.80s\": %s", s->valuestring, bad);
        len += strlen(s->valuestring) + 1;
    }
    if (cJSON_GetArraySize(a) == 0)
        return 0;
    if ((ph->needs_input = calloc(1, len)) == NULL)
        return fail(c, place, "out of memory");
    cJSON_ArrayForEach(s, a)
    {
        if (ph->needs_input[0])
            strcat(ph->needs_input, "\n");
        strcat(ph->needs_input, s->valuestring);
    }
    return 0;
}

static void free_phase(struct oj_phase_def *ph)
{
    free(ph->name);
    free(ph->run);
    free(ph->agent_command);
    free(ph->prompt);
    free(ph->prompt_file);
    free(ph->needs_input);
    free(ph->lock);
    free(ph->next);
    free(ph->on_fail);
}

static void free_pipeline(struct oj_pipeline_def *p)
{
    free(p->name);
    free(p->file);
    for (int i = 0; i < p->n_inputs; i++)
        free(p->inputs[i]);
    free(p->inputs);
    for (int i = 0; i < p->n_phases; i++)
        free_phase(&p->phases[i]);
    free(p->phases);
    free(p->notify);
    free(p->setup);
}

static int parse_phase(struct ctx *c, const char *place, const cJSON *o, struct oj_phase_def *ph,
                       const struct oj_pipeline_def *p)
{
    static const char *const allowed[] = {"name", "run",     "agent",       "timeout", "lock",
                                          "next", "on_fail", "after_crash", "pause",   NULL};
    static const char *const agent_allowed[] = {"command",  "prompt",   "prompt_file",
                                                "idle_timeout", "on_stuck", "needs_input",
                                                NULL};
    if (!cJSON_IsObject(o))
        return fail(c, place, "a phase is an object");
    if (only(c, place, o, allowed) != 0 || string_or_absent(c, place, o, "name") != 0 ||
        string_or_absent(c, place, o, "run") != 0 || string_or_absent(c, place, o, "lock") != 0 ||
        string_or_absent(c, place, o, "next") != 0 || string_or_absent(c, place, o, "on_fail") != 0)
        return -1;
    ph->name = dup_or_null(o, "name");
    if (ph->name == NULL)
        return fail(c, place, "a phase needs a \"name\"");
    if (!good_name(ph->name))
        return fail(c, place, "phase name \"%s\" may use only letters, digits, '-' and '_'",
                    ph->name);
    const cJSON *agent = cJSON_GetObjectItemCaseSensitive(o, "agent");
    ph->run = dup_or_null(o, "run");
    if ((ph->run != NULL) == (agent != NULL))
        return fail(c, place, "a phase has exactly one of \"run\" (a shell step) or \"agent\"");
    char where[300];
    if (agent) {
        snprintf(where, sizeof where, "%.200s.agent", place);
        if (!cJSON_IsObject(agent))
            return fail(c, where, "an object with \"command\" and a prompt");
        if (only(c, where, agent, agent_allowed) != 0 ||
            string_or_absent(c, where, agent, "command") != 0 ||
            string_or_absent(c, where, agent, "prompt") != 0 ||
            string_or_absent(c, where, agent, "prompt_file") != 0)
            return -1;
        ph->agent_command = dup_or_null(agent, "command");
        ph->prompt = dup_or_null(agent, "prompt");
        ph->prompt_file = dup_or_null(agent, "prompt_file");
        if (ph->agent_command == NULL)
            return fail(c, where, "an agent needs a \"command\"");
        if (ph->prompt && ph->prompt_file)
            return fail(c, where, "give \"prompt\" or \"prompt_file\", not both");
        if (duration(c, where, agent, "idle_timeout", &ph->idle_timeout_ms) != 0)
            return -1;
        if (ph->idle_timeout_ms == 0) /* the setting agent_idle_timeout, else 5 minutes */
            ph->idle_timeout_ms =
                c->default_idle_timeout_ms > 0 ? c->default_idle_timeout_ms : 5 * 60 * 1000;
        char w2[300];
        snprintf(w2, sizeof w2, "%.200s.needs_input", where);
        if (parse_needs_input(c, w2, cJSON_GetObjectItemCaseSensitive(agent, "needs_input"),
                              ph) != 0)
            return -1;
        snprintf(w2, sizeof w2, "%.200s.on_stuck", where);
        if (parse_stuck(c, w2, cJSON_GetObjectItemCaseSensitive(agent, "on_stuck"), ph) != 0)
            return -1;
        snprintf(w2, sizeof w2, "%.200s.command", where);
        if (check_template(c, w2, ph->agent_command, p) != 0)
            return -1;
        snprintf(w2, sizeof w2, "%.200s.prompt", where);
        if (check_template(c, w2, ph->prompt, p) != 0)
            return -1;
        snprintf(w2, sizeof w2, "%.200s.prompt_file", where);
        if (check_template(c, w2, ph->prompt_file, p) != 0)
            return -1;
    } else {
        snprintf(where, sizeof where, "%.200s.run", place);
        if (check_template(c, where, ph->run, p) != 0)
            return -1;
    }
    if (duration(c, place, o, "timeout", &ph->timeout_ms) != 0)
        return -1;
    if (ph->timeout_ms == 0) /* the setting phase_timeout, else none */
        ph->timeout_ms = c->default_timeout_ms;
    ph->lock = dup_or_null(o, "lock");
    /* The rule of `oj lock`: a lock a pipeline holds is one an operator can
     * name, look at and free. */
    const char *bad_lock = ph->lock ? oj_lock_name_problem(ph->lock) : NULL;
    if (bad_lock) {
        snprintf(where, sizeof where, "%.200s.lock", place);
        return fail(c, where, "\"%.80s\": %s", ph->lock, bad_lock);
    }
    if (duration(c, place, o, "pause", &ph->pause_ms) != 0)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "pause") && ph->pause_ms < OJ_LOOP_PAUSE_MS) {
        snprintf(where, sizeof where, "%.200s.pause", place);
        return fail(c, where, "at least \"1s\": a loop back into a phase waits between passes");
    }
    if (ph->pause_ms == 0)
        ph->pause_ms = OJ_LOOP_PAUSE_MS;
    ph->next = dup_or_null(o, "next");
    ph->on_fail = dup_or_null(o, "on_fail");
    ph->rerun_after_crash = true;
    const cJSON *ac = cJSON_GetObjectItemCaseSensitive(o, "after_crash");
    if (ac) {
        if (!cJSON_IsString(ac) ||
            (strcmp(ac->valuestring, "rerun") != 0 && strcmp(ac->valuestring, "fail") != 0))
            return fail(c, place, "\"after_crash\" is \"rerun\" (default) or \"fail\"");
        ph->rerun_after_crash = strcmp(ac->valuestring, "rerun") == 0;
    }
    return 0;
}

static int parse_pipeline(struct ctx *c, const cJSON *o, struct oj_pipeline_def *p)
{
    char place[200];
    snprintf(place, sizeof place, "pipelines.%.100s", o->string);
    static const char *const allowed[] = {"inputs", "phases", "notify", "setup",
                                          "setup_timeout", NULL};
    if (!good_name(o->string))
        return fail(c, place, "pipeline names use only letters, digits, '-' and '_'");
    if (!cJSON_IsObject(o))
        return fail(c, place, "a pipeline is an object with \"inputs\" and \"phases\"");
    if (only(c, place, o, allowed) != 0 || string_or_absent(c, place, o, "notify") != 0 ||
        string_or_absent(c, place, o, "setup") != 0)
        return -1;
    p->name = strdup(o->string);
    p->file = strdup(c->file);
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(o, "inputs");
    if (inputs) {
        char where[220];
        snprintf(where, sizeof where, "%.180s.inputs", place);
        if (!cJSON_IsArray(inputs))
            return fail(c, where, "a list of input names");
        p->inputs = calloc((size_t)cJSON_GetArraySize(inputs) + 1, sizeof *p->inputs);
        const cJSON *in;
        cJSON_ArrayForEach(in, inputs)
        {
            if (!cJSON_IsString(in) || !good_name(in->valuestring))
                return fail(c, where, "input names use only letters, digits, '-' and '_'");
            for (int k = 0; oj_template_builtins[k]; k++)
                if (strcmp(oj_template_builtins[k], in->valuestring) == 0)
                    return fail(c, where, "\"%s\" is a built-in placeholder; pick another name",
                                in->valuestring);
            for (int k = 0; k < p->n_inputs; k++)
                if (strcmp(p->inputs[k], in->valuestring) == 0)
                    return fail(c, where, "input \"%s\" is listed twice", in->valuestring);
            p->inputs[p->n_inputs++] = strdup(in->valuestring);
        }
    }
    const cJSON *phases = cJSON_GetObjectItemCaseSensitive(o, "phases");
    char where[220];
    snprintf(where, sizeof where, "%.180s.phases", place);
    if (!cJSON_IsArray(phases) || cJSON_GetArraySize(phases) == 0)
        return fail(c, where, "a pipeline needs a non-empty list of phases");
    p->phases = calloc((size_t)cJSON_GetArraySize(phases), sizeof *p->phases);
    const cJSON *ph;
    cJSON_ArrayForEach(ph, phases)
    {
        char w2[240];
        snprintf(w2, sizeof w2, "%.200s[%d]", where, p->n_phases);
        struct oj_phase_def *def = &p->phases[p->n_phases++];
        if (parse_phase(c, w2, ph, def, p) != 0)
            return -1;
        for (int k = 0; k < p->n_phases - 1; k++)
            if (strcmp(p->phases[k].name, def->name) == 0)
                return fail(c, w2, "phase name \"%s\" is used twice", def->name);
    }
    /* Every next/on_fail names a phase, "done" or "fail". */
    for (int i = 0; i < p->n_phases; i++) {
        const struct oj_phase_def *d = &p->phases[i];
        char w2[240];
        snprintf(w2, sizeof w2, "%.200s[%d]", where, i);
        /* "fail" as next: a clean-up phase after a failure still ends failed */
        if (d->next && strcmp(d->next, "done") != 0 && strcmp(d->next, "fail") != 0 &&
            !oj_pipeline_phase(p, d->next))
            return fail(c, w2, "\"next\": no phase \"%s\" (or write \"done\" or \"fail\")",
                        d->next);
        if (d->on_fail && strcmp(d->on_fail, "fail") != 0 && !oj_pipeline_phase(p, d->on_fail))
            return fail(c, w2, "\"on_fail\": no phase \"%s\" (or write \"fail\")", d->on_fail);
    }
    p->notify = dup_or_null(o, "notify");
    if (check_template(c, place, p->notify, p) != 0)
        return -1;
    p->setup = dup_or_null(o, "setup");
    if (p->setup && p->setup[strspn(p->setup, " \t\n")] == '\0')
        return fail(c, place, "\"setup\" is a shell command; leave it out to have none");
    if (check_template(c, place, p->setup, p) != 0)
        return -1;
    if (duration(c, place, o, "setup_timeout", &p->setup_timeout_ms) != 0)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "setup_timeout") && p->setup == NULL)
        return fail(c, place, "\"setup_timeout\" is for a \"setup\" command; add one or drop it");
    if (p->setup_timeout_ms == 0)
        p->setup_timeout_ms = OJ_SETUP_TIMEOUT_MS; /* documented default */
    return 0;
}

static int parse_job(struct ctx *c, const cJSON *o, struct oj_job_def *j)
{
    char place[200];
    snprintf(place, sizeof place, "jobs.%.100s", o->string);
    static const char *const allowed[] = {"every", "run", "pipeline", "inputs", "enabled", NULL};
    if (!good_name(o->string))
        return fail(c, place, "job names use only letters, digits, '-' and '_'");
    if (!cJSON_IsObject(o))
        return fail(c, place, "a job is an object with \"every\" and \"run\" or \"pipeline\"");
    if (only(c, place, o, allowed) != 0 || string_or_absent(c, place, o, "run") != 0 ||
        string_or_absent(c, place, o, "pipeline") != 0)
        return -1;
    j->name = strdup(o->string);
    j->file = strdup(c->file);
    if (duration(c, place, o, "every", &j->every_ms) != 0)
        return -1;
    if (j->every_ms < 1000)
        return fail(c, place, "\"every\" is required, at least \"1s\"");
    j->run = dup_or_null(o, "run");
    j->pipeline = dup_or_null(o, "pipeline");
    if ((j->run != NULL) == (j->pipeline != NULL))
        return fail(c, place, "a job has exactly one of \"run\" (a command) or \"pipeline\"");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "inputs");
    if (in && (!cJSON_IsObject(in) || j->pipeline == NULL))
        return fail(c, place, "\"inputs\" is an object of input values, for a \"pipeline\" job");
    j->inputs = in ? cJSON_Duplicate(in, 1) : cJSON_CreateObject();
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "enabled");
    if (en && !cJSON_IsBool(en))
        return fail(c, place, "\"enabled\" is true or false");
    j->enabled = en ? cJSON_IsTrue(en) : true;
    return 0;
}

static void free_job(struct oj_job_def *j)
{
    free(j->name);
    free(j->file);
    free(j->run);
    free(j->pipeline);
    cJSON_Delete(j->inputs);
}

/* Members named "//..." are comments (JSON has none): dropped from every
 * object before anything looks at it. */
static void drop_comments(cJSON *node)
{
    cJSON *m = node->child;
    while (m) {
        cJSON *next = m->next;
        if (cJSON_IsObject(node) && m->string && strncmp(m->string, "//", 2) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(node, m));
        else
            drop_comments(m);
        m = next;
    }
}

int oj_runbook_parse(const char *file, const char *text, struct oj_runbooks *rb, char *err,
                     size_t errlen)
{
    struct ctx c = {file, err, errlen, rb->default_idle_timeout_ms, rb->default_timeout_ms};
    const char *where = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &where, 1);
    if (root == NULL) {
        int line = 1, col = 1;
        for (const char *p = text; where && p < where; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        snprintf(err, errlen, "%s: line %d, column %d: not valid JSON", file, line, col);
        return -1;
    }
    drop_comments(root);
    static const char *const allowed[] = {"pipelines", "jobs", NULL};
    const cJSON *pipelines = cJSON_GetObjectItemCaseSensitive(root, "pipelines");
    const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(root, "jobs");
    int np = cJSON_GetArraySize(pipelines), nj = cJSON_GetArraySize(jobs);
    struct oj_pipeline_def *ps = calloc((size_t)np + 1, sizeof *ps);
    struct oj_job_def *js = calloc((size_t)nj + 1, sizeof *js);
    int got_p = 0, got_j = 0, rc = -1;
    if (!cJSON_IsObject(root)) {
        fail(&c, "top level", "a runbook is an object with \"pipelines\" and/or \"jobs\"");
        goto out;
    }
    if (only(&c, "top level", root, allowed) != 0)
        goto out;
    if ((pipelines && !cJSON_IsObject(pipelines)) || (jobs && !cJSON_IsObject(jobs))) {
        fail(&c, "top level", "\"pipelines\" and \"jobs\" are objects keyed by name");
        goto out;
    }
    for (const cJSON *p = pipelines ? pipelines->child : NULL; p; p = p->next) {
        if (oj_runbooks_pipeline(rb, p->string)) {
            char place[200];
            snprintf(place, sizeof place, "pipelines.%.100s", p->string);
            fail(&c, place, "pipeline \"%s\" is also defined in %s", p->string,
                 oj_runbooks_pipeline(rb, p->string)->file);
            goto out;
        }
        if (parse_pipeline(&c, p, &ps[got_p++]) != 0)
            goto out;
    }
    for (const cJSON *j = jobs ? jobs->child : NULL; j; j = j->next) {
        if (parse_job(&c, j, &js[got_j++]) != 0)
            goto out;
        const char *target = js[got_j - 1].pipeline;
        bool known = target == NULL || oj_runbooks_pipeline(rb, target);
        for (int k = 0; !known && k < got_p; k++)
            known = strcmp(ps[k].name, target) == 0;
        if (!known) {
            char place[200];
            snprintf(place, sizeof place, "jobs.%.100s", j->string);
            fail(&c, place, "no pipeline \"%s\" to start", target);
            goto out;
        }
    }
    /* All good: append. */
    struct oj_pipeline_def *np2 =
        realloc(rb->pipelines, (size_t)(rb->n_pipelines + got_p + 1) * sizeof *np2);
    struct oj_job_def *nj2 = realloc(rb->jobs, (size_t)(rb->n_jobs + got_j + 1) * sizeof *nj2);
    if (np2)
        rb->pipelines = np2;
    if (nj2)
        rb->jobs = nj2;
    if (np2 == NULL || nj2 == NULL) {
        snprintf(err, errlen, "%s: out of memory", file);
        goto out;
    }
    memcpy(rb->pipelines + rb->n_pipelines, ps, (size_t)got_p * sizeof *ps);
    memcpy(rb->jobs + rb->n_jobs, js, (size_t)got_j * sizeof *js);
    rb->n_pipelines += got_p;
    rb->n_jobs += got_j;
    got_p = got_j = 0;
    rc = 0;
out:
    for (int i = 0; i < got_p; i++)
        free_pipeline(&ps[i]);
    for (int i = 0; i < got_j; i++)
        free_job(&js[i]);
    free(ps);
    free(js);
    cJSON_Delete(root);
    return rc;
}

/* The text of one runbook file, at most OJ_RUNBOOK_MAX_BYTES. Opened without
 * blocking, so a FIFO named *.json cannot hang the reader. */
static int read_runbook(const char *path, char **text, char *err, size_t errlen)
{
    *text = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file; a runbook is a JSON file", path);
        close(fd);
        return -1;
    }
    if (st.st_size > OJ_RUNBOOK_MAX_BYTES) {
        snprintf(err, errlen,
                 "%s: %lld bytes, over the 1 MiB limit for one runbook; split it into several "
                 "files in .oj/runbooks/",
                 path, (long long)st.st_size);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *buf = malloc(size + 1);
    while (buf && got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (buf == NULL || got != size) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read (it changed while being read?)", path);
        return -1;
    }
    buf[size] = '\0';
    *text = buf;
    return 0;
}

int oj_runbook_load_file(const char *path, struct oj_runbooks *rb, char *err, size_t errlen)
{
    char *text = NULL;
    int rc = read_runbook(path, &text, err, errlen);
    if (rc == 0)
        rc = oj_runbook_parse(path, text, rb, err, errlen);
    free(text);
    return rc;
}

int oj_runbooks_load(const char *dir, struct oj_runbooks *rb, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *de;
    int rc = 0;
    char **names = NULL;
    int n = 0;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0 && de->d_name[0] != '.') {
            char **g = realloc(names, (size_t)(n + 1) * sizeof *names);
            if (g == NULL)
                break;
            names = g;
            names[n++] = strdup(de->d_name);
        }
    }
    closedir(d);
    /* A fixed order, so "also defined in" always names the same file. */
    for (int i = 0; i < n; i++)
        for (int k = i + 1; k < n; k++)
            if (strcmp(names[k], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[k];
                names[k] = t;
            }
    for (int i = 0; i < n && rc == 0; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = oj_runbook_load_file(path, rb, err, errlen);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

void oj_runbooks_free(struct oj_runbooks *rb)
{
    for (int i = 0; i < rb->n_pipelines; i++)
        free_pipeline(&rb->pipelines[i]);
    for (int i = 0; i < rb->n_jobs; i++)
        free_job(&rb->jobs[i]);
    free(rb->pipelines);
    free(rb->jobs);
    memset(rb, 0, sizeof *rb);
}

const struct oj_pipeline_def *oj_runbooks_pipeline(const struct oj_runbooks *rb, const char *name)
{
    for (int i = 0; i < rb->n_pipelines; i++)
        if (strcmp(rb->pipelines[i].name, name) == 0)
            return &rb->pipelines[i];
    return NULL;
}

const struct oj_phase_def *oj_pipeline_phase(const struct oj_pipeline_def *p, const char *name)
{
    for (int i = 0; i < p->n_phases; i++)
        if (p->phases[i].name && strcmp(p->phases[i].name, name) == 0)
            return &p->phases[i];
    return NULL;
}
