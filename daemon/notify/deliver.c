/* The delivery cycle. See include/careclock/deliver.h.
 *
 * Invariants:
 *  - At most one cycle runs at a time; everything a cycle allocates (the
 *    claim, the jobs, the rendered bodies) lives in the cycle and is freed
 *    when its last job is recorded.
 *  - A cycle's end (done callback) always runs from a libuv callback: the
 *    sender's job callbacks, or the finish timer when nothing was sent.
 *  - The sender is replaced only between cycles (after a reload), so no job
 *    ever refers to a closed sender. Old senders close on their own.
 */
#include "careclock/deliver.h"
#include "careclock/buf.h"
#include "careclock/env.h"
#include "careclock/error.h"
#include "careclock/log.h"
#include "careclock/message.h"
#include "careclock/outbox.h"
#include "careclock/payload.h"
#include "careclock/planner.h"
#include "careclock/sender.h"
#include "careclock/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

/* An outcome that could not be written: another process held the write
 * lock past the busy timeout, or the disk was full. The message has gone
 * (or failed); if its rows stayed "sending" they would wait for this
 * process to exit and then go again. So the outcome is kept, with what
 * recording it needs, and written at the start of every later cycle (and
 * on close) until it is. */
typedef struct unrecorded {
    struct unrecorded *next;
    int64_t *ids;            /* the message's delivery rows */
    size_t n;
    int64_t batch;
    int attempts;
    cc_outcome_t outcome;
    char *error;             /* NULL when none */
    long retry_after;
    time_t at;               /* when the outcome happened */
    char *message_id;        /* for the log */
} unrecorded_t;

typedef struct {
    cc_send_job_t job;       /* first: the sender hands it back */
    cc_deliverer_t *d;
    size_t index;            /* the message in the claim */
    cc_buf_t body;
    char file_name[300];
} job_t;

/* The steps of a cycle. */
enum { PHASE_FULL, PHASE_QUEUED, PHASE_SEND };

struct cc_deliverer {
    uv_loop_t *loop;
    cc_store_t *store;
    const cc_env_t *env;
    cc_deliverer_options_t options;
    cc_sender_t *sender;
    int sender_stale;
    uv_timer_t finish;        /* ends cycles that sent nothing */
    int closing;
    int timer_closed;
    int sender_closed;
    void (*closed)(void *);
    void *closed_data;
    char claimer[64];
    /* planning */
    cc_date_t last_plan_day;  /* the day of the last whole-council plan */
    uint64_t last_plan_ms;
    int plan_owed;            /* a whole-council plan is owed */
    cc_outbox_full_t full;    /* the whole-council plan under way (full_active) */
    int full_active;
    cc_date_t full_day;       /* the day it began on */
    uint64_t full_started_ms;
    cc_outbox_plan_stats_t full_stats; /* its figures so far */
    size_t full_steps;
    int phase;                /* the running cycle's step: PHASE_* */
    size_t slice;             /* children per planning step, sized by time */
    int busy_tries;           /* the current step's tries refused as busy */
    /* the running cycle */
    int running;
    time_t now;
    uint64_t started_ms;
    cc_deliver_cb done;
    void *done_data;
    cc_deliver_stats_t stats;
    cc_outbox_claim_t claim;
    job_t *jobs;
    size_t outstanding;
    unrecorded_t *unrecorded; /* oldest first */
};

void cc_deliverer_options_default(cc_deliverer_options_t *o)
{
    memset(o, 0, sizeof(*o));
    o->max_messages = 200;
    o->plan_interval_s = 3600;
    o->log_outcomes = 1;
    o->settle_seconds = -1; /* [notify] settle */
    cc_sender_options_default(&o->sender);
}

int cc_deliverer_busy(const cc_deliverer_t *d)
{
    return d != NULL && d->running;
}

int cc_deliverer_sending(const cc_deliverer_t *d)
{
    return d != NULL && d->running && d->outstanding > 0;
}

void cc_deliverer_reload(cc_deliverer_t *d)
{
    d->sender_stale = 1;
    d->plan_owed = 1;
    /* A plan under way was made with the old configuration: start again. */
    cc_outbox_full_free(&d->full);
    d->full_active = 0;
}

static void on_old_sender_closed(void *data)
{
    (void)data;
}

