/* pipeline_output.c — a pipeline's output in order (oj pipeline logs): its
 * own log cut where each agent started, with the agent's session log between
 * (pipeline_logs.h has the rules). The marks are appended to
 * .oj/logs/pipelines/<id>.agents as each agent starts. A read is planned
 * under the state (which agent's log is where, whose output is all in) and
 * then reads files only, on any thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "pipeline_engine.h"
#include "pipeline_logs.h"

#define MARKS_MAX 4096          /* agents remembered per pipeline; later ones read as one */
#define MARKS_FILE_MAX (1u << 20)

static void marks_path(struct oj_daemon *d, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/pipelines/%s.agents", d->paths.log_dir, id);
}

static struct oj_log_mark *read_marks(struct oj_daemon *d, const char *id, size_t *n);

void oj_pl_note_agent(struct oj_daemon *d, const char *id, const char *sid, const char *phase)
{
    /* Once per agent: an agent adopted after a crash may have been noted
     * before the crash came between its start and its record. */
    size_t n;
    struct oj_log_mark *m = read_marks(d, id, &n);
    bool noted = n > 0 && strcmp(m[n - 1].sid, sid) == 0;
    free(m);
    if (noted)
        return;
    char log[PATH_MAX + 64], marks[PATH_MAX + 64], line[160];
    oj_pl_log_path(d, id, log, sizeof log);
    marks_path(d, id, marks, sizeof marks);
    struct stat st;
    uint64_t size = stat(log, &st) == 0 ? (uint64_t)st.st_size : 0;
    oj_log_mark_line(size, sid, phase, line, sizeof line);
    int fd = open(marks, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line))
        LOG_WARN("pipeline %s: cannot note agent %s in %s (%s); oj pipeline logs will not show "
                 "its output", id, sid, marks, strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* The marks of pipeline id (malloc'd, *n of them; NULL when none). */
static struct oj_log_mark *read_marks(struct oj_daemon *d, const char *id, size_t *n)
{
    char path[PATH_MAX + 64];
    marks_path(d, id, path, sizeof path);
    *n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *text = malloc(MARKS_FILE_MAX);
    ssize_t got = text ? read(fd, text, MARKS_FILE_MAX) : -1;
    close(fd);
    struct oj_log_mark *m = got > 0 ? calloc(MARKS_MAX, sizeof *m) : NULL;
    if (m)
        *n = oj_log_marks_parse(text, (size_t)got, m, MARKS_MAX);
    free(text);
    return m;
}

/* Up to max bytes of path from `from` to `to` (UINT64_MAX: its end). */
static int read_range(const char *path, uint64_t from, uint64_t to, size_t max, uint8_t **buf,
                      size_t *len, uint64_t *size)
{
    *buf = NULL;
    *len = 0;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0; /* not written yet: empty */
    struct stat st;
    if (fstat(fd, &st) == 0)
        *size = (uint64_t)st.st_size;
    if (to > *size)
        to = *size;
    if (from < to) {
        size_t want = to - from > max ? max : (size_t)(to - from);
        *buf = malloc(want ? want : 1);
        if (*buf == NULL) {
            close(fd);
            return -1;
        }
        ssize_t n = pread(fd, *buf, want, (off_t)from);
        *len = n > 0 ? (size_t)n : 0;
    }
    close(fd);
    return 0;
}

static bool add_piece(struct oj_pl_logs *out, const char *source, const char *phase, bool first,
                      uint8_t *data, size_t len)
{
    struct oj_pl_piece *p = realloc(out->pieces, (out->n + 1) * sizeof *p);
    if (p == NULL) {
        free(data);
        return false;
    }
    out->pieces = p;
    p = &out->pieces[out->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->source, sizeof p->source, "%s", source);
    snprintf(p->phase, sizeof p->phase, "%s", phase);
    p->first = first;
    p->data = data;
    p->len = len;
    return true;
}

/* What a read needs of the state, taken under it: each agent's log and
 * whether its output is all in. */
struct agent_log {
    char *path; /* NULL for agents before the cursor, which the read does not reach */
    bool over;
};
struct oj_pl_logs_job {
    struct oj_log_mark *marks;
    struct agent_log *agents; /* one per mark */
    size_t n;
    char log[PATH_MAX + 64], pgid[PATH_MAX + 64];
    /* the pipeline log's size with these marks: the open slice is read only
     * up to it, since an agent noted after the plan ends that slice there */
    uint64_t log_size;
    bool finished, follow;
    uint32_t part;
    uint64_t offset;
    size_t max;
};

struct oj_pl_logs_job *oj_pipeline_logs_plan(struct oj_daemon *d, const char *id, bool finished,
                                             bool follow, uint32_t part, uint64_t offset,
                                             size_t max)
{
    struct oj_pl_logs_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->marks = read_marks(d, id, &j->n);
    if (j->n > 0 && (j->agents = calloc(j->n, sizeof *j->agents)) == NULL) {
        oj_pl_logs_job_free(j);
        return NULL;
    }
    int64_t now = oj_wall_ms();
    /* Only the agents from the cursor's part on: part 2k+1 is mark k's, and
     * part 2k the slice before it. */
    for (size_t i = part >= 1 ? (part - 1) / 2 : 0; i < j->n; i++) {
        const struct oj_log_mark *m = &j->marks[i];
        struct oj_session s;
        bool has = oj_session_get(d, m->sid, &s) == 0;
        char path[PATH_MAX + 96];
        if (has && s.log[0])
            snprintf(path, sizeof path, "%s", s.log);
        else
            snprintf(path, sizeof path, "%s/%s.log", d->paths.session_log_dir, m->sid);
        j->agents[i].over =
            oj_log_session_over(has, s.state == OJ_SESSION_DEAD, s.ended_at_ms, now);
        oj_session_clear(&s);
        if ((j->agents[i].path = strdup(path)) == NULL) {
            oj_pl_logs_job_free(j);
            return NULL;
        }
    }
    oj_pl_log_path(d, id, j->log, sizeof j->log);
    oj_pl_pgid_path(d, id, j->pgid, sizeof j->pgid);
    struct stat st;
    j->log_size = stat(j->log, &st) == 0 ? (uint64_t)st.st_size : 0;
    j->finished = finished;
    j->follow = follow;
    j->part = part;
    j->offset = offset;
    j->max = max;
    return j;
}

int oj_pipeline_logs_read(const struct oj_pl_logs_job *j, struct oj_pl_logs *out)
{
    memset(out, 0, sizeof *out);
    const struct oj_log_mark *marks = j->marks;
    size_t n = j->n, max = j->max;
    uint32_t part = j->part;
    uint64_t offset = j->offset;
    if ((size_t)part > 2 * n) { /* a cursor from a reader that saw more marks: go on at the end */
        part = (uint32_t)(2 * n);
        offset = 0;
    }
    int rc = 0;
    bool at_end = false;
    while (max > 0) {
        struct oj_log_part pp;
        oj_log_part_of(marks, n, part, &pp);
        uint8_t *buf;
        size_t len;
        uint64_t size;
        if (pp.session) {
            const struct oj_log_mark *m = &marks[pp.mark];
            const struct agent_log *a = &j->agents[pp.mark];
            if (a->path == NULL || /* before the planned cursor: not asked for */
                read_range(a->path, offset, UINT64_MAX, max, &buf, &len, &size) != 0) {
                rc = -1;
                break;
            }
            if (len > 0 && !add_piece(out, m->sid, m->phase, offset == 0, buf, len)) {
                rc = -1;
                break;
            }
            if (len == 0)
                free(buf);
            offset += len;
            max -= len;
            if (offset < size)
                break; /* max reached */
            if (!a->over)
                snprintf(out->session_id, sizeof out->session_id, "%s", m->sid);
            if (!a->over && j->follow)
                break; /* the agent is still at work: what follows comes after it */
            part++;
            offset = 0;
            continue;
        }
        if (offset < pp.start)
            offset = pp.start;
        if (read_range(j->log, offset, pp.open ? j->log_size : pp.end, max, &buf, &len, &size) !=
            0) {
            rc = -1;
            break;
        }
        if (len > 0 && !add_piece(out, "pipeline", "", offset == pp.start, buf, len)) {
            rc = -1;
            break;
        }
        if (len == 0)
            free(buf);
        offset += len;
        max -= len;
        if (pp.open) {
            at_end = offset >= size; /* the file's size now: more written since the plan */
            break;
        }
        if (offset < pp.end && offset < size)
            break; /* max reached */
        if (offset < pp.end) { /* the log is shorter than the mark says: nothing more there */
            offset = pp.end;
        }
        part++;
        offset = 0;
    }
    out->part = part;
    out->offset = offset;
    /* Done when it is finished, everything was read, and no shell step of it
     * still runs (a cancelled one's output is appended when it ends). */
    out->complete = rc == 0 && j->finished && at_end && access(j->pgid, F_OK) != 0;
    return rc;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

uint64_t oj_pipeline_logs_estimate(const struct oj_pl_logs_job *j)
{
    uint32_t part = j->part;
    uint64_t offset = j->offset, est = 0;
    if ((size_t)part > 2 * j->n) {
        part = (uint32_t)(2 * j->n);
        offset = 0;
    }
    struct oj_log_part pp;
    oj_log_part_of(j->marks, j->n, part, &pp);
    size_t next_mark; /* the first agent whose log follows the current part */
    uint64_t from;    /* where the pipeline log's rest begins */
    if (pp.session) {
        uint64_t a = j->agents[pp.mark].path ? file_size(j->agents[pp.mark].path) : 0;
        est += a > offset ? a - offset : 0;
        next_mark = pp.mark + 1;
        from = j->marks[pp.mark].offset;
    } else {
        next_mark = part / 2;
        from = offset > pp.start ? offset : pp.start;
    }
    est += j->log_size > from ? j->log_size - from : 0;
    for (size_t i = next_mark; i < j->n; i++)
        est += j->agents[i].path ? file_size(j->agents[i].path) : 0;
    return est;
}

void oj_pl_logs_job_free(struct oj_pl_logs_job *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; j->agents && i < j->n; i++)
        free(j->agents[i].path);
    free(j->marks);
    free(j->agents);
    free(j);
}

void oj_pl_logs_free(struct oj_pl_logs *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->pieces[i].data);
    free(l->pieces);
    memset(l, 0, sizeof *l);
}
