/* The clock engine: pure code. One child's events, the rules, the calendar
 * and today in; clock instances out. No I/O, no clock reads, no globals.
 *
 * Semantics (docs/engine.md):
 *  - Episodes of care run from looked_after_start to looked_after_end (or
 *    are open). Per-episode rules start at the first starting event inside
 *    an episode; per-event rules at every starting event; per-placement
 *    rules too, each chain ending with its placement; per-series rules once
 *    for a series of episodes (short breaks); starts_when rules on the day
 *    the episodes reach their threshold (the eligible child).
 *  - Conditions on state attributes (legal_status, place) read the child's
 *    state on the day, from the latest event recording it in the episode.
 *  - A meeting event meets the earliest unmet instance of its rule (one per
 *    chain) whose start is on or before the event's date; rules that accept
 *    early events also take one dated before the start within the episode.
 *  - Chains: when an instance is met, the next starts on the met date.
 *  - Anchored due dates take the anchor instance's held date, else its due
 *    date, else a projection from the chain's last instance.
 *  - Status: met, met_late, cancelled, overdue, due_soon, open; a child
 *    whose data cannot be evaluated gets one data_error instance instead.
 *    An unmet instance whose booked meeting (the rule's scheduled_by) is
 *    dated after its due date is at_risk at once.
 *  - Decisions (cc_child_t.decisions, decision.h) in force on an instance:
 *    an extension gives it an agreed date, which its open/due_soon/overdue
 *    status follows (met and met_late stay judged on the due date); an
 *    exception makes an unmet one excepted.
 *  - Identity: the event a chain began with (a per-episode rule's: the
 *    episode's looked_after_start) and the place in the chain
 *    (cc_clock_key), which history recorded before it does not move; seq,
 *    the position by start date, is for display.
 *  - An unmet instance the end of care closes records the day the child
 *    left (left_care): no reminders from then on.
 */
#ifndef CARECLOCK_ENGINE_H
#define CARECLOCK_ENGINE_H

#include "careclock/calendar.h"
#include "careclock/decision.h"
#include "careclock/rules.h"

#include <stdint.h>

#define CC_DATE_NONE INT32_MIN
/* A day after every other: "never" where a day is asked for. */
#define CC_DATE_NEVER INT32_MAX

/* Longest id (staff, team, child) accepted anywhere, in bytes. */
#define CC_ID_MAX 64

/* Bounds on what other systems write (docs/reliability.md, "Bounds"). A
 * name (a child's initials or full name, a staff member's or a team's) of
 * more than CC_NAME_MAX characters is refused when careclock writes it and
 * not shown when another system did (the feed shows the id instead); an
 * event whose attributes are more than CC_ATTRS_MAX bytes makes its child a
 * data error. Real values are far below: SSDA903 attributes are a few codes,
 * names a few dozen characters. */
#define CC_NAME_MAX 200
#define CC_ATTRS_MAX 8192

typedef enum {
    CC_STATUS_OPEN,
    CC_STATUS_DUE_SOON,
    CC_STATUS_OVERDUE,
    CC_STATUS_MET,
    CC_STATUS_MET_LATE,
    CC_STATUS_CANCELLED,
    CC_STATUS_DATA_ERROR,
    CC_STATUS_AT_RISK,  /* not met, not yet due, but the meeting booked for it (scheduled_by) falls after its due
                           date (or agreed date) */
    CC_STATUS_EXCEPTED  /* not met, and an exception in force says it need not be (decision.h) */
} cc_status_t;

#define CC_STATUS_COUNT 9

/* Flags on a clock instance. */
enum {
    CC_CLOCK_UNCOVERED = 1, /* a working-day count reached outside the holiday calendar's years */
    CC_CLOCK_PROJECTED = 2, /* the due date rests on an anchor not yet known, projected */
    CC_CLOCK_EARLY = 4,     /* met by an event dated before its start */
    CC_CLOCK_DERIVED = 8,   /* started by the rule's starts_when (the episodes reached its threshold), not by an
                               event: start_event is the looked_after_start of the episode it was reached in */
    CC_CLOCK_HOURS = 16,    /* due in hours: due_minute is the time of day the period ends */
    CC_CLOCK_NO_TIME = 32,  /* ... counted from the start of the day: the starting event records no time=HH:MM */
    CC_CLOCK_EXTENDED = 64  /* the due date was moved on by an extend_on event (extend_event, from extended_from) */
};

