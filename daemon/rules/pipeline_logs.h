/* pipeline_logs.h — a pipeline's output as one row of parts, the rules of
 * reading it in order (oj pipeline logs). Pure: no clock, no I/O.
 *
 * A pipeline writes two kinds of logs: its own, .oj/logs/pipelines/<id>.log
 * (shell steps, its workspace, notify), and one per agent session,
 * .oj/logs/sessions/<sid>.log. When an agent starts, the daemon appends a
 * mark to .oj/logs/pipelines/<id>.agents: one line "<offset> <sid> <phase>",
 * offset being the size of the pipeline's log at that moment. The output in
 * order is then: the pipeline log up to the first mark (part 0), that
 * agent's session log (part 1), the pipeline log from the first mark to the
 * second (part 2), the second agent's log (part 3), ..., the pipeline log
 * after the last mark (part 2n, open at its end). */
#ifndef OJ_PIPELINE_LOGS_H
#define OJ_PIPELINE_LOGS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oj_log_mark {
    uint64_t offset; /* the pipeline log's size when the agent started */
    char sid[16];
    char phase[80];
};

/* The mark line for an agent (into buf, with its newline). */
void oj_log_mark_line(uint64_t offset, const char *sid, const char *phase, char *buf, size_t len);

/* Parses the text of a .agents file into at most cap marks; returns how many.
 * A line that is not "<offset> <sid> <phase>" (a write cut by a crash) is
 * skipped; an offset below the one before it is raised to it, so parts
 * never overlap. */
size_t oj_log_marks_parse(const char *text, size_t len, struct oj_log_mark *out, size_t cap);

/* Part `part` of a row with n marks: a session part (part odd: mark
 * (part - 1) / 2) or a slice [start, end) of the pipeline log (part even;
 * open: the last one, which ends where the log ends now). false when part
 * is past the last (2n). */
struct oj_log_part {
    bool session;
    size_t mark;         /* session parts */
    uint64_t start, end; /* slices; end unused when open */
    bool open;
};
bool oj_log_part_of(const struct oj_log_mark *marks, size_t n, uint32_t part,
                    struct oj_log_part *out);

/* An agent's session part is over once its output is all in its log: the
 * session has no record any more (archived), or ended at least this long ago
 * (its terminal's last bytes reach the log within moments of its end). */
#define OJ_LOG_SESSION_SETTLE_MS 2000
bool oj_log_session_over(bool has_record, bool dead, int64_t ended_at_ms, int64_t now_ms);
#endif
