/* The clocks table (docs/schema.md, "clocks"): every read of it. The
 * evaluation writes it (evaluate.h); daemon/store/clocks.c reads it for
 * everyone else: the CLI's listing, careclockd's status counts and
 * metrics, the timeliness report's rows, the calendar feeds' rows, and the
 * outbox's planning, claiming and pruning (through statements the outbox
 * steps itself, daemon/store/internal.h).
 *
 * Rows are streamed: each function calls fn once per row, in the order it
 * states, with a row whose strings live until fn returns (NULL for a NULL
 * column unless said otherwise). A nonzero return from fn stops the rows
 * and is returned. Otherwise the functions return 0 or CC_EDB.
 */
#ifndef CARECLOCK_CLOCKS_H
#define CARECLOCK_CLOCKS_H

#include "careclock/buf.h"
#include "careclock/date.h"
#include "careclock/engine.h"
#include "careclock/store.h"

#include <stddef.h>
#include <stdint.h>

/* One clock instance, with what its readers join to it. Each reader fills
 * the fields it states; the others are NULL (or 0). */
typedef struct {
    const char *child_id, *rule_id, *title, *source;
    int seq;
    const char *start_date, *due_date, *status, *met_on, *reason; /* as stored */
    const char *updated_at;
    int64_t sequence;              /* the iCalendar SEQUENCE */
    const char *instance;          /* the instance's identity ("812.2", engine.h cc_clock_key) */
    const char *left_care_on;      /* the day the child left care, closing it unmet; NULL when not */
    const char *agreed_due;        /* an extension in force: the agreed date (decision.h); NULL when none */
    /* joined */
    const char *initials, *full_name, *worker_id, *worker_name, *team_id, *iro_id;
    const char *start_event_type;  /* the type of the event that started it */
    int names_not_shown;           /* feeds: names over CC_NAME_MAX characters left out (NULL above) */
} cc_clock_row_t;

typedef int (*cc_clock_row_fn)(void *arg, const cc_clock_row_t *row);

/* The listing's filters: each one given narrows the rows; NULL (or no
 * status) does not filter. */
#define CC_CLOCKS_STATUS_FILTER_MAX CC_STATUS_COUNT
typedef struct {
    const char *child_id, *team_id, *worker_id;
    cc_status_t statuses[CC_CLOCKS_STATUS_FILTER_MAX];
    size_t nstatuses;
    const char *iro_id;   /* the children this IRO reviews */
    int with_names;       /* fill full_name (privacy = full only) */
} cc_clocks_filter_t;

/* The clocks that pass f, most urgent first (overdue, data errors, at
 * risk, due soon, open, met late, met, the rest), then by due date and
 * key. Rows: child_id, rule_id, seq, title, start_date, due_date, status,
 * met_on, worker_id, team_id (the child's now), source, reason, initials,
 * full_name (with_names only), iro_id, instance, left_care_on, agreed_due. Each filter goes
 * through its index: --child the primary key, --team and --worker the
 * children's indexes, --status alone clocks_by_status. */
int cc_clocks_list(cc_store_t *s, const cc_clocks_filter_t *f, cc_clock_row_fn fn, void *arg);

/* The listing's statement for f, appended to sql: for the tests that
 * check SQLite serves each filter from its index. 0 or CC_ENOMEM. */
int cc_clocks_list_sql(const cc_clocks_filter_t *f, cc_buf_t *sql);

/* How many clocks are overdue and due soon (careclockd's STATUS= line): a
 * scan of clocks_by_status. */
int cc_clocks_status_counts(cc_store_t *s, size_t *overdue, size_t *due_soon);

/* The number of clocks by rule and status (the metrics), as
 * fn(arg, rule_id, status, n), by rule then status. */
int cc_clocks_count_by_rule(cc_store_t *s, cc_store_count_fn fn, void *arg);

/* Which clocks the report counts: due in [from, to] (CC_DATE_NONE: from
 * the earliest, to the latest), of clock (NULL: every clock), held on their
 * due date by team and by worker (NULL: anyone); data errors never. */
typedef struct {
    cc_date_t from, to;
    const char *team, *clock, *worker;
} cc_clocks_due_t;

/* One clock instance of the timeliness report, credited to who held the
 * child on its due date (docs/schema.md, "assignments"). Strings are never
 * NULL ("" for a NULL column or nobody), but met_on: NULL when unmet. */
