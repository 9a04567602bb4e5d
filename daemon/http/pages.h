/* The dashboard's pages: pure HTML from values (daemon/http/pages.c). The
 * GOV.UK Design System's styles and patterns (tables, summary lists, tags,
 * forms, the error summary, details, the notification banner), without the
 * GOV.UK crown, logo or font: careclock is not a GOV.UK service
 * (docs/dashboard.md). Every value goes through careclock/html.h. Pages
 * work without JavaScript and without the stylesheet.
 *
 * The pages live by job: pages.c (the frame, messages, signing in, the
 * helpers below), pagework.c (My work), pagechild.c (a child), pagedecide.c (its decisions),
 * pagefigures.c (team, service, timeliness).
 *
 * Internal to daemon/http/ and the unit tests.
 */
#ifndef CARECLOCK_HTTP_PAGES_H
#define CARECLOCK_HTTP_PAGES_H

#include "careclock/buf.h"
#include "careclock/date.h"
#include "careclock/report.h"

#include <stddef.h>
#include <stdint.h>

/* What every page shows around its content. */
typedef struct {
    const char *title;         /* the page's name, first in <title> */
    const char *user;          /* the signed-in person's name; NULL: nobody */
    const char *user_role;     /* how they use careclock, in words */
    const char *csrf;          /* for the sign-out form (email sign-in) */
    int email_signout;         /* a sign-out button */
    const char *proxy_signout; /* the council's sign-out link (proxy sign-in), or NULL */
    const char *nav;           /* the current item: "work", "team", "service", "timeliness" */
    const char *team_id;       /* the Team item's team (NULL: no Team item) */
    int nav_service;           /* a Service item */
    int nav_timeliness;        /* a Timeliness item */
    const char *notice;        /* a notification banner's text (NULL: none) */
    int notice_success;        /* the banner says a form was done (GOV.UK's success banner) */
} cc__page_t;

void cc__page_begin(cc_buf_t *out, const cc__page_t *p);
void cc__page_end(cc_buf_t *out, const cc__page_t *p);

/* The status as a GOV.UK tag ("Overdue", red). */
void cc__page_tag(cc_buf_t *out, const char *status);

/* A whole page with a heading and a paragraph (errors: 403, 404, ...). */
void cc__page_message(cc_buf_t *out, const cc__page_t *p, const char *heading, const char *text,
                      const char *link_href, const char *link_text);

/* ---- helpers the page files share (pages.c) ---- */

/* s, or "" for NULL. */
const char *cc__page_or_empty(const char *s);
/* An ISO date as <time datetime=ISO>Mon 2 Nov 2026</time>; "-" for
 * NULL or ""; an unparsable value as text. */
void cc__page_date(cc_buf_t *out, const char *iso);
/* /children/ID (the id as a path segment). */
void cc__page_child_href(cc_buf_t *out, const char *child_id);
/* The id of a clock's section: clock-RULE-SEQ. */
void cc__page_clock_anchor(cc_buf_t *out, const char *rule_id, int seq);
/* ID (LABEL), escaped (no label: ID alone). */
void cc__page_child_name(cc_buf_t *out, const char *id, const char *label);

/* ---- signing in ---- */

typedef struct {
    const char *csrf;
    const char *next;          /* the page to go to afterwards ("" none) */
    const char *email;         /* as typed (after an error) */
    const char *error;         /* what is wrong with it, or NULL */
    int minutes;               /* a link is good for */
    const char *unavailable;   /* careclock cannot send e-mail: why (NULL: it can) */
    int signed_out;            /* "You have signed out" */
} cc__signin_t;

void cc__page_signin(cc_buf_t *out, const cc__page_t *p, const cc__signin_t *s);
void cc__page_signin_sent(cc_buf_t *out, const cc__page_t *p, const char *email, int minutes);
/* The page a sign-in link opens: a button that uses it (POST). */
void cc__page_signin_confirm(cc_buf_t *out, const cc__page_t *p, const char *token, const char *csrf);
void cc__page_proxy_signin(cc_buf_t *out, const cc__page_t *p, const char *why);

/* ---- my work ---- */

typedef struct {
    const char *child_id, *child_label; /* label: initials or name, NULL for none */
    const char *rule_id, *title, *status, *due_date, *reason;
    int seq;
    long working_days;          /* overdue: working days since the due date; due soon: left; -1: unknown */
    const char *note;           /* escalations: the stage and when sent */
    const char *agreed;         /* an extension in force: the agreed date, which working_days counts to; NULL */
} cc__work_item_t;

typedef struct {
    const char *heading;        /* the worker's name (managers' pages), NULL: no heading */
    const char *heading_id;
    cc__work_item_t *items;     /* data errors first, then by urgency; a child's items together */
    size_t nitems;
    size_t overdue, due_soon, data_errors, children;
} cc__work_group_t;

typedef struct {
    char id[80], name[256];
    size_t children, overdue, due_soon, open, data_errors;
} cc__work_team_t;

typedef struct {
    const char *intro;
    cc__work_group_t *groups;
    size_t ngroups;
    size_t overdue, due_soon, data_errors;
    cc__work_item_t *escalations; /* sent to this person, clock still open */
    size_t nescalations;
    cc__work_team_t *teams;     /* service managers and viewers: their teams now */
    size_t nteams;
    size_t limit;               /* items shown per group at most (0: all) */
} cc__work_t;

void cc__page_work(cc_buf_t *out, const cc__page_t *p, const cc__work_t *w);

/* ---- a child ---- */

/* The decision forms a clock offers (issue 17 decisions; who may: the
 * rule's extend_by, except_by, the recipients of its stages). */
#define CC__FORM_EXTEND 1u
#define CC__FORM_EXCEPT 2u
#define CC__FORM_ACK 4u

