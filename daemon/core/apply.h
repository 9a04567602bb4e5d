/* Decisions applied to the engine's clock instances (issue 17; internal
 * to core/, see include/careclock/decision.h and docs/engine.md,
 * "Decisions"): the extension and exception in force on an instance, a
 * meeting booked too late (at_risk), and each decision told in words for
 * explain. Pure, as the engine. */
#ifndef CARECLOCK_CORE_APPLY_H
#define CARECLOCK_CORE_APPLY_H

#include "careclock/buf.h"
#include "careclock/calendar.h"
#include "careclock/engine.h"
#include "careclock/rules.h"

#include <stddef.h>

/* Clock c of rule, computed by the engine for child (its events sorted by
 * date, sorted[0..n)): its agreed date (the extension in force, only ever
 * later than the due date), its status (cc_engine_status), at_risk when
 * its booked meeting (scheduled_by) falls after the date it is chased to,
 * and excepted when an exception is in force on an unmet one. */
void cc__apply_decisions(const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today, const cc_child_t *child,
                         const cc_event_t *const *sorted, size_t n, const cc_rule_t *rule, cc_clock_t *c);

/* Every decision about clock c, each a line in words into t: who took it,
 * in which capacity, when, why, from which interface, and whether it is
 * in force, withdrawn or superseded. */
void cc__apply_explain(cc_buf_t *t, const cc_child_t *child, const cc_rule_t *rule, const cc_clock_t *c);

#endif
