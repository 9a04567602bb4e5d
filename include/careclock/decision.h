/* Decisions about a clock instance (issue 17): pure code. What a decision
 * is, who may take which (the rule's extend_by, except_by and
 * except_reasons; an acknowledgement by someone its stages are sent to),
 * and whether one asked for now may be taken. No I/O.
 *
 * The store keeps decisions (decisions.h: a row each, only ever added,
 * with who, when, why and from which interface); the engine applies them
 * to the instance they name by its identity (engine.h: cc_child_t's
 * decisions; cc_clock_key), and explain tells each one in words.
 * docs/engine.md, "Decisions", is the policy in words:
 *  - extend: an agreed date later than the statutory due date. Reminders
 *    and escalations follow the agreed date; the due date is kept; met
 *    after the due date but by the agreed date counts as met late, shown
 *    apart in the timeliness report.
 *  - except: a reason the rule lists (declined, not_required, ...): status
 *    excepted, no reminders, counted apart.
 *  - ack: the member of staff's own next stages of the clock are held until
 *    a date; everyone else's go as before.
 *  - inform: who informed whom, and when (the IRO's step for the permanence
 *    plan: seeds/001 standard 8).
 *  - withdraw: undoes one of the above (the row stays: decisions are only
 *    added).
 * The latest extension or exception not withdrawn is the one in force.
 */
#ifndef CARECLOCK_DECISION_H
#define CARECLOCK_DECISION_H

#include "careclock/date.h"
#include "careclock/rules.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CC_DECISION_EXTEND,
    CC_DECISION_EXCEPT,
    CC_DECISION_ACK,
    CC_DECISION_INFORM,
    CC_DECISION_WITHDRAW
} cc_decision_kind_t;

#define CC_DECISION_KINDS 5

/* How far ahead an acknowledgement may hold someone's stages: for longer,
 * agree an extension (a decision the rule says who may take). */
#define CC_DECISION_ACK_MAX_DAYS 92

/* Longest free text (a reason, a note) a decision keeps, in bytes. */
#define CC_DECISION_TEXT_MAX 1000

/* One decision as the engine and explain see it. Strings are borrowed;
 * NULL where the kind has none. */
typedef struct {
    int64_t id;
    cc_decision_kind_t kind;
    const char *child_id;
    const char *rule_id;
    const char *instance;  /* the clock's identity (cc_clock_key) */
    cc_date_t date;        /* extend: the agreed date; ack: held until (inclusive); else CC_DATE_NONE */
    cc_date_t on;          /* the day it was taken */
    const char *code;      /* except: the reason code (one of the rule's except_reasons) */
    const char *party;     /* extend: agreed with (a staff id, optional); inform: the member of staff informed */
    const char *reason;    /* extend and withdraw: why; the others: a note (optional) */
    int64_t withdraws;     /* withdraw: the decision it withdraws; else 0 */
    const char *by;        /* the staff id of who took it */
    const char *by_role;   /* the capacity it was taken in: "iro", "team_manager", ... */
    const char *at;        /* when it was recorded, UTC "YYYY-MM-DDTHH:MM:SSZ" */
    const char *via;       /* the interface: "cli", "web" */
    const char *actor;     /* who was at it: "cli:alice", "web:TM1" */
} cc_decision_t;

/* "extend", "except", "ack", "inform", "withdraw"; and back (-1 when
 * unknown). */
const char *cc_decision_kind_name(cc_decision_kind_t kind);
int cc_decision_kind_parse(const char *name);

/* "team manager", ... for people (role names with spaces). */
const char *cc_role_words(cc_role_t role);

/* The roles that may take a decision of kind on the rule's clocks:
 * extend_by, except_by; ack: the roles the rule's stages go to (a
 * recipient of them); inform: anyone holding the child (worker, IRO, team
 * or service manager). withdraw is not asked here (the store allows the
 * one who took the decision, or a role that may take its kind). */
unsigned cc_decision_roles(const cc_rule_t *rule, cc_decision_kind_t kind);

/* 1 if list[i] is withdrawn by a decision of list[0..n). */
int cc_decision_withdrawn(const cc_decision_t *list, size_t n, size_t i);

/* The decision of kind in force on (rule_id, instance) among list[0..n):
 * the latest (highest id) not withdrawn; NULL when none. */
const cc_decision_t *cc_decision_in_force(const cc_decision_t *list, size_t n, const char *rule_id,
                                          const char *instance, cc_decision_kind_t kind);

/* May d (kind, date, code, on; its clock: rule, its status now and its
 * statutory due date) be taken today by someone holding the roles held
 * (a set of CC_ROLE_BIT) to the child? 0, with *role the capacity it is
 * taken in (the first of the allowed roles held, worker first); or
 * CC_EINVAL with why in words (len bytes): nobody may, not this person, a
 * clock already met or excepted, an agreed date not after the due date or
 * already passed, a reason the rule does not list, a hold longer than
 * CC_DECISION_ACK_MAX_DAYS, a day in the future. Not for withdraw. */
int cc_decision_check(const cc_rule_t *rule, const cc_decision_t *d, unsigned held, int status, cc_date_t due,
                      cc_date_t today, cc_role_t *role, char *why, size_t len);

#endif