typedef struct {
    const char *rule_id, *title, *status, *start, *due, *met_on, *source, *reason;
    int seq;
    const char *explanation;    /* the engine's words, as `careclock explain` prints them */
    const char *instance;       /* the instance's identity (cc_clock_key): the forms name it */
    const char *agreed;         /* an extension in force: the agreed date (ISO); NULL none */
    unsigned forms;             /* CC__FORM_*: the forms offered to the person looking */
    const char *const *except_codes; /* the rule's except_reasons */
    size_t nexcept_codes;
} cc__child_clock_t;

/* A decision about one of the child's clocks, as the page lists it. */
typedef struct {
    long long id;
    const char *kind;           /* "extend", "except", "ack", "inform", "withdraw" */
    const char *rule_id, *title;
    int seq;                    /* the clock's seq now (0: not among the clocks now) */
    const char *date;           /* extend: agreed date; ack: held until (ISO); NULL */
    const char *code;           /* except: the reason code */
    const char *reason;         /* why, or the note */
    const char *by, *by_name, *by_role, *at, *via;
    long long withdraws;        /* withdraw: the decision withdrawn */
    int withdrawn;              /* withdrawn since */
    int may_withdraw;           /* the person looking may withdraw it (a form) */
} cc__child_decision_t;

/* A decision form sent back with an error (the GOV.UK error summary names
 * the field; the form keeps what was typed). */
typedef struct {
    const char *kind;           /* the form: "extend", "except", "ack", "withdraw" */
    const char *rule_id;        /* its clock (withdraw: NULL) */
    int seq;
    long long decision;         /* withdraw: the decision */
    const char *field;          /* the field in error: "to", "reason", "code", "note", "until" */
    const char *message;        /* what is wrong, in words */
    const char *to, *reason, *code, *note, *until; /* as typed */
} cc__decision_error_t;

typedef struct {
    int64_t id;
    const char *date, *type, *source;
} cc__child_event_t;

typedef struct {
    const char *when, *stage, *kind, *role, *recipient, *channel, *state, *rule_id;
    int seq;
} cc__child_delivery_t;

typedef struct {
    const char *id, *label, *dob;
    const char *team_id, *team_name, *worker_id, *worker_name, *iro_id, *iro_name;
    int team_link;              /* the viewer may open the team's page */
    cc__child_clock_t *clocks;
    size_t nclocks;
    cc__child_event_t *events;
    size_t nevents;
    cc__child_delivery_t *deliveries;
    size_t ndeliveries;
    cc__child_decision_t *decisions; /* by id */
    size_t ndecisions;
    const char *csrf;           /* the forms' token */
    const char *today;          /* ISO: the forms' hints */
    const cc__decision_error_t *error; /* a form sent back, or NULL */
} cc__child_page_t;

void cc__page_child(cc_buf_t *out, const cc__page_t *p, const cc__child_page_t *c);

/* The pieces of the child page about decisions (pagedecide.c): a clock's
 * forms (k->forms), the list of decisions with the withdrawal forms, and
 * the error summary of a form sent back (nothing when c->error is NULL). */
void cc__page_decision_forms(cc_buf_t *out, const cc__child_page_t *c, const cc__child_clock_t *k);
void cc__page_decisions(cc_buf_t *out, const cc__child_page_t *c);
void cc__page_decision_errors(cc_buf_t *out, const cc__child_page_t *c);

/* ---- figures: team, service, timeliness ---- */

/* One line of counts now. */
typedef struct {
    const char *id, *name, *href; /* href: a link for the name, or NULL */
    size_t children;              /* (size_t)-1: not shown */
    size_t overdue, due_soon, open, met, met_late, cancelled, data_errors;
} cc__count_row_t;

typedef struct {
    const char *caption;
    const char *first_column;   /* "Clock", "Worker", "Team" */
    int show_children, show_done;
    cc__count_row_t *rows;
    size_t nrows;
    cc__count_row_t total;
} cc__count_table_t;

void cc__page_count_table(cc_buf_t *out, const cc__count_table_t *t);

typedef struct {
    const char *asof;           /* "Figures as of 10:42 on Mon 2 Nov 2026" */
    int stale;                  /* being updated */
} cc__figures_t;

typedef struct {
    const char *team_id, *team_name, *manager_name;
    cc__figures_t figures;
    cc__count_table_t by_clock, by_worker;
    const cc_report_t *trend;   /* the last 12 months, by month, this team */
    const char *timeliness_href;
} cc__team_page_t;

void cc__page_team(cc_buf_t *out, const cc__page_t *p, const cc__team_page_t *t);

typedef struct {
    const char *heading;
    cc__figures_t figures;
    cc__count_table_t by_team;
    const cc_report_t *trend;   /* the last 12 months, by month, all these teams together */
    const cc_report_t *by_team_year; /* the last 12 months, each team */
} cc__service_page_t;

void cc__page_service(cc_buf_t *out, const cc__page_t *p, const cc__service_page_t *s);

typedef struct {
    const char *value, *label;
} cc__option_t;

typedef struct {
    cc__figures_t figures;
    /* the form, as asked */
    const char *from, *to, *by, *team, *clock;
    int by_worker;
    const char *error_field, *error; /* a bad value: the field's id and the message */
    cc__option_t *teams;        /* "" all together, "*" each, then each team */
    size_t nteams;
    cc__option_t *clocks;       /* "" every clock, then each */
    size_t nclocks;
    const char *query;          /* the form as a query string, for the CSV link */
    const cc_report_t *report;  /* NULL after an error */
    size_t too_many;            /* the groups asked for, when too many to show (report: the totals); 0 */
} cc__timeliness_page_t;

void cc__page_timeliness(cc_buf_t *out, const cc__page_t *p, const cc__timeliness_page_t *t);

#endif