static int ensure_sender(cc_deliverer_t *d)
{
    char err[256];
    if (d->sender != NULL && !d->sender_stale)
        return 0;
    if (d->sender != NULL)
        cc_sender_close(d->sender, on_old_sender_closed, NULL);
    d->sender = NULL;
    d->sender_stale = 0;
    int rc = cc_sender_new(d->loop, &d->env->config, &d->options.sender, &d->sender, err, sizeof(err));
    if (rc != 0)
        cc_log(CC_LOG_ERR, "deliveries: cannot start the channels: %s", err);
    return rc;
}

/* ---- ending a cycle ------------------------------------------------------- */

static void end_cycle(cc_deliverer_t *d)
{
    for (size_t i = 0; d->jobs && i < d->claim.n; i++)
        cc_buf_free(&d->jobs[i].body);
    free(d->jobs);
    d->jobs = NULL;
    cc_outbox_claim_free(&d->claim);
    d->running = 0;
    cc_deliver_stats_t stats = d->stats;
    cc_deliver_cb done = d->done;
    void *data = d->done_data;
    d->done = NULL;
    if (done)
        done(d, &stats, data);
}

static void on_finish(uv_timer_t *t)
{
    cc_deliverer_t *d = t->data;
    if (d->running && d->outstanding == 0)
        end_cycle(d);
}

/* The time now on the cycle's clock: its start plus the time since. */
static time_t cycle_now(const cc_deliverer_t *d)
{
    return d->now + (time_t)((uv_now(d->loop) - d->started_ms) / 1000);
}

static void unrecorded_free(unrecorded_t *u)
{
    if (u == NULL)
        return;
    free(u->ids);
    free(u->error);
    free(u->message_id);
    free(u);
}

/* Keep m's outcome for a later cycle to write. Returns 0 or CC_ENOMEM (the
 * rows then stay sending until this process exits, as before). */
static int keep_unrecorded(cc_deliverer_t *d, const cc_outbox_message_t *m, cc_outcome_t outcome, const char *error,
                           long retry_after, time_t at)
{
    unrecorded_t *u = calloc(1, sizeof(*u));
    if (u == NULL)
        return CC_ENOMEM;
    u->ids = calloc(m->msg.nitems ? m->msg.nitems : 1, sizeof(*u->ids));
    u->error = error ? strdup(error) : NULL;
    u->message_id = strdup(m->msg.message_id ? m->msg.message_id : "");
    if (u->ids == NULL || (error && u->error == NULL) || u->message_id == NULL) {
        unrecorded_free(u);
        return CC_ENOMEM;
    }
    for (size_t i = 0; i < m->msg.nitems; i++)
        u->ids[i] = m->msg.items[i].delivery_id;
    u->n = m->msg.nitems;
    u->batch = m->msg.batch;
    u->attempts = m->attempts;
    u->outcome = outcome;
    u->retry_after = retry_after;
    u->at = at;
    unrecorded_t **tail = &d->unrecorded;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = u;
    return 0;
}

/* Write the outcomes kept by earlier cycles, oldest first; stop at the
 * first that still cannot be written. */
static void record_unrecorded(cc_deliverer_t *d)
{
    while (d->unrecorded != NULL) {
        unrecorded_t *u = d->unrecorded;
        cc_message_item_t *items = calloc(u->n ? u->n : 1, sizeof(*items));
        if (items == NULL)
            return;
        for (size_t i = 0; i < u->n; i++)
            items[i].delivery_id = u->ids[i];
        cc_outbox_message_t m = {.attempts = u->attempts};
        m.msg.batch = u->batch;
        m.msg.message_id = u->message_id;
        m.msg.items = m.items = items;
        m.msg.nitems = u->n;
        const char *state = NULL;
        int rc = cc_outbox_record(d->store, &m, u->outcome, u->error, u->retry_after, u->at, &state);
        free(items);
        if (rc != 0)
            return;
        cc_log(CC_LOG_NOTICE, "deliveries: the outcome of message %s is recorded now (%s)", u->message_id, state);
        d->unrecorded = u->next;
        unrecorded_free(u);
    }
}

