/* The outbox: durable delivery state in the plan database (table
 * deliveries, docs/schema.md; the policy in docs/delivery.md).
 *
 * The shell around the planner (planner.h) and the renderers (message.h):
 *  - plan:    read the clocks and the people, run the planner, enqueue each
 *             planned delivery exactly once by its unique key (INSERT OR
 *             IGNORE), and cancel pending rows whose clock closed; the
 *             whole council in slices, or the children queued since;
 *  - claim:   take the rows ready now (pending, or retrying with
 *             next_attempt_at <= now) and mark them sending in one
 *             transaction, grouped into messages (a digest per recipient, or
 *             one message per row); a message keeps its rows and its
 *             Message-ID / webhook-id on every attempt;
 *  - record:  the outcome of one message, in one transaction: sent (with
 *             sent_at), retrying (exponential backoff with jitter, honouring
 *             Retry-After), failed (permanent, with the reason);
 *  - recover: rows left in sending by a process that died go back to
 *             pending, to be sent again with the same ids.
 * Planning is daemon/store/outbox_plan.c, claiming outbox_claim.c, the
 * rest (record, recover, retry, prune, webhook endpoints, the listing)
 * outbox.c; the statements that read the clocks table are clocks.c's.
 *
 * Times are time_t (UTC seconds), stored as UTC text (careclock/time.h);
 * local times (the window, stage dates) are taken in the process's time
 * zone (cc_time_set_zone(), from [careclock] timezone). Functions return
 * 0 or a negative CC_E* code; err (when given) receives a message.
 */
#ifndef CARECLOCK_OUTBOX_H
#define CARECLOCK_OUTBOX_H

#include "careclock/env.h"
#include "careclock/message.h"
#include "careclock/planner.h"
#include "careclock/store.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Retries: about 1 min, 5 min, 30 min, 2 h, 6 h, then every 12 h for 3
 * days; after the last, the message fails for good. */
#define CC_OUTBOX_MAX_ATTEMPTS 12

/* Largest number of items in one digest message. */
#define CC_OUTBOX_DIGEST_MAX 500

typedef struct {
    size_t clocks;        /* clock instances considered */
    size_t planned;       /* deliveries the planner produced */
    size_t enqueued;      /* of those, new rows */
    size_t undeliverable; /* of the new rows, recorded undeliverable */
    size_t cancelled;     /* pending or retrying rows cancelled: their clock closed */
    size_t children;      /* children planned from the plan queue */
    size_t before_since;  /* open clocks not reminded: chased to a date before [notify] since (go-live) */
} cc_outbox_plan_stats_t;

/* Add s's figures to sum (NULL: nothing). */
void cc_outbox_plan_stats_add(cc_outbox_plan_stats_t *sum, const cc_outbox_plan_stats_t *s);

/* Children per slice for cc_outbox_plan (careclockd sizes its slices by
 * the time they take). */
#define CC_OUTBOX_SLICE_CHILDREN 256

/* What is planned, and when (docs/delivery.md, "Planning"):
 *  - the whole council, in slices of children by id, each slice its own
 *    short transaction: at start, on a new day, after a reload, and every
 *    plan_interval_s as a safety net;
 *  - between those, only the children in the plan queue (table plan_queue,
 *    filled by triggers whenever a child's clock rows, its worker, IRO or
 *    team, its team's managers or webhook, or a staff email change, by any
 *    process), a few at a time.
 * Every slice and every queued batch is planned exactly as the whole
 * council would be: enqueued once by the unique key (INSERT OR IGNORE),
 * "now met" notices for closed escalated clocks, and pending rows of
 * closed clocks cancelled. */

/* A whole-council plan under way, slice by slice. Owned by the caller:
 * cc_outbox_full_init before the first slice, cc_outbox_full_free after
 * (or to start again). */
typedef struct {
    char *next;      /* the first child id of the next slice (NULL: the start) */
    int64_t mark;    /* plan_queue rows up to this id are covered */
    int started;
    int done;        /* the last slice is planned */
} cc_outbox_full_t;

void cc_outbox_full_init(cc_outbox_full_t *full);
void cc_outbox_full_free(cc_outbox_full_t *full);

/* Plan the next slice of full (up to max_children children) at now, in one
 * transaction; stats accumulate. After the last slice full->done is 1 and
 * the plan queue rows that were there when the first slice began are
 * deleted. On failure nothing of the slice is written and full is
 * unchanged (the same slice can be tried again). The transaction is
 * deferred: it reads until the first row to write, so a slice with nothing
 * new never takes the write lock. Returns 0, CC_EBUSY (the write lock was
 * held, or taken and released, by another process meanwhile: try again),
 * CC_EDB or CC_ENOMEM (with err). */
