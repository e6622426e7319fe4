/* Which event kinds a filter picks (event_kind.h): `oj events --kind` and the
 * notifier's "kinds". */
#include <criterion/criterion.h>

#include "event_kind.h"

Test(event_kind, exact_kinds_and_prefixes)
{
    cr_expect(oj_event_kind_match("pipeline.escalated", "pipeline.escalated"));
    cr_expect_not(oj_event_kind_match("pipeline.escalated", "pipeline.escalated_more"));
    cr_expect_not(oj_event_kind_match("pipeline", "pipeline.done"), "a prefix ends in '.'");
    cr_expect(oj_event_kind_match("session.", "session.needs_input"));
    cr_expect_not(oj_event_kind_match("session.", "pipeline.done"));
    const char *f[] = {"pipeline.failed", "session."};
    cr_expect(oj_event_kind_any(f, 2, "session.ended"));
    cr_expect(oj_event_kind_any(f, 2, "pipeline.failed"));
    cr_expect_not(oj_event_kind_any(f, 2, "pipeline.done"));
    cr_expect(oj_event_kind_any(NULL, 0, "cron.done"), "no filter: everything");
}

Test(event_kind, bad_filters_are_named)
{
    cr_expect_null(oj_event_kind_problem("session."));
    cr_expect_null(oj_event_kind_problem("pipeline.phase_done"));
    cr_expect_not_null(oj_event_kind_problem(""));
    cr_expect_not_null(oj_event_kind_problem("Pipeline.Done"));
    cr_expect_not_null(oj_event_kind_problem("session.*"));
}