static void record(cc_deliverer_t *d, const cc_outbox_message_t *m, cc_outcome_t outcome, const char *error,
                   long retry_after)
{
    const char *state = NULL;
    time_t at = cycle_now(d);
    int rc = cc_outbox_record(d->store, m, outcome, error, retry_after, at, &state);
    const char *channel = cc_channel_name(m->msg.channel);
    if (rc != 0) {
        /* The rows stay in sending for now; the outcome is kept and written
         * by a later cycle, so the message neither waits for a restart nor
         * goes twice. */
        int kept = keep_unrecorded(d, m, outcome, error, retry_after, at);
        cc_log(CC_LOG_ERR, "deliveries: recording the outcome of message %s failed: %s (%s); %s", m->msg.message_id,
               cc_strerror(rc), cc_store_errmsg(d->store, NULL),
               kept == 0 ? "it is kept and recorded by a later cycle" : "it goes again after a restart");
        d->stats.error = rc;
        return;
    }
    if (strcmp(state, "sent") == 0) {
        d->stats.sent++;
        if (d->options.log_outcomes)
            cc_log(CC_LOG_INFO, "deliveries: sent %s to %s by %s (%zu item%s, attempt %d)", m->msg.message_id,
                   m->msg.recipient, channel, m->msg.nitems, m->msg.nitems == 1 ? "" : "s", m->attempts);
    } else if (strcmp(state, "retrying") == 0) {
        d->stats.retrying++;
        if (d->options.log_outcomes)
            cc_log(CC_LOG_WARNING, "deliveries: %s to %s by %s will be retried (attempt %d): %s", m->msg.message_id,
                   m->msg.recipient, channel, m->attempts, error ? error : "");
    } else {
        d->stats.failed++;
        cc_log(CC_LOG_ERR, "deliveries: %s to %s by %s failed for good: %s", m->msg.message_id, m->msg.recipient,
               channel, error ? error : "");
    }
}

static void on_job_done(cc_send_job_t *sj)
{
    job_t *job = (job_t *)sj;
    cc_deliverer_t *d = job->d;
    const cc_outbox_message_t *m = &d->claim.messages[job->index];
    char reason[512];
    switch (sj->result) {
    case CC_SEND_OK: record(d, m, CC_OUTCOME_SENT, NULL, -1); break;
    case CC_SEND_RETRY: record(d, m, CC_OUTCOME_RETRY, sj->error, sj->retry_after); break;
    case CC_SEND_FAILED: record(d, m, CC_OUTCOME_FAILED, sj->error, -1); break;
    case CC_SEND_GONE:
        snprintf(reason, sizeof(reason), "410 Gone in answer to %s", m->msg.message_id);
        cc_outbox_webhook_disable(d->store, m->msg.address, reason, cycle_now(d));
        cc_log(CC_LOG_ERR,
               "deliveries: WEBHOOK %s DISABLED: it answered 410 Gone (the channel's workflow was deleted or "
               "turned off). Nothing more goes to it until `careclock deliveries enable-webhook %s`.",
               m->msg.address, m->msg.address);
        snprintf(reason, sizeof(reason), "webhook %s answered 410 Gone and is now disabled", m->msg.address);
        record(d, m, CC_OUTCOME_FAILED, reason, -1);
        break;
    }
    if (--d->outstanding == 0)
        end_cycle(d);
}

/* ---- running a cycle ------------------------------------------------------ */

/* A whole-council plan is wanted: asked for, owed, a new day, or the
 * safety-net interval passed. */
static int want_plan(cc_deliverer_t *d, time_t now, unsigned flags)
{
    cc_local_time_t local = cc_time_local(now);
    uint64_t ms = uv_now(d->loop);
    return (flags & CC_DELIVER_PLAN) || d->plan_owed || d->last_plan_day != local.date ||
           ms - d->last_plan_ms >= (uint64_t)d->options.plan_interval_s * 1000;
}

static void file_name(const cc_outbox_message_t *m, char *buf, size_t len)
{
    const char *id = m->msg.message_id ? m->msg.message_id : "message";
    size_t n = strlen(id);
    if (n >= 2 && id[0] == '<' && id[n - 1] == '>')
        snprintf(buf, len, "%.*s.eml", (int)(n - 2), id + 1);
    else
        snprintf(buf, len, "%s%s", id, m->msg.channel == CC_CHANNEL_EMAIL ? ".eml" : ".json");
}

