/* session_input.c — when a session needs input (see sessions_engine.h and
 * prompt.h): a prompt at the bottom of its output, seen by the tick in the
 * last bytes of its log that the log watcher already holds (no log is read
 * here), or a question it asked with `oj ask`. Kept in memory only, like
 * "idle": a daemon restart forgets a pending `oj ask` (a prompt on the screen
 * is seen again from the log's tail). Engine thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "daemon.h"
#include "hmap.h"
#include "log.h"
#include "log_text.h"
#include "publisher.h"
#include "session_live.h"
#include "sessions_engine.h"

void oj_session_live_free(struct oj_session_live *l)
{
    if (l == NULL)
        return;
    free(l->prompt);
    oj_prompts_free(l->prompts);
    free(l);
}

/* Sets (or, with NULL, clears) what the session waits at; publishes
 * session.needs_input when it starts to need input (once per entry). */
static void set_prompt(struct oj_daemon *d, const char *id, const struct oj_session *s,
                       struct oj_session_live *l, const char *prompt, bool asked, int64_t now)
{
    if (prompt == NULL) {
        if (l->prompt)
            LOG_INFO("sessions: %s does not need input any more", id);
        free(l->prompt);
        l->prompt = NULL;
        l->asked = false;
        return;
    }
    bool entry = l->prompt == NULL;
    if (!entry && strcmp(l->prompt, prompt) == 0 && l->asked == asked)
        return;
    char *copy = strdup(prompt);
    if (copy == NULL)
        return; /* out of memory: looked at again next tick */
    free(l->prompt);
    l->prompt = copy;
    l->asked = asked;
    if (!entry)
        return; /* still the same spell of needing input */
    l->prompt_since_ms = now;
    LOG_INFO("sessions: %s needs input (%s): %s", id, asked ? "oj ask" : "prompt", prompt);
    oj_pub_phase_event(d->publisher, "session.needs_input", id, s->pipeline_id, s->phase, prompt);
}

/* The session's output after its input mark, as text lines (log_text.h);
 * malloc'd, NULL when there is none to look at. *end: the offset it ends at. */
static char *output_since_mark(struct oj_daemon *d, const char *id, struct oj_session_live *l,
                               uint64_t *end)
{
    char raw[OJ_PROMPT_TAIL_BYTES];
    size_t n = oj_watcher_tail_of(d, id, raw, sizeof raw, end);
    uint64_t start = *end - n;
    size_t skip = l->input_mark > start ? (size_t)(l->input_mark - start) : 0;
    if (skip >= n)
        return NULL;
    /* A tail cut by the byte budget starts mid-line: that line is dropped. */
    return oj_log_text(raw + skip, n - skip, OJ_LOG_TEXT_LINES, skip == 0 && start > 0);
}

bool oj_session_look_for_input(struct oj_daemon *d, const char *id, const struct oj_session *s,
                               struct oj_session_live *l, int64_t now_ms)
{
    if (s->state != OJ_SESSION_RUNNING)
        return false;
    uint64_t end;
    char raw[1];
    oj_watcher_tail_of(d, id, raw, 0, &end);
    if (l->input_looked && end == l->input_looked_end)
        return l->prompt != NULL; /* no new output: the same verdict */
    if (l->prompts == NULL) {
        char err[300];
        l->prompts = oj_prompts_new(s->needs_input, err, sizeof err);
        if (err[0] && !l->prompts_said) { /* runbooks are checked: an old record's */
            LOG_WARN("sessions: %s: %s", id, err);
            l->prompts_said = true;
        }
        if (l->prompts == NULL)
            return l->prompt != NULL; /* out of memory: next tick */
    }
    char *text = output_since_mark(d, id, l, &end);
    l->input_looked = true;
    l->input_looked_end = end;
    if (l->prompt && l->asked) {
        if (text && oj_ask_answered(text, l->prompt))
            set_prompt(d, id, s, l, NULL, false, now_ms);
        else {
            free(text);
            return true; /* the question waits */
        }
    }
    char line[300];
    bool found = text && oj_prompts_find(l->prompts, text, line, sizeof line);
    set_prompt(d, id, s, l, found ? line : NULL, false, now_ms);
    free(text);
    return found;
}

void oj_session_input_sent(struct oj_daemon *d, const char *id)
{
    struct oj_session_live *l = oj_session_live_of(d, id);
    struct oj_session s;
    if (oj_session_get(d, id, &s) == 0) {
        int64_t mtime;
        uint64_t size;
        oj_session_log_stat(s.log, &mtime, &size);
        l->input_mark = size;
    }
    oj_session_clear(&s);
    l->input_looked = false;
    l->quiet_from_ms = oj_wall_ms(); /* a new quiet spell: it has something to work on */
    if (l->prompt)
        LOG_INFO("sessions: %s got input; working again", id);
    free(l->prompt);
    l->prompt = NULL;
    l->asked = false;
}

const char *oj_session_prompt(struct oj_daemon *d, const char *id, bool *asked, int64_t *since)
{
    const struct oj_session_live *l = oj_hmap_get(&d->session_live, id);
    *asked = l && l->asked;
    *since = l && l->prompt ? l->prompt_since_ms : 0;
    return l ? l->prompt : NULL;
}

int oj_session_ask(struct oj_daemon *d, const char *id, const char *question, char *err,
                   size_t errlen)
{
    struct oj_session s;
    if (oj_session_get(d, id, &s) != 0 || s.state == OJ_SESSION_DEAD) {
        snprintf(err, errlen, "session %s is not running", id);
        oj_session_clear(&s);
        return -1;
    }
    struct oj_session_live *l = oj_session_live_of(d, id);
    /* Only output after the question can answer it. */
    int64_t mtime;
    uint64_t size;
    oj_session_log_stat(s.log, &mtime, &size);
    l->input_mark = size;
    l->input_looked = false;
    free(l->prompt);
    l->prompt = NULL; /* a new spell: the question is the news */
    set_prompt(d, id, &s, l, question, true, oj_wall_ms());
    oj_session_clear(&s);
    return 0;
}
