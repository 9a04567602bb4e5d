/* The delivery cycle: recover, plan, claim, render, send, record. One
 * function for careclockd's timer and for `careclock deliveries run`
 * (councils that prefer cron, and the tests).
 *
 * A cycle at time now:
 *  1. recover: rows left in sending by a process that died go back to
 *     pending (same message, same ids);
 *  2. plan: the whole council (when asked, when the local day changed,
 *     or every plan_interval_s), then the children in the plan queue,
 *     a step at a time: each step (a slice of children by id) is one
 *     short transaction run from the loop, sized to take about 20 ms, so
 *     planning never holds the write lock or the loop for long; a plan
 *     interrupted (a failed step, a stop) goes on from its slice in the
 *     next cycle (outbox.h);
 *  3. if now is inside the sending window: claim up to max_messages ready
 *     messages, render each (email, or the endpoint's webhook format),
 *     hand them to the sender;
 *  4. as each message completes, record its outcome in its own
 *     transaction (so a crash repeats at most the messages in flight);
 *     410 Gone disables the endpoint;
 *  5. call done(stats) when the last outcome is recorded.
 * Everything synchronous (database, rendering) happens inside run() or a
 * libuv callback; only the sending is asynchronous.
 *
 * careclockd:
 *     cc_deliverer_new(&loop, store, &env, NULL, &deliverer, err, len);
 *     // on a timer (every 30 s, say), and after a recompute that wrote rows
 *     // (pass CC_DELIVER_PLAN then):
 *     if (!cc_deliverer_busy(deliverer))
 *         cc_deliverer_run(deliverer, daemon_now, flags, on_cycle_done, d);
 *     // after SIGHUP replaced env's contents:
 *     cc_deliverer_reload(deliverer);
 *     // on SIGTERM, after the grace period:
 *     cc_deliverer_close(deliverer, on_closed, d);
 */
#ifndef CARECLOCK_DELIVER_H
#define CARECLOCK_DELIVER_H

#include "careclock/env.h"
#include "careclock/outbox.h"
#include "careclock/sender.h"
#include "careclock/store.h"

#include <time.h>
#include <uv.h>

typedef struct cc_deliverer cc_deliverer_t;

typedef struct {
    int planned;                   /* 1 if this cycle planned */
    cc_outbox_plan_stats_t plan;
    size_t recovered;              /* rows handed back from a dead process */
    int window_open;               /* now was inside the sending window */
    size_t messages;               /* messages claimed */
    size_t items;                  /* deliveries in them */
    size_t sent, retrying, failed; /* messages by outcome */
    size_t skipped;                /* rows recorded undeliverable or failed at claim */
    int more;                      /* more were ready than one cycle takes: run again */
    int gave_up;                   /* cc_deliver_once: the run's time limit passed */
    int error;                     /* 0, or the CC_E* code of a step that failed (logged) */
} cc_deliver_stats_t;

typedef void (*cc_deliver_cb)(cc_deliverer_t *deliverer, const cc_deliver_stats_t *stats, void *data);

typedef struct {
    size_t max_messages;           /* messages claimed per cycle, 200 */
    int plan_interval_s;           /* plan the whole council at least this often, 3600 */
    int log_outcomes;              /* log one line per message (1) */
    long settle_seconds;           /* hold what a change in the day plans this long, to gather a burst
                                      (careclockd: [notify] settle; 0 by default and for the CLI, whose
                                      run plans and sends in one pass) */
    uint64_t max_run_ms;           /* cc_deliver_once: give up after this long in all (0: never); what is
                                      in flight is recorded as retrying */
    cc_sender_options_t sender;
} cc_deliverer_options_t;

void cc_deliverer_options_default(cc_deliverer_options_t *options);

/* Plan a cycle now regardless of plan_interval_s. */
enum { CC_DELIVER_PLAN = 1 };

/* A deliverer on loop for store with env (both borrowed: they must outlive
 * it; env's contents may change between cycles, see reload). options may
 * be NULL. Returns 0 or CC_ENOMEM. */
int cc_deliverer_new(uv_loop_t *loop, cc_store_t *store, const cc_env_t *env, const cc_deliverer_options_t *options,
                     cc_deliverer_t **out, char *err, size_t errlen);

/* Start one cycle at now (the daemon's clock). done(stats) is called from
 * the loop when it ends, never from inside this call. Returns 0, or
 * CC_ESTATE when a cycle is already running or the deliverer is closing. */
int cc_deliverer_run(cc_deliverer_t *d, time_t now, unsigned flags, cc_deliver_cb done, void *data);

/* 1 while a cycle is running (planning or sending). */
int cc_deliverer_busy(const cc_deliverer_t *d);

/* 1 while a cycle has messages in flight (worth waiting for at a stop;
 * a cycle that is only planning can stop at once). */
int cc_deliverer_sending(const cc_deliverer_t *d);

/* The configuration in env changed: the next cycle makes a new sender
 * (re-reading the credentials files) and plans. */
void cc_deliverer_reload(cc_deliverer_t *d);

/* Stop. A running cycle ends at once: messages in flight are recorded as
 * retrying ("interrupted"; they go again with the same ids) and its done
 * callback runs from here. closed(data) runs when every handle is closed;
 * then the deliverer is freed. NULL is fine. */
void cc_deliverer_close(cc_deliverer_t *d, void (*closed)(void *data), void *data);

/* Run cycles at now on a private loop until nothing more is ready (at most
 * max_cycles, and at most options->max_run_ms in all: then the messages in
 * flight are recorded as retrying and stats->gave_up is set), for
 * `careclock deliveries run`. Returns 0 or the first error; *stats
 * accumulates the cycles. */
int cc_deliver_once(cc_store_t *store, const cc_env_t *env, time_t now, const cc_deliverer_options_t *options,
                    int max_cycles, cc_deliver_stats_t *stats, char *err, size_t errlen);

#endif