int cc_outbox_plan_slice(cc_store_t *store, const cc_env_t *env, time_t now, cc_outbox_full_t *full,
                         size_t max_children, cc_outbox_plan_stats_t *stats, char *err, size_t errlen);

/* Plan the children of the next max_children rows of the plan queue at
 * now and delete those rows, in one transaction (none when the queue is
 * empty: that check is a read). New rows that could go at once wait
 * settle_s seconds first (careclockd: [notify] settle; 0: none), so that a
 * burst of changes gathers into one digest (the claim takes a recipient's
 * rows due within the settling time together). *more is 1 when more rows
 * may be waiting. Returns 0, CC_EBUSY (as for a slice), CC_EDB or
 * CC_ENOMEM (with err). */
int cc_outbox_plan_queued(cc_store_t *store, const cc_env_t *env, time_t now, size_t max_children, long settle_s,
                          int *more, cc_outbox_plan_stats_t *stats, char *err, size_t errlen);

/* The planner's per-range statements, i = 0, 1, ... (NULL past the last),
 * for the tests that check SQLite serves each from the child-id keys. */
const char *cc_outbox_plan_sql(size_t i);

/* The whole council and then the queue, every slice in turn (for the CLI
 * and the tests). The clocks table is read as it stands (the caller brings
 * it up to date first). A step refused with CC_EBUSY is tried again, a few
 * times. Returns 0, CC_EBUSY, CC_EDB or CC_ENOMEM. */
int cc_outbox_plan(cc_store_t *store, const cc_env_t *env, time_t now, cc_outbox_plan_stats_t *stats, char *err,
                   size_t errlen);

/* A delivery a plan would make (cc_outbox_plan_dry): its clock and the
 * planner's row. Borrowed for the call. */
typedef struct {
    const char *child_id, *rule_id, *instance;
    int seq;
    cc_date_t due, agreed;
    const char *status;
    const cc_planned_t *planned;
} cc_outbox_dry_row_t;

typedef int (*cc_outbox_dry_fn)(void *arg, const cc_outbox_dry_row_t *row);

/* What cc_outbox_plan would enqueue now, without writing anything: for
 * each new delivery (not in the outbox yet) fn(arg, row), in child order,
 * until fn returns nonzero (returned). One read transaction over the whole
 * council; nothing is cancelled, the plan queue is left as it is. stats
 * count as a plan would (enqueued: what would be). 0, CC_EDB, CC_ENOMEM
 * or fn's value. */
int cc_outbox_plan_dry(cc_store_t *store, const cc_env_t *env, time_t now, cc_outbox_dry_fn fn, void *arg,
                       cc_outbox_plan_stats_t *stats, char *err, size_t errlen);

/* One claimed message: what the sender sends and the outcome is recorded
 * for. Everything it points to belongs to the claim. */
typedef struct {
    cc_message_t msg;                 /* items, ids, addresses */
    cc_message_item_t *items;         /* == msg.items, writable */
    int attempts;                     /* this attempt's number (1 for the first) */
    time_t first_attempt_at;
    cc_webhook_format_t format;       /* webhooks: the endpoint's format */
} cc_outbox_message_t;

typedef struct {
    cc_outbox_message_t *messages;
    size_t n;
    size_t skipped;   /* rows found undeliverable or failed at claim (recorded) */
    int more;         /* more rows were ready than one claim takes */
    /* owned storage */
    char **strings;
    size_t nstrings, capstrings;
} cc_outbox_claim_t;

/* Claim up to max_messages messages ready at now, marking their rows
 * sending (claimed_by = claimer) in one transaction. With digest on
 * (config), ready rows of one recipient and channel not marked immediate
 * become one message, with that recipient's rows that would be ready
 * within [notify] settle seconds; a message starts only from a row ready
 * now; a new message's id carries a random part chosen here; rows already in a message (a retry, or recovered
 * after a crash) go again as that message. Rows whose recipient has no
 * usable address now are recorded undeliverable, and rows to a webhook
 * disabled by a 410 failed, inside the same transaction. The caller frees
 * out with cc_outbox_claim_free. */
int cc_outbox_claim(cc_store_t *store, const cc_env_t *env, time_t now, const char *claimer, size_t max_messages,
                    cc_outbox_claim_t *out, char *err, size_t errlen);

void cc_outbox_claim_free(cc_outbox_claim_t *claim);

typedef enum {
    CC_OUTCOME_SENT,          /* accepted by the server */
    CC_OUTCOME_RETRY,         /* a temporary failure: try again later */
    CC_OUTCOME_FAILED,        /* a permanent failure */
    CC_OUTCOME_UNDELIVERABLE  /* nowhere to send it */
} cc_outcome_t;

