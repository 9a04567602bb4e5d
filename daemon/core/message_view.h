/* The ordered view of a message's items and the phrases every renderer
 * shares. Internal to core/: core/message.c builds the view and writes the
 * email (subject, text, HTML, RFC 5322); core/payload.c walks the same view
 * for the webhook payloads (generic JSON, Teams, Slack).
 *
 * Design notes:
 *  - Every renderer works from one ordered view of the items: grouped by
 *    child, children ordered by their most urgent item, items by urgency
 *    (overdue, due today, due soon, open, then notices), then due date.
 *    Text, HTML and the three webhook formats walk the same view and use
 *    the same phrases, so they always agree.
 *  - One entry per clock instance (child, rule, seq): when several rows of
 *    one clock are in a message (stages that fell on one day, a worker who
 *    is also the team manager), the view keeps the latest stage (an
 *    escalation before a reminder, then the later stage day) and counts
 *    the others as covered by it. The outbox still records every row.
 *  - Every phrase says what an item is now ("OVERDUE by 12 working days,
 *    escalated to you 11 working days ago"), never which stage brought it:
 *    a row held or retried for weeks would otherwise still say "reminder
 *    1 working day before the due date".
 *  - "How late" is counted in working days to ctx->today on the council's
 *    calendar, as the statuses are.
 *  - The phrase functions write into the caller's fixed buffer (snprintf:
 *    a long title is cut, never overrun) and return it, so that they can
 *    stand as printf arguments.
 */
#ifndef CARECLOCK_CORE_MESSAGE_VIEW_H
#define CARECLOCK_CORE_MESSAGE_VIEW_H

#include "careclock/buf.h"
#include "careclock/message.h"

#include <stddef.h>

/* How urgent an item is, most urgent first (the view's order). */
typedef enum {
    CC_MESSAGE_RANK_OVERDUE,
    CC_MESSAGE_RANK_TODAY,
    CC_MESSAGE_RANK_SOON,
    CC_MESSAGE_RANK_OPEN,
    CC_MESSAGE_RANK_MET,
    CC_MESSAGE_RANK_CLOSED,
    CC_MESSAGE_RANK_OTHER
} cc_message_rank_t;

/* One item in the view. */
typedef struct {
    const cc_message_item_t *item; /* borrowed from the message */
    cc_message_rank_t rank;
    cc_date_t due;                 /* CC_DATE_NONE sorts last */
    cc_message_rank_t child_rank;  /* the child's most urgent item */
    cc_date_t child_due;
    int first_of_child;            /* set on the first item of each child in order */
    int late;                      /* working days late now (0 when not overdue) */
    int source;                    /* 1-based number of its source in the view's sources; 0: none */
} cc_message_entry_t;

/* One distinct statutory source of the view's items, numbered in order of
 * first appearance (the footnotes). Borrowed strings. */
typedef struct {
    const char *title;
    const char *source;
} cc_message_source_t;

/* The items of a message in order, and how many of each rank. */
typedef struct {
    cc_message_entry_t *entries;   /* n, owned by the view */
    size_t n;                      /* distinct clock instances */
    size_t rows;                   /* the message's items (n plus the rows covered) */
    size_t children;
    size_t overdue, today, soon, open, met, closed;
    cc_message_source_t *sources;  /* nsources, owned by the view */
    size_t nsources;
    int for_manager;               /* an escalation to a manager or a team's channel */
    const char *team;              /* the one team of every item, or NULL */
    size_t teams;                  /* distinct teams named */
} cc_message_view_t;

/* Build the view of m's items as of ctx->today into v. m, ctx and v are
 * not NULL; m->items holds m->nitems items (NULL when there are none). v
 * borrows the items: m must outlive it. Returns 0, or CC_ENOMEM (v then
 * needs no freeing, though cc_message_view_free is harmless). */
int cc_message_view_build(const cc_message_t *m, const cc_message_context_t *ctx, cc_message_view_t *v);

/* Free what cc_message_view_build allocated; v is left empty. */
void cc_message_view_free(cc_message_view_t *v);

/* The subject line of the message whose view is v (UTF-8, not encoded),
 * appended to out: who it is for (the team), then the one item in words,
 * or the counts of a digest and its most urgent item. Returns 0 or
 * CC_ENOMEM. */
int cc_message_view_subject(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx,
                            cc_buf_t *out);

/* "40 overdue, 2 due today, 3 due soon" (the non-zero counts of v),
 * appended to out. */
void cc_message_counts_phrase(const cc_message_view_t *v, cc_buf_t *out);

/* One line per worker of v's items, for a manager: "Wendy Worker: 12
 * overdue, 1 due soon", the worker with the most overdue first; each line
 * passed to line(arg, worker, counts). Returns the number of workers. */
size_t cc_message_by_worker(const cc_message_view_t *v, void (*line)(void *arg, const char *worker, const char *counts),
                            void *arg);

/* What the recipient is asked to do, in one or two sentences, into buf. */
char *cc_message_what_to_do(const cc_message_view_t *v, char *buf, size_t len);

/* "Mon 28 Dec 2026", or "an unknown date" for CC_DATE_NONE, into buf. */
char *cc_message_human_date(cc_date_t d, char *buf, size_t len);

/* "C1 (A.B.)", "C1", or "C1 Alice Brown" per privacy, into buf; with
 * webhook set never the full name. */
char *cc_message_child_label(const cc_message_item_t *it, cc_privacy_t privacy, int webhook, char *buf,
                             size_t len);

/* Working days late (> 0) of an overdue or late-met item; 0 otherwise. */
int cc_message_days_late(const cc_message_item_t *it, const cc_message_context_t *ctx);

/* Where the clock stands, in words ("OVERDUE by 3 working days", "due in
 * 5 working days", "now met, on ..."), into buf. */
char *cc_message_status_phrase(const cc_message_item_t *it, const cc_message_context_t *ctx, char *buf,
                               size_t len);

/* What the item is to its recipient now: the status phrase, and for an
 * escalation when it came ("OVERDUE by 12 working days, escalated to you
 * 11 working days ago"; "to the team" when to_team), into buf. */
char *cc_message_now_phrase(const cc_message_item_t *it, const cc_message_context_t *ctx, int to_team, char *buf,
                            size_t len);

/* The clock's title, with its number when it is not the first, into buf. */
char *cc_message_title_label(const cc_message_item_t *it, char *buf, size_t len);

/* Who holds the case ("held by Wendy Worker, Team East"), into buf. */
char *cc_message_holder_line(const cc_message_item_t *it, char *buf, size_t len);

/* Upper-case the first letter of s when it is an ASCII letter. */
void cc_message_capitalise(char *s);

#endif