/* One event of a child, as the engine sees it. */
typedef struct {
    int64_t id;
    int type;             /* cc_ruleset_type_index(), or -1 when unknown */
    cc_date_t date;       /* CC_DATE_NONE when the stored date did not parse */
    const char *attrs;    /* JSON object text, or NULL; borrowed */
    const char *raw_type; /* the stored type text, for messages; borrowed */
    const char *raw_date; /* the stored date text, for messages; borrowed */
} cc_event_t;

typedef struct {
    const char *id;       /* borrowed */
    cc_date_t dob;        /* CC_DATE_NONE when unknown or unparseable */
    const char *raw_dob;  /* for messages; borrowed */
    /* The decisions recorded about the child's clocks (withdrawn ones and withdrawals too, any order; the
     * engine applies those in force to the instance each names, explain tells them all); NULL: none.
     * Borrowed. */
    const cc_decision_t *decisions;
    size_t ndecisions;
} cc_child_t;

/* How a due date was computed, for explanations. */
typedef enum {
    CC_BASIS_DUE,       /* start + rule due */
    CC_BASIS_DUE_IF,    /* start + due_if[basis_index] */
    CC_BASIS_THEN,      /* previous met date + then[basis_index] */
    CC_BASIS_THEN_IF,   /* previous met date + then_if[basis_index] */
    CC_BASIS_ANCHOR     /* the anchor instance's date (flag PROJECTED if estimated) */
} cc_basis_t;

/* An instance's identity (cc_clock_key) is the event its chain began with
 * and its place in the chain: history recorded later, before it, does not
 * move it, as it moves seq (docs/engine.md, "Identity"). */
typedef struct {
    int rule;             /* index in the ruleset; -1 for a data_error instance */
    int seq;              /* 1.. per child and rule, in order of start date: for display only */
    int64_t key_event;    /* the identity's event: the chain's starting event, for a per-episode rule the
                             episode's looked_after_start; 0 for a data_error instance */
    int episode;          /* 0-based index of the episode of care, -1 if none */
    cc_date_t start, due, met_on; /* met_on CC_DATE_NONE when not met */
    cc_status_t status;
    int64_t start_event, met_event; /* 0 when none */
    unsigned flags;
    cc_basis_t basis;     /* how due was computed */
    int basis_index;
    int chain_index;      /* 0 for the first instance of a chain (the identity's place is chain_index + 1) */
    cc_date_t from;       /* the date the due offset was counted from */
    int from_minute;      /* CC_CLOCK_HOURS: minutes after midnight on from when the count began */
    int due_minute;       /* CC_CLOCK_HOURS: minutes after midnight on due when the period ends (1..1440) */
    cc_date_t extended_from; /* CC_CLOCK_EXTENDED: the due date before the extension */
    int64_t extend_event;    /* CC_CLOCK_EXTENDED: the event that extended it */
    cc_date_t left_care;  /* the day the child left care when the end of the episode closed this instance unmet
                             (its rule has cancel_on = looked_after_end): no reminders after it; else
                             CC_DATE_NONE */
    /* Decisions (decision.h). An extension in force: the agreed date (after due), which reminders,
     * escalations and the open/due_soon/overdue status follow while the clock is unmet; due stays the
     * statutory date, by which met and met_late are judged. CC_DATE_NONE when none. */
    cc_date_t agreed;
    int64_t agreed_decision;   /* the extension in force; 0: none */
    int64_t excepted_decision; /* CC_STATUS_EXCEPTED: the exception in force; 0: none */
    /* CC_STATUS_AT_RISK: the booked meeting that falls after the (agreed) due date, and its event */
    cc_date_t scheduled;
    int64_t scheduled_event;
    char reason[160];     /* data_error, cancelled, at_risk and excepted: why, in words */
} cc_clock_t;

/* A growable array of clocks; the caller owns it and can reuse it across
 * children (cc_clocks_reset keeps the allocation). */