/* Record the outcome of message m (every row still in it and sending) in
 * one transaction. error: what went wrong (NULL for sent). retry_after:
 * seconds the server asked us to wait (Retry-After), or -1. A retry after
 * the last attempt becomes failed. *state_out (may be NULL) receives the
 * state written. Returns 0 or CC_EDB. */
int cc_outbox_record(cc_store_t *store, const cc_outbox_message_t *m, cc_outcome_t outcome, const char *error,
                     long retry_after, time_t now, const char **state_out);

/* Rows left in sending by a process that is no longer running go back to
 * pending (keeping their message and ids). *recovered (may be NULL) is the
 * number of rows. */
int cc_outbox_recover(cc_store_t *store, time_t now, size_t *recovered);

/* This process's claimer id into buf: "lk:<16 hex digits>", a liveness
 * mark held (through store, until it closes) in the file DATABASE-senders,
 * which any process that can open the database can test whatever /proc
 * shows it; or, where no mark can be held (an in-memory database), the old
 * "pid:start-time". cc_outbox_recover hands back rows of a claimer whose
 * mark is no longer held. */
char *cc_outbox_claimer(cc_store_t *store, char *buf, size_t len);

/* The delay before the next attempt after attempts failed ones (1 for the
 * first failure), with +-20% jitter derived from key: 0 and *delay, or
 * CC_ERANGE when no attempt is left. */
int cc_outbox_backoff(int attempts, int64_t key, long *delay);

/* Requeue a failed delivery (its whole message, same ids) or an
 * undeliverable one (its address is resolved again). CC_ENOTFOUND,
 * CC_ESTATE (another state) with the reason in err. */
int cc_outbox_retry(cc_store_t *store, int64_t id, time_t now, char *err, size_t errlen);

/* Delete the outbox rows of every clock instance that is closed (met,
 * met late, cancelled) or gone, whose rows are all final (sent, failed,
 * undeliverable, cancelled) and none updated on or after the day before
 * (UTC), in one transaction: the retention of delivery records, for
 * `careclock deliveries prune`. Nothing pruned is planned again, unless
 * its clock opens again. *deleted receives the rows deleted. Returns 0 or
 * CC_EDB (with err). */
int cc_outbox_prune(cc_store_t *store, cc_date_t before, size_t *deleted, char *err, size_t errlen);

/* Webhook endpoints disabled by a 410 Gone. disable records it (and fails
 * nothing by itself); enable clears it (CC_ENOTFOUND when it was not
 * disabled); disabled returns 1 (with the time and reason into since, when
 * not NULL), 0, or CC_EDB. */
int cc_outbox_webhook_disable(cc_store_t *store, const char *name, const char *reason, time_t now);
int cc_outbox_webhook_enable(cc_store_t *store, const char *name);
int cc_outbox_webhook_disabled(cc_store_t *store, const char *name, char *since, size_t len);

/* A delivery as the listing shows it (careclock deliveries): every column
 * as stored, NULL for NULL; the strings live until fn returns. */
typedef struct {
    int64_t id;
    const char *state, *child_id, *rule_id;
    int seq;
    const char *stage, *stage_date, *kind, *role, *recipient, *channel, *address, *due_date, *due_at;
    int attempts;
    const char *next_attempt_at, *sent_at, *message_id, *last_error;
    const char *instance; /* the clock instance's identity (seq: its number when planned, for display) */
} cc_outbox_row_t;

typedef int (*cc_outbox_row_fn)(void *arg, const cc_outbox_row_t *row);

/* The listing's filters: any of the states given (none: every state), of
 * child_id (NULL: every child). */
#define CC_OUTBOX_STATES_MAX 7
typedef struct {
    const char *states[CC_OUTBOX_STATES_MAX];
    size_t nstates;
    const char *child_id;
} cc_outbox_filter_t;

/* The deliveries that pass f, by id, one call of fn each (a nonzero return
 * stops them and is returned). 0, CC_EDB or fn's value. */
int cc_outbox_list(cc_store_t *store, const cc_outbox_filter_t *f, cc_outbox_row_fn fn, void *arg);

/* One child's deliveries, newest first (the dashboard's child page). 0,
 * CC_EDB or fn's value. */
int cc_outbox_of_child(cc_store_t *store, const char *child_id, cc_outbox_row_fn fn, void *arg);

/* The number of deliveries in each state (the metrics), as fn(arg, state,
 * NULL, n), by state. 0, CC_EDB or fn's value. */
int cc_outbox_count_by_state(cc_store_t *store, cc_store_count_fn fn, void *arg);

#endif