static void message_context(const cc_deliverer_t *d, cc_message_context_t *ctx)
{
    struct tm tm;
    time_t now = cycle_now(d);
    localtime_r(&now, &tm);
    memset(ctx, 0, sizeof(*ctx));
    ctx->today = cc_time_local(now).date;
    ctx->now = now;
    ctx->utc_offset_minutes = (int)(tm.tm_gmtoff / 60);
    ctx->privacy = d->env->config.privacy;
    ctx->from = d->env->config.smtp_from;
    ctx->public_url = d->env->config.public_url;
    ctx->cal = d->env->cal;
}

/* Render and hand every claimed message to the sender. */
static void send_all(cc_deliverer_t *d)
{
    cc_message_context_t ctx;
    char err[512];
    message_context(d, &ctx);
    d->jobs = calloc(d->claim.n ? d->claim.n : 1, sizeof(*d->jobs));
    if (d->jobs == NULL) {
        /* The rows stay sending; recover hands them back after a restart. */
        d->stats.error = CC_ENOMEM;
        return;
    }
    for (size_t i = 0; i < d->claim.n; i++) {
        cc_outbox_message_t *m = &d->claim.messages[i];
        job_t *job = &d->jobs[i];
        job->d = d;
        job->index = i;
        cc_buf_init(&job->body);
        d->stats.items += m->msg.nitems;
        int rc;
        err[0] = '\0';
        if (m->msg.channel == CC_CHANNEL_EMAIL)
            rc = cc_message_email(&m->msg, &ctx, &job->body, err, sizeof(err));
        else
            rc = cc_payload_render(&m->msg, m->format, &ctx, &job->body);
        if (rc == CC_EINVAL) {
            /* A header value with a line break: refused, never sent. */
            record(d, m, CC_OUTCOME_FAILED, err, -1);
            continue;
        }
        if (rc != 0 || job->body.failed) {
            record(d, m, CC_OUTCOME_RETRY, "out of memory rendering the message", -1);
            continue;
        }
        file_name(m, job->file_name, sizeof(job->file_name));
        job->job.channel = m->msg.channel;
        job->job.rcpt = m->msg.address;
        job->job.webhook = m->msg.address;
        job->job.message_id = m->msg.message_id;
        job->job.body = job->body.data;
        job->job.len = job->body.len;
        job->job.file_name = job->file_name;
        job->job.done = on_job_done;
        job->job.data = d;
        d->outstanding++;
        if (cc_sender_send(d->sender, &job->job) != 0) {
            d->outstanding--;
            record(d, m, CC_OUTCOME_RETRY, "the channels are stopping", -1);
        }
    }
}

/* Claim what is ready and hand it to the sender; the cycle ends when the
 * last outcome is recorded (or at once, from the finish timer). */
static void claim_and_send(cc_deliverer_t *d)
{
    char err[512];
    time_t now = cycle_now(d);
    d->phase = PHASE_SEND;
    d->stats.window_open = cc_planner_in_window(d->env->cal, &d->env->planner, cc_time_local(now));
    if (d->stats.window_open && ensure_sender(d) == 0) {
        int rc = cc_outbox_claim(d->store, d->env, now, d->claimer, d->options.max_messages, &d->claim, err,
                                 sizeof(err));
        if (rc != 0) {
            cc_log(CC_LOG_WARNING, "deliveries: claiming failed, will retry: %s", err);
            d->stats.error = rc;
        } else {
            d->stats.messages = d->claim.n;
            d->stats.skipped = d->claim.skipped;
            d->stats.more = d->claim.more;
            send_all(d);
        }
    }
    if (d->outstanding == 0)
        uv_timer_start(&d->finish, on_finish, 0, 0);
}

/* A planning step should hold the write lock (and the loop) for about
 * this long. The next slice is sized from the last one's time per child,
 * growing by half at most (children differ: a run of children with
 * nothing open is quick, the next run may not be), and never beyond
 * SLICE_MAX, so one step stays well under a tenth of a second even where
 * every child has many open clocks (about 0.2 ms a child at 100,000). */
#define STEP_TARGET_US 20000
#define SLICE_MIN 8
#define SLICE_MAX 256

/* A step refused because another process took the write lock meanwhile
 * is tried again after STEP_BUSY_WAIT_MS, up to STEP_BUSY_TRIES times in a
 * row; then planning waits for the next cycle. */
#define STEP_BUSY_WAIT_MS 5

/* The least time between two planning steps. */
#define STEP_GAP_MS 1
#define STEP_BUSY_TRIES 40