typedef struct {
    const char *child_id, *rule_id, *title, *start_date, *due_date, *status, *met_on;
    cc_date_t due;                     /* due_date, parsed */
    cc_date_t agreed;                  /* an extension in force: the agreed date; CC_DATE_NONE when none */
    int seq;
    const char *team_id, *worker_id;   /* held the child on the due date */
    const char *team_now, *worker_now; /* hold the child now */
} cc_clocks_credit_row_t;

typedef int (*cc_clocks_credit_fn)(void *arg, const cc_clocks_credit_row_t *row);

/* The instances q asks for, child by child (in no particular order of
 * children; a child's clocks together, by rule and seq), each credited to
 * the team and worker who held the child on its due date: the allocation
 * that began last on or before that day, else the earliest recorded, else
 * the child's holders now. Children drive the read, each child's clocks
 * one primary-key range (bench/RESULTS.md); a team or worker asked for
 * reads only the children it ever held. */
int cc_clocks_credited(cc_store_t *s, const cc_clocks_due_t *q, cc_clocks_credit_fn fn, void *arg);

/* The statement cc_clocks_credited runs for q, for the tests of its plan. */
const char *cc_clocks_credited_sql(const cc_clocks_due_t *q);

/* The number of children (of team; NULL: all) whose data cannot be
 * evaluated (a data_error clock) into *n. */
int cc_clocks_data_error_children(cc_store_t *s, const char *team, size_t *n);

/* One clock instance as it stands (status, dates; NULL columns NULL), for
 * the checks of a decision about it. Strings live until the next call on
 * the store. */
typedef struct {
    const char *status, *due_date, *agreed_due, *title;
    int seq;
} cc_clocks_one_t;

/* The clock (child_id, rule_id, instance) into *out: 0, CC_ENOTFOUND,
 * CC_EDB. */
int cc_clocks_get(cc_store_t *s, const char *child_id, const char *rule_id, const char *instance,
                  cc_clocks_one_t *out, char *buf, size_t buflen);

/* The identity of a child's clock of rule_id numbered seq (as the listing
 * shows it) into instance (len bytes): 0, CC_ENOTFOUND, CC_EDB. */
int cc_clocks_instance_of(cc_store_t *s, const char *child_id, const char *rule_id, int seq, char *instance,
                          size_t len);

/* An escalation sent to someone whose clock is still not met (the
 * dashboard's My work). Strings never NULL but initials and full_name. */
typedef struct {
    const char *child_id, *rule_id, *title, *due_date, *status, *stage, *sent_at;
    int seq;
    const char *initials, *full_name; /* full_name NULL unless asked for */
} cc_clocks_escalation_t;

typedef int (*cc_clocks_escalation_fn)(void *arg, const cc_clocks_escalation_t *e);

/* The escalations e-mailed to staff_id (sent) whose clock is still open,
 * due soon or overdue, among the children staff_id is worker or IRO of or
 * manages the team of; by the clock's due date. */
int cc_clocks_escalated_to(cc_store_t *s, const char *staff_id, int with_names, cc_clocks_escalation_fn fn, void *arg);

/* Whose clocks a feed shows: a team's children, or every child a member of
 * staff is allocated to, reviews, or whose team they manage. */
typedef enum { CC_CLOCKS_OF_TEAM, CC_CLOCKS_OF_STAFF } cc_clocks_of_t;

/* The clocks a calendar feed of (of, id) shows, by child, rule and
 * instance (the primary key's order):
 * clocks with a due date and data errors (shown on today's date until
 * mended), and of the met, met late, cancelled and excepted ones only
 * those done on or after done_since (CC_DATE_NONE: all). Rows: child_id,
 * initials, full_name (NULL unless with_names), rule_id, title, source,
 * seq, start_date, due_date, status, met_on, start_event_type, reason,
 * worker_name, updated_at, sequence, instance, agreed_due. A name
 * (initials, full name, the worker's) over CC_NAME_MAX characters, which
 * only another system can have written, is NULL and counted in
 * names_not_shown: left out in SQL, so not even one copy per row is made
 * (a 5 MB name on every row of a large feed was gigabytes). A staff
 * member's children are chosen first, from the children table alone, and
 * their clocks then read by primary key (docs/feeds.md). */
int cc_clocks_feed_rows(cc_store_t *s, cc_clocks_of_t of, const char *id, cc_date_t done_since, int with_names,
                        cc_clock_row_fn fn, void *arg);

#endif
