/* Decisions about clocks in the plan database (issue 17): table
 * decisions (docs/schema.md), one row per decision, only ever added.
 *
 * Recording one (cc_decisions_add) checks it as decision.h's
 * cc_decision_check does (who holds which role to the child now, the
 * clock as the clocks table has it now, the rule's extend_by, except_by
 * and except_reasons) and writes it in one transaction: the row (who, in
 * which capacity, the day, when, why, from which interface), and for an
 * acknowledgement its maker's pending notices of the clock held until its
 * date. The row's trigger queues the child for recomputation and
 * planning, so the clocks follow at the next refresh.
 */
#ifndef CARECLOCK_DECISIONS_H
#define CARECLOCK_DECISIONS_H

#include "careclock/decision.h"
#include "careclock/rules.h"
#include "careclock/store.h"

#include <stddef.h>
#include <stdint.h>

/* Decisions loaded from the database: their strings owned with them. */
typedef struct {
    cc_decision_t *items;
    size_t n, cap;
    char **strings;     /* every string the items point at */
    size_t nstrings, capstrings;
} cc_decisions_t;

void cc_decisions_init(cc_decisions_t *list);
void cc_decisions_reset(cc_decisions_t *list); /* keeps the allocations */
void cc_decisions_free(cc_decisions_t *list);

/* Record d (kind, child_id, rule_id, instance; date, code, party, reason,
 * withdraws as its kind needs; by; on, the day it was taken; via and
 * actor, the interface and who was at it; at, when, UTC "...Z", NULL:
 * now) as of today. d->by_role receives the capacity it was taken in
 * (static text). Refused (CC_EINVAL, or CC_ENOTFOUND for a child, clock,
 * member of staff or decision that does not exist; err says why, naming
 * the value; nothing written): an id or text that is not one (control
 * characters, too long), what cc_decision_check refuses; a withdrawal of
 * a decision not of this clock, already withdrawn, or by someone who
 * neither took it nor may take its kind. *id receives the new row's id.
 * 0, CC_EINVAL, CC_ENOTFOUND, CC_EDB. */
int cc_decisions_add(cc_store_t *s, const cc_ruleset_t *rs, cc_decision_t *d, cc_date_t today, int64_t *id,
                     char *err, size_t errlen);

/* Every decision about the child's clocks (withdrawals too), by id, into
 * out (reset first). 0, CC_EDB, CC_ENOMEM. */
int cc_decisions_of_child(cc_store_t *s, const char *child_id, cc_decisions_t *out);

/* Every decision about one clock, by id, into out (reset first). */
int cc_decisions_of_clock(cc_store_t *s, const char *child_id, const char *rule_id, const char *instance,
                          cc_decisions_t *out);

/* Decision id into out (reset first): out->n is 1, or 0 when there is no
 * such decision. 0, CC_EDB, CC_ENOMEM. */
int cc_decisions_get(cc_store_t *s, int64_t id, cc_decisions_t *out);

/* 1 when the database holds any decision, 0 when none, CC_EDB: listings
 * skip looking them up clock by clock when there are none. */
int cc_decisions_any(cc_store_t *s);

/* The roles staff_id holds to child_id now (a set of CC_ROLE_BIT: its
 * worker, IRO, its team's manager or service manager) into *held. 0,
 * CC_ENOTFOUND (no such child), CC_EDB, CC_ENOMEM. */
int cc_decisions_roles(cc_store_t *s, const char *child_id, const char *staff_id, unsigned *held);

#endif