static void size_slice(cc_deliverer_t *d, uint64_t took_us)
{
    uint64_t fit = took_us ? (uint64_t)d->slice * STEP_TARGET_US / took_us : SLICE_MAX;
    uint64_t most = (uint64_t)d->slice + d->slice / 2;
    if (fit > most)
        fit = most;
    d->slice = fit < SLICE_MIN ? SLICE_MIN : fit > SLICE_MAX ? SLICE_MAX : (size_t)fit;
}

static void on_plan_step(uv_timer_t *t);

/* The whole council is planned: one line (at most hourly). */
static void log_full_plan(const cc_deliverer_t *d)
{
    const cc_outbox_plan_stats_t *p = &d->full_stats;
    cc_log(CC_LOG_INFO,
           "deliveries: every child planned in %.1f s (%zu step%s): %zu clocks, %zu new deliveries (%zu "
           "undeliverable: see careclock deliveries --status undeliverable), %zu cancelled whose clock closed",
           (double)(uv_now(d->loop) - d->full_started_ms) / 1000.0, d->full_steps, d->full_steps == 1 ? "" : "s",
           p->clocks, p->enqueued, p->undeliverable, p->cancelled);
    if (p->before_since > 0) {
        char day[CC_DATE_STRLEN];
        cc_log(CC_LOG_INFO,
               "deliveries: %zu open clock%s due before [notify] since = %s not reminded or escalated (go-live)",
               p->before_since, p->before_since == 1 ? "" : "s", cc_date_format(d->env->planner.since, day));
    }
}

/* One planning step: a slice of the whole council, or a batch of queued
 * children. Each is its own short transaction, and the loop runs between
 * steps (the recompute, the feed server, signals), so no step holds the
 * write lock for long however large the council. A step that fails ends
 * planning for this cycle; the next cycle goes on from the same slice. */
static void plan_step(cc_deliverer_t *d)
{
    char err[512];
    time_t now = cycle_now(d);
    uint64_t t0 = uv_hrtime();
    int rc, more = 0;
    cc_outbox_plan_stats_t before = d->stats.plan;
    if (d->phase == PHASE_FULL) {
        cc_outbox_plan_stats_t step = {0};
        rc = cc_outbox_plan_slice(d->store, d->env, now, &d->full, d->slice, &step, err, sizeof(err));
        if (rc == 0) {
            d->full_steps++;
            cc_outbox_plan_stats_add(&d->stats.plan, &step);
            cc_outbox_plan_stats_add(&d->full_stats, &step);
        }
        if (rc == 0 && d->full.done) {
            cc_outbox_full_free(&d->full);
            d->full_active = 0;
            d->stats.planned = 1;
            d->last_plan_day = d->full_day;
            d->last_plan_ms = d->full_started_ms;
            log_full_plan(d);
            d->phase = PHASE_QUEUED;
        }
        more = 1;
    } else {
        long settle = d->options.settle_seconds >= 0 ? d->options.settle_seconds : d->env->config.settle_seconds;
        rc = cc_outbox_plan_queued(d->store, d->env, now, d->slice, settle, &more, &d->stats.plan, err, sizeof(err));
        if (rc == 0 && d->stats.plan.children > before.children)
            d->stats.planned = 1;
    }
    if (rc == CC_EBUSY && ++d->busy_tries < STEP_BUSY_TRIES) {
        /* Another process wrote meanwhile: the step goes again shortly,
         * on a fresh snapshot. */
        uv_timer_start(&d->finish, on_plan_step, STEP_BUSY_WAIT_MS, 0);
        return;
    }
    if (rc != 0) {
        cc_log(CC_LOG_WARNING, "deliveries: planning failed, will go on next cycle: %s", err);
        d->stats.error = rc;
        claim_and_send(d);
        return;
    }
    d->busy_tries = 0;
    uint64_t took_us = (uv_hrtime() - t0) / 1000;
    size_slice(d, took_us);
    if (more) {
        /* Never 0: libuv runs a timer restarted at 0 from its own callback
         * again in the same pass, before polling, so the steps would run
         * back to back with nothing else (the WAL watch, the feed server)
         * in between. A step that wrote held the write lock: leave as long
         * again for other writers, whose busy handlers poll for it. */
        int wrote = d->stats.plan.enqueued != before.enqueued || d->stats.plan.cancelled != before.cancelled;
        uint64_t gap = wrote ? took_us / 1000 : 0;
        uv_timer_start(&d->finish, on_plan_step, gap < STEP_GAP_MS ? STEP_GAP_MS : gap, 0);
        return;
    }
    claim_and_send(d);
}

