/* Reminders and escalations: the planner. Pure code: one clock instance,
 * its rule's stages, the calendar, the configuration and the local time in;
 * the deliveries that should exist now, and when each may go, out. No I/O,
 * no clock reads. docs/delivery.md is the policy in words.
 *
 * Policy:
 *  - A stage falls on the due date plus its offset in working days. It is
 *    planned once that day has come (stage date <= today) and only while the
 *    clock is open, due_soon or overdue: completion stops every later stage.
 *  - Catching up: when several stages of the same role have come (the
 *    daemon was stopped, or the events were recorded late), only the latest
 *    of them is planned; its message says how late the clock is now.
 *  - A stage may go at the opening of the sending window on its date
 *    ([notify] window, working days only), or, when that has passed, at the
 *    first moment inside the window from now. Nothing is dropped for being
 *    outside the window: it waits for the next opening.
 *  - Recipients by role: the allocated worker, the IRO, the team manager
 *    and service manager of the child's team, by email; the team's webhook
 *    (team_webhook). What a team manager is sent also goes to the team's
 *    webhook when the team has one.
 *  - A met, met_late or cancelled clock: everyone who was sent an
 *    escalation for it gets one short notice ("now met").
 *  - A clock of an episode of care that has ended (the child left care on
 *    or before today, and the end closed the clock unmet) takes no
 *    reminder or escalation: the looked-after duties end with the episode
 *    (Children Act 1989 s22; CPPCR 2010 reg 2). It stays overdue in
 *    reports; the "now met" notice of a closed one is unchanged.
 *  - A recipient without an address is planned all the same, marked
 *    undeliverable with the reason, so that it is listed and never silently
 *    missing; the other recipients are unaffected.
 *  - Decisions (decision.h): an extension in force moves every stage to
 *    its agreed date (their keys name it: "-5wd@2027-01-15", so stages
 *    sent for the statutory date do not stand in for them); an exception
 *    closes the clock; an acknowledgement holds its maker's own stages
 *    until its date (then the latest stage that has come goes), the other
 *    recipients' are planned as before.
 *  - At risk (a meeting booked after the due date): one notice, at once,
 *    to the worker and the team manager (stage "at_risk").
 *  - A child whose data is in error: a notice to the worker and the team
 *    manager on every working day until it is mended (stage
 *    "error@DAY", DAY the day it may go), so it is in their digests.
 *  - Go-live ([notify] since): a clock chased to a date before it is never
 *    reminded or escalated (cc_planner_skipped_since).
 */
#ifndef CARECLOCK_PLANNER_H
#define CARECLOCK_PLANNER_H

#include "careclock/calendar.h"
#include "careclock/engine.h"
#include "careclock/rules.h"
#include "careclock/time.h" /* cc_local_time_t */

#include <stddef.h>

typedef enum { CC_NOTICE_REMINDER, CC_NOTICE_ESCALATION, CC_NOTICE_MET } cc_notice_kind_t;

typedef enum { CC_CHANNEL_EMAIL, CC_CHANNEL_WEBHOOK } cc_channel_t;

/* Number of recipient roles (cc_role_t values). */
#define CC_NOTIFY_ROLES 5

/* Longest recipient key: "team:" + an id. */
#define CC_NOTIFY_RECIPIENT_MAX 80

/* The recipient key of a role that has nobody. */
#define CC_NOTIFY_NOBODY "(none)"

/* The stage key of the "now met" notice. */
#define CC_NOTIFY_MET_STAGE "met"

/* The stage key of the notice that a clock is at risk, and the prefix of
 * the daily one about a child whose data is in error ("error@DAY"). */
#define CC_NOTIFY_RISK_STAGE "at_risk"
#define CC_NOTIFY_ERROR_STAGE "error"

/* Longest stage key, with its NUL: "-10wd@2027-01-15". */
#define CC_NOTIFY_STAGE_MAX 32

/* Most webhook endpoints a configuration may name. */
#define CC_PLANNER_MAX_WEBHOOKS 32

/* The few configured values the planner needs ([notify] window, whether
 * e-mail can be sent, the webhook names), filled from the configuration by
 * cc_config_planner_settings(). Strings are borrowed. */
typedef struct {
    int window_start_minute;   /* 08:00 -> 480 */
    int window_end_minute;     /* 18:00 -> 1080; start < end */
    const char *email_unavailable; /* NULL when e-mail can be sent; else why not, in words */
    const char *webhooks[CC_PLANNER_MAX_WEBHOOKS]; /* the [webhook:NAME] names */
    size_t nwebhooks;
    cc_date_t since;           /* [notify] since: clocks chased to a date before it are never reminded;
                                  CC_DATE_NONE: none */
} cc_planner_settings_t;

/* Who holds a role for a clock. For the staff roles id is the staff id and
 * address the email; for CC_ROLE_TEAM_WEBHOOK id is the team id and address
 * the webhook name the team names. NULL when there is none. Borrowed. */
typedef struct {
    const char *id;
    const char *address;
} cc_planner_party_t;