typedef struct {
    cc_clock_t *items;
    size_t len, cap;
    /* The first day after today on which the same events could give other
     * clocks than these (a status moves, a starts_when threshold is
     * reached, a series lapses): cc_engine_run lowers it to its child's;
     * CC_DATE_NEVER (set by init and reset) when nothing changes with the
     * passing of days alone. The evaluation re-runs a child whose events
     * did not change only from that day (docs/engine.md, "When clocks
     * change by themselves"). */
    cc_date_t next_change;
} cc_clocks_t;

void cc_clocks_init(cc_clocks_t *clocks);
void cc_clocks_reset(cc_clocks_t *clocks);
void cc_clocks_free(cc_clocks_t *clocks);

/* Evaluate one child. events need not be sorted. Appends the child's clocks
 * to out (sorted by rule order, then seq). Returns 0, or CC_ENOMEM. Bad data
 * (unknown type, unparseable date, end before start) is not an error of the
 * call: it yields a single data_error clock with the reason. */
int cc_engine_run(const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today, const cc_child_t *child,
                  const cc_event_t *events, size_t nevents, cc_clocks_t *out);

/* Longest identity text, with its NUL: "<event id>.<place>". */
#define CC_CLOCK_KEY_MAX 32

/* The identity of a data_error instance: one per child, whatever it says. */
#define CC_CLOCK_KEY_DATA_ERROR "error"

/* The identity of clock as text into buf (len bytes): "<key_event>.<place>"
 * ("812.2": the second instance of the chain that event 812 began), or
 * CC_CLOCK_KEY_DATA_ERROR. Unique among a child's instances of one rule.
 * Returns the length snprintf would write. */
int cc_clock_key(const cc_clock_t *clock, char *buf, size_t len);

/* Status from its dates and today: open / due_soon / overdue for unmet
 * clocks (counted to the agreed date when an extension is in force), met /
 * met_late for met ones (always to the statutory due date). (cancelled,
 * data_error, at_risk and excepted are set by the engine and left
 * alone.) */
cc_status_t cc_engine_status(const cc_rule_t *rule, const cc_calendar_t *cal, cc_date_t today,
                             const cc_clock_t *clock);

/* The date an unmet clock is chased to: its agreed date when an extension
 * is in force, else its due date. */
cc_date_t cc_clock_chase_date(const cc_clock_t *clock);

/* "open", "due_soon", ... and back; -1 for an unknown name. */
const char *cc_status_name(cc_status_t status);
int cc_status_parse(const char *name);

/* Check event attributes: NULL, blank, or a JSON object whose every value
 * is a string, with no key twice (what rule conditions can be judged on).
 * Returns 0, or CC_EINVAL with why (len bytes) in words. The engine makes
 * a child with any other attributes a data_error; writers (the CLI) refuse
 * them. */
int cc_engine_attrs_check(const char *attrs, char *why, size_t len);

/* Explain, in plain words appended to text, why the child has no instance
 * of rule: each of its starting events and what kept it from starting one
 * (outside care, not the episode's first, a condition of applies such as
 * outcome!=no_plan or age<15). Returns 0; CC_ENOTFOUND (text holds only the
 * heading) when the child has no starting event for the rule at all;
 * CC_ENOMEM. For a child whose data is unusable, text says so. */
int cc_engine_explain_none(const cc_ruleset_t *rs, const cc_calendar_t *cal, const cc_child_t *child,
                           const cc_event_t *events, size_t nevents, const cc_rule_t *rule, cc_buf_t *text);

/* As cc_engine_explain_none, on today: a rule that starts when the
 * episodes reach a threshold (starts_when) counts up to today, where
 * cc_engine_explain_none counts to the latest date the record holds. */
int cc_engine_explain_none_on(const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                              const cc_child_t *child, const cc_event_t *events, size_t nevents,
                              const cc_rule_t *rule, cc_buf_t *text);

/* Explain how one clock instance was derived, in plain words, appending to
 * text: the starting event, each step with every non-working day skipped,
 * the rule and its source, and why the status is what it is. The clocks
 * array is the child's full result (anchors are looked up in it). */
int cc_engine_explain(const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today, const cc_child_t *child,
                      const cc_event_t *events, size_t nevents, const cc_clocks_t *clocks, size_t index,
                      cc_buf_t *text);

#endif