static void on_plan_step(uv_timer_t *t)
{
    cc_deliverer_t *d = t->data;
    if (d->running && !d->closing)
        plan_step(d);
}

int cc_deliverer_run(cc_deliverer_t *d, time_t now, unsigned flags, cc_deliver_cb done, void *data)
{
    int rc;
    if (d->running || d->closing)
        return CC_ESTATE;
    d->running = 1;
    d->now = now;
    d->started_ms = uv_now(d->loop);
    d->done = done;
    d->done_data = data;
    d->outstanding = 0;
    memset(&d->stats, 0, sizeof(d->stats));
    record_unrecorded(d);
    if ((rc = cc_outbox_recover(d->store, now, &d->stats.recovered)) != 0) {
        cc_log(CC_LOG_WARNING, "deliveries: recovering interrupted sends failed: %s", cc_strerror(rc));
        d->stats.error = rc;
    } else if (d->stats.recovered > 0) {
        cc_log(CC_LOG_NOTICE,
               "deliveries: %zu delivery row(s) were being sent by a process that stopped; they go again with the "
               "same message ids",
               d->stats.recovered);
    }
    cc_date_t today = cc_time_local(now).date;
    /* A plan begun on another day is begun again: its horizon was that day's. */
    if (d->full_active && d->full_day != today) {
        cc_outbox_full_free(&d->full);
        d->full_active = 0;
    }
    if (!d->full_active && want_plan(d, now, flags)) {
        cc_outbox_full_init(&d->full);
        memset(&d->full_stats, 0, sizeof(d->full_stats));
        d->full_steps = 0;
        d->full_active = 1;
        d->full_day = today;
        d->full_started_ms = uv_now(d->loop);
        d->plan_owed = 0;
    }
    d->phase = d->full_active ? PHASE_FULL : PHASE_QUEUED;
    d->busy_tries = 0;
    /* The steps run from the loop, never from inside this call. */
    uv_timer_start(&d->finish, on_plan_step, 0, 0);
    return 0;
}

/* ---- life cycle ------------------------------------------------------------ */

int cc_deliverer_new(uv_loop_t *loop, cc_store_t *store, const cc_env_t *env, const cc_deliverer_options_t *options,
                     cc_deliverer_t **out, char *err, size_t errlen)
{
    cc_deliverer_t *d = calloc(1, sizeof(*d));
    *out = NULL;
    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return CC_ENOMEM;
    }
    d->loop = loop;
    d->store = store;
    d->env = env;
    if (options)
        d->options = *options;
    else
        cc_deliverer_options_default(&d->options);
    if (d->options.max_messages == 0)
        d->options.max_messages = 200;
    d->last_plan_day = CC_DATE_NONE;
    d->plan_owed = 1;
    d->slice = 64;
    cc_outbox_full_init(&d->full);
    cc_outbox_claimer(store, d->claimer, sizeof(d->claimer));
    uv_timer_init(loop, &d->finish);
    d->finish.data = d;
    *out = d;
    return 0;
}

static void maybe_closed(cc_deliverer_t *d)
{
    if (!d->timer_closed || !d->sender_closed)
        return;
    void (*closed)(void *) = d->closed;
    void *data = d->closed_data;
    cc_outbox_full_free(&d->full);
    free(d);
    if (closed)
        closed(data);
}

static void on_timer_closed(uv_handle_t *h)
{
    cc_deliverer_t *d = h->data;
    d->timer_closed = 1;
    maybe_closed(d);
}

static void on_sender_closed(void *data)
{
    cc_deliverer_t *d = data;
    d->sender_closed = 1;
    maybe_closed(d);
}