/* Someone who was sent an escalation for a clock (from the outbox). */
typedef struct {
    const char *recipient; /* the delivery's recipient key */
    cc_channel_t channel;
    cc_role_t role;
    const char *address;   /* current address; NULL when none now */
} cc_planner_sent_t;

/* Most acknowledgements in force on one clock the planner reads. */
#define CC_PLANNER_MAX_HOLDS 8

/* An acknowledgement in force: recipient's stages held until (inclusive). */
typedef struct {
    const char *recipient; /* a staff id */
    cc_date_t until;
} cc_planner_hold_t;

/* One clock instance as the planner sees it: a row of the clocks table and
 * the people around the child. Every pointer is borrowed. */
typedef struct {
    const char *child_id;
    const char *rule_id;
    int seq;                                     /* for display: the outbox keys by the store's instance */
    cc_status_t status;
    cc_date_t due;                               /* CC_DATE_NONE when unknown */
    int left_care;                               /* 1: the child left care on left_on, closing it (0: not) */
    cc_date_t left_on;
    cc_date_t agreed;                            /* an extension in force: the agreed date; CC_DATE_NONE */
    const cc_planner_hold_t *held;               /* acknowledgements in force */
    size_t nheld;
    const char *team_id;                         /* NULL when the child has no team */
    cc_planner_party_t parties[CC_NOTIFY_ROLES];  /* indexed by cc_role_t */
    const cc_planner_sent_t *escalated;           /* for met notices */
    size_t nescalated;
} cc_planner_clock_t;

/* One delivery that should exist. */
typedef struct {
    char stage[CC_NOTIFY_STAGE_MAX]; /* "-5wd", "+1wd", "-5wd@2027-01-15" (counted from an agreed date),
                                        CC_NOTIFY_MET_STAGE, CC_NOTIFY_RISK_STAGE, "error@2026-11-30" */
    cc_role_t role;
    cc_notice_kind_t kind;
    cc_channel_t channel;
    char recipient[CC_NOTIFY_RECIPIENT_MAX]; /* staff id, "team:ID", or CC_NOTIFY_NOBODY */
    const char *address;             /* borrowed from the input; NULL when none */
    char undeliverable[200];         /* "" when deliverable, else the reason */
    cc_date_t stage_date;
    cc_local_time_t due_at;          /* when it may first go */
    int immediate;                   /* a stage marked "now": not held for a digest */
} cc_planned_t;

/* A growable list of planned deliveries; the caller owns it. */
typedef struct {
    cc_planned_t *items;
    size_t len, cap;
} cc_plan_t;

void cc_plan_init(cc_plan_t *plan);
void cc_plan_reset(cc_plan_t *plan);
void cc_plan_free(cc_plan_t *plan);

/* Append to out the deliveries that should exist for clock (of rule) at
 * now. settings supplies the window, the email transport and the webhook
 * names. Returns 0 or CC_ENOMEM. Stages that have not come yet produce
 * nothing; planning the same clock again produces the same keys, so the
 * outbox's unique key makes enqueueing idempotent. */
int cc_planner_plan(const cc_rule_t *rule, const cc_planner_clock_t *clock, const cc_calendar_t *cal,
                   const cc_planner_settings_t *settings, cc_local_time_t now, cc_plan_t *out);

/* 1 if statuses of this kind still take reminders and escalations (open,
 * due_soon, overdue, at_risk); 0 otherwise. */
int cc_planner_status_active(cc_status_t status);

/* 1 if status closes a clock for the "now met" notice (met, met_late,
 * cancelled, excepted). */
int cc_planner_status_closed(cc_status_t status);

/* 1 when clock is one [notify] since keeps quiet: active, chased to a date
 * (agreed, else due) before settings->since. It stays in the clocks,
 * feeds and reports; the plan counts it. */
int cc_planner_skipped_since(const cc_planner_settings_t *settings, const cc_planner_clock_t *clock);

/* The offset part of a stage key ("-5wd" of "-5wd@2027-01-15") into buf. */
char *cc_planner_stage_offset(const char *stage, char *buf, size_t len);

/* The kind of a stage: escalation after the due date or to a manager,
 * else reminder. */
cc_notice_kind_t cc_planner_stage_kind(const cc_stage_t *stage);

/* 1 if t is inside the sending window: a working day, window start <= the
 * minute < window end. */
int cc_planner_in_window(const cc_calendar_t *cal, const cc_planner_settings_t *settings, cc_local_time_t t);

/* The earliest time at or after t inside the sending window. */
cc_local_time_t cc_planner_next_opening(const cc_calendar_t *cal, const cc_planner_settings_t *settings,
                                        cc_local_time_t t);

/* Names as stored in the outbox. */
const char *cc_notice_kind_name(cc_notice_kind_t kind);
const char *cc_channel_name(cc_channel_t channel);
int cc_notice_kind_parse(const char *name);   /* -1 when unknown */
int cc_channel_parse(const char *name);       /* -1 when unknown */
int cc_role_parse(const char *name);          /* -1 when unknown */

#endif