void cc_deliverer_close(cc_deliverer_t *d, void (*closed)(void *data), void *data)
{
    if (d == NULL) {
        if (closed)
            closed(data);
        return;
    }
    if (d->closing)
        return;
    d->closing = 1;
    d->closed = closed;
    d->closed_data = data;
    cc_sender_t *sender = d->sender;
    d->sender = NULL;
    /* Jobs in flight complete (as retrying) from inside this call, which
     * ends a running cycle. */
    if (sender != NULL)
        cc_sender_close(sender, on_sender_closed, d);
    else
        d->sender_closed = 1;
    if (d->running && d->outstanding == 0)
        end_cycle(d);
    /* A last try for outcomes still unwritten; what remains goes again
     * after a restart, with the same ids (recovery). */
    record_unrecorded(d);
    while (d->unrecorded != NULL) {
        unrecorded_t *u = d->unrecorded;
        cc_log(CC_LOG_WARNING, "deliveries: the outcome of message %s could not be recorded; it goes again, with "
                               "the same id, when careclock next runs",
               u->message_id);
        d->unrecorded = u->next;
        unrecorded_free(u);
    }
    uv_close((uv_handle_t *)&d->finish, on_timer_closed);
}

/* ---- one-shot, for the CLI -------------------------------------------------- */

typedef struct {
    cc_deliver_stats_t last;
    int finished;
} once_t;

typedef struct {
    cc_deliverer_t *d;
    int gave_up;
} deadline_t;

/* The run's time is up: what is in flight is recorded as retrying (same
 * ids) and the run ends. */
static void on_deadline(uv_timer_t *t)
{
    deadline_t *dl = t->data;
    dl->gave_up = 1;
    cc_log(CC_LOG_WARNING, "deliveries: the run's time limit passed: giving up; what was in flight goes again "
                           "later, with the same ids");
    cc_deliverer_close(dl->d, NULL, NULL);
}

static void once_done(cc_deliverer_t *d, const cc_deliver_stats_t *stats, void *data)
{
    once_t *o = data;
    (void)d;
    o->last = *stats;
    o->finished = 1;
}

static void once_closed(void *data)
{
    (void)data;
}

static void add_stats(cc_deliver_stats_t *sum, const cc_deliver_stats_t *s)
{
    sum->planned |= s->planned;
    cc_outbox_plan_stats_add(&sum->plan, &s->plan);
    sum->recovered += s->recovered;
    sum->window_open = s->window_open;
    sum->messages += s->messages;
    sum->items += s->items;
    sum->sent += s->sent;
    sum->retrying += s->retrying;
    sum->failed += s->failed;
    sum->skipped += s->skipped;
    sum->more = s->more;
    if (sum->error == 0)
        sum->error = s->error;
}

int cc_deliver_once(cc_store_t *store, const cc_env_t *env, time_t now, const cc_deliverer_options_t *options,
                    int max_cycles, cc_deliver_stats_t *stats, char *err, size_t errlen)
{
    uv_loop_t loop;
    cc_deliverer_t *d = NULL;
    int rc;
    memset(stats, 0, sizeof(*stats));
    if (uv_loop_init(&loop) != 0) {
        snprintf(err, errlen, "cannot start an event loop");
        return CC_ENOMEM;
    }
    rc = cc_deliverer_new(&loop, store, env, options, &d, err, errlen);
    uint64_t start = uv_now(&loop);
    uv_timer_t deadline;
    deadline_t dl = {.d = d};
    uv_timer_init(&loop, &deadline);
    deadline.data = &dl;
    if (rc == 0 && options != NULL && options->max_run_ms > 0)
        uv_timer_start(&deadline, on_deadline, options->max_run_ms, 0);
    for (int cycle = 0; rc == 0 && !dl.gave_up && cycle < (max_cycles > 0 ? max_cycles : 1); cycle++) {
        once_t o = {0};
        /* The clock moves on with real time between cycles. */
        uv_update_time(&loop);
        rc = cc_deliverer_run(d, now + (time_t)((uv_now(&loop) - start) / 1000), cycle == 0 ? CC_DELIVER_PLAN : 0,
                              once_done, &o);
        while (rc == 0 && !o.finished) {
            if (uv_run(&loop, UV_RUN_ONCE) == 0 && !o.finished) {
                snprintf(err, errlen, "the delivery cycle stalled");
                rc = CC_ESTATE;
            }
        }
        add_stats(stats, &o.last);
        if (!o.last.more || o.last.messages == 0 || o.last.error != 0)
            break;
    }
    stats->gave_up = dl.gave_up;
    uv_close((uv_handle_t *)&deadline, NULL);
    cc_deliverer_close(d, once_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        snprintf(err, errlen, "the event loop did not close cleanly");
    if (rc == 0 && stats->error != 0) {
        rc = stats->error;
        snprintf(err, errlen, "%s (see the log lines above)", cc_strerror(rc));
    }
    return rc;
}
