/* careclockd's loop. See daemon/daemon/daemon.h.
 *
 * Invariants:
 *  - Every libuv handle is embedded in cc_daemon_t and closed once, on stop;
 *    the loop runs until all are closed, then the database is closed.
 *  - The daemon's notion of now is the wall clock plus clock_offset (set by
 *    --now); today is derived from it in the configured time zone
 *    (careclock/time.h: set for the whole process at start and on reload).
 *  - A recompute that fails (a writer holding the lock past the busy
 *    timeout, a full disk) leaves the change queue as it was; the next tick
 *    tries again. Nothing is lost: the queue is in the database.
 */
#include "daemon/daemon.h"
#include "careclock/clocks.h"
#include "careclock/env.h"
#include "careclock/error.h"
#include "careclock/deliver.h"
#include "careclock/evaluate.h"
#include "careclock/feedserver.h"
#include "careclock/http.h"
#include "careclock/log.h"
#include "careclock/outbox.h"
#include "careclock/store.h"
#include "careclock/time.h"
#include "careclock/version.h"
#include "careclock/web.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#define JUMP_CHECK_MS 15000
#define JUMP_TOLERANCE_S 5
/* STATUS= counts are made again at most every STATUS_RECOUNT_MS, and no
 * more often than STATUS_RECOUNT_SHARE times their own time: counting is a
 * scan of the status index (about 45 ms at 100,000 children), and a write
 * arriving meanwhile waits for it, so it may take 0.2% of the loop at
 * most; the STATUS line lags by seconds in a very large council. */
#define STATUS_RECOUNT_MS 2000
#define STATUS_RECOUNT_SHARE 500
#define ACCESS_FLUSH_MS 10000
#define DELIVER_EVERY_MS 30000
#define DELIVER_SOON_MS 100
/* How long careclockd's own connection waits for another process's write
 * lock. The CLI waits 5 s, but the daemon waits on its loop: while it
 * waits, nothing else runs (feeds, deliveries, the watchdog). So it waits
 * briefly and retries instead (tests/faults/test_faults_lock.py). */
#define DAEMON_BUSY_MS 250
#define RETRY_BUSY_MS 1000        /* after "database is locked": try again soon */
#define RETRY_FIRST_MS 1000       /* after another failure (a full disk): back off ... */
#define RETRY_MAX_MS 30000        /* ... up to this */
#define FAILURE_LOG_EVERY_MS 60000 /* a failure that goes on is logged again this often */

typedef struct {
    uv_loop_t loop;
    cc_daemon_options_t options;
    cc_env_t env;
    char db_path[4096];
    cc_store_t *store;
    int64_t last_data_version;
    int work_pending;          /* the database changed and is not yet recomputed */
    int full_pending;          /* a full recompute is owed (day change, reload) */
    time_t clock_offset;
    cc_date_t today;
    double wall_minus_mono;
    uint64_t last_recount;
    uint64_t recount_every;    /* ms: STATUS_RECOUNT_MS or more (recount) */
    size_t overdue, due_soon;
    int stopping;
    uv_timer_t poll, kick, midnight, jumpcheck, watchdog;
    uv_fs_event_t walwatch;
    uv_signal_t sigterm, sigint, sighup;
    int kick_tries;
    int status_sent;
    int status_dirty;
    cc_http_t *http;
    cc_feedserver_t *feeds;
    cc_web_t *web;
    uv_timer_t access_flush, deliver_timer, grace;
    cc_deliverer_t *deliverer;
    int plan_owed;
    uint64_t last_recompute_ms, recomputes, recompute_failures;
    time_t last_reload;
    /* a recompute that keeps failing: when to try again, and the streak */
    uint64_t retry_at, retry_delay, failing_since, failure_logged_at;
    unsigned failed_streak;
    char last_error[300];      /* the failing recompute's reason, for /healthz and STATUS */
    int degraded;              /* STATUS= says degraded: counts are sent again once it recovers */
} cc_daemon_t;

/* ---- time ---- */

static time_t daemon_now(const cc_daemon_t *d)
{
    return time(NULL) + d->clock_offset;
}

static double wall_minus_mono(void)
{
    struct timespec wall, mono;
    clock_gettime(CLOCK_REALTIME, &wall);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    return (double)(wall.tv_sec - mono.tv_sec) + (double)(wall.tv_nsec - mono.tv_nsec) / 1e9;
}

/* ---- status ---- */

/* Count overdue and due-soon clocks for STATUS=, sent only when the counts
 * change (sd_notify blocks if nobody reads the socket, so never chatter). */
static void recount(cc_daemon_t *d)
{
    size_t before_overdue = d->overdue, before_due_soon = d->due_soon;
    uint64_t t0 = uv_hrtime();
    if (cc_clocks_status_counts(d->store, &d->overdue, &d->due_soon) != 0)
        return;
    uint64_t took_ms = (uv_hrtime() - t0) / 1000000;
    d->recount_every = took_ms * STATUS_RECOUNT_SHARE > STATUS_RECOUNT_MS ? took_ms * STATUS_RECOUNT_SHARE
                                                                          : STATUS_RECOUNT_MS;
    uv_update_time(&d->loop);
    d->last_recount = uv_now(&d->loop);
    d->status_dirty = 0;
    if (d->overdue == before_overdue && d->due_soon == before_due_soon && d->status_sent)
        return;
    d->status_sent = 1;
    d->degraded = 0;
    char day[CC_DATE_STRLEN];
    sd_notifyf(0, "STATUS=%zu overdue, %zu due soon (as of %s)", d->overdue, d->due_soon,
               cc_date_format(d->today, day));
}

/* ---- recomputing ---- */

static int read_data_version(cc_daemon_t *d, int64_t *out)
{
    return cc_store_data_version(d->store, out);
}

static void log_stats(const char *what, const cc_eval_stats_t *s, uint64_t ms)
{
    cc_log(CC_LOG_INFO,
           "%s: %zu children, %zu clocks, %zu rows written, %zu removed, %zu data errors, %zu outside the "
           "holiday years, in %llu ms%s",
           what, s->children, s->clocks, s->written, s->deleted, s->data_errors, s->uncovered,
           (unsigned long long)ms, s->commits > 0 ? " (a first computation, committed as it went)" : "");
}

static void request_delivery(cc_daemon_t *d, int plan);

/* Why careclockd is unhealthy (into why), or NULL when it is not: the
 * database does not answer, no computation has succeeded since start (it
 * has nothing true to show: tests/faults/test_faults_disk.py), or
 * recomputes have failed for [careclockd] unhealthy_after (30 s by default:
 * longer than a lock another process holds for a big import, shorter than
 * anyone would wait for a deadline to show; tests/faults/test_faults_lock.py). */
static const char *unhealthy(cc_daemon_t *d, char *why, size_t len)
{
    int64_t version;
    uint64_t now = uv_now(&d->loop);
    if (d->stopping)
        snprintf(why, len, "stopping");
    else if (read_data_version(d, &version) != 0)
        snprintf(why, len, "the database does not answer: %s", cc_store_errmsg(d->store, NULL));
    else if (d->failed_streak > 0 && d->recomputes == 0)
        snprintf(why, len, "no computation has succeeded since start (%u attempt%s over %.0f s): %s",
                 d->failed_streak, d->failed_streak == 1 ? "" : "s", (double)(now - d->failing_since) / 1000.0,
                 d->last_error);
    else if (d->failed_streak > 0 && now - d->failing_since >= (uint64_t)d->env.config.unhealthy_after_seconds * 1000)
        snprintf(why, len, "recomputes have failed for %.0f s (%u attempts): %s",
                 (double)(now - d->failing_since) / 1000.0, d->failed_streak, d->last_error);
    else
        return NULL;
    return why;
}

/* STATUS=degraded with the reason, once per failing streak that makes
 * careclockd unhealthy; the counts follow again when it recovers. */
static void status_degraded(cc_daemon_t *d)
{
    char why[512];
    if (d->degraded || unhealthy(d, why, sizeof(why)) == NULL)
        return;
    d->degraded = 1;
    d->status_sent = 0;
    sd_notifyf(0, "STATUS=degraded: %s", why);
}

/* Recompute what is owed. Returns 0, or an error after logging it. */
static int recompute(cc_daemon_t *d)
{
    char now[32];
    cc_eval_stats_t stats = {0};
    int64_t version = 0;
    int rc;
    uint64_t t0 = uv_hrtime();
    if (read_data_version(d, &version) != 0)
        version = d->last_data_version;
    cc_date_t today = cc_time_local(daemon_now(d)).date;
    if (today != d->today) {
        char day[CC_DATE_STRLEN];
        cc_log(CC_LOG_INFO, "the day is now %s: recomputing every clock", cc_date_format(today, day));
        d->today = today;
        d->full_pending = 1;
    }
    cc_time_format_utc(daemon_now(d), now, sizeof(now));
    if (d->full_pending)
        rc = cc_evaluate_all(d->store, d->env.rules, d->env.cal, d->today, d->env.fingerprint, now, &stats);
    else
        rc = cc_evaluate_changes(d->store, d->env.rules, d->env.cal, d->today, now, &stats);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    uint64_t now_ms = uv_now(&d->loop);
    if (rc != 0) {
        int code = 0;
        const char *why = cc_store_errmsg(d->store, &code);
        int busy = rc == CC_EBUSY || (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED;
        d->recompute_failures++;
        if (d->failed_streak++ == 0)
            d->failing_since = now_ms;
        snprintf(d->last_error, sizeof(d->last_error), "%s (%s)", cc_strerror(rc), why);
        /* Locked: another writer will finish, try again soon. Anything else
         * (a full disk): back off, doubling, so as not to spin. */
        if (busy)
            d->retry_delay = RETRY_BUSY_MS;
        else
            d->retry_delay = d->retry_delay == 0 ? RETRY_FIRST_MS
                                                 : d->retry_delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : d->retry_delay * 2;
        d->retry_at = now_ms + d->retry_delay;
        if (d->failed_streak == 1 || now_ms - d->failure_logged_at >= FAILURE_LOG_EVERY_MS) {
            d->failure_logged_at = now_ms;
            cc_log(busy ? CC_LOG_WARNING : CC_LOG_ERR,
                   "recompute failed after %llu ms: %s (%s); will retry in %.1f s%s", (unsigned long long)ms,
                   cc_strerror(rc), why, (double)d->retry_delay / 1000.0,
                   d->failed_streak > 1 ? " (still failing)" : "");
        }
        if (d->status_sent || d->degraded) /* after READY: the first failure's READY says it itself */
            status_degraded(d);
        return rc;
    }
    if (d->failed_streak > 0) {
        cc_log(CC_LOG_NOTICE, "recompute succeeded after %u failed attempt%s over %.1f s", d->failed_streak,
               d->failed_streak == 1 ? "" : "s", (double)(now_ms - d->failing_since) / 1000.0);
        d->failed_streak = 0;
        d->retry_delay = d->retry_at = 0;
        if (d->degraded)
            d->status_dirty = 1; /* the counts replace the degraded STATUS below */
    }
    int full = d->full_pending;
    if (full || stats.children > 0)
        log_stats(full ? "full recompute" : "recompute", &stats, ms);
    d->last_recompute_ms = ms;
    d->recomputes++;
    if (d->feeds != NULL && (d->full_pending || stats.written || stats.deleted))
        cc_feedserver_invalidate(d->feeds, &d->env.config, d->env.cal, d->today);
    /* The dashboard's figures follow the clocks and the allocations (a
     * reassignment queues the child, so stats.children counts it). */
    if (d->web != NULL && (d->full_pending || stats.children || stats.written || stats.deleted))
        cc_web_invalidate(d->web, d->today);
    /* A full recompute (start, a new day, a reload) is followed by a plan
     * of the whole council; any other by a plan of the children it touched
     * (the plan queue, filled by triggers: reassignments too). */
    if (full || stats.children || stats.written || stats.deleted)
        request_delivery(d, full);
    d->full_pending = 0;
    d->work_pending = 0;
    d->last_data_version = version;
    /* Our own commit bumps nothing for us, but read it again so a commit by
     * another process during our work is not missed. */
    if (read_data_version(d, &version) == 0 && version != d->last_data_version)
        d->work_pending = 1;
    /* Counting is a scan of the status index: at most every few seconds
     * (the poll timer catches up with a count left owed). */
    d->status_dirty |= stats.written || stats.deleted;
    if (full || d->degraded || (d->status_dirty && uv_now(&d->loop) - d->last_recount >= d->recount_every))
        recount(d);
    return 0;
}

static void on_poll(uv_timer_t *t)
{
    cc_daemon_t *d = t->data;
    int64_t version;
    if (d->stopping)
        return;
    if (read_data_version(d, &version) == 0 && version != d->last_data_version)
        d->work_pending = 1;
    if ((d->work_pending || d->full_pending) && uv_now(&d->loop) >= d->retry_at)
        recompute(d);
    else if (d->status_dirty && uv_now(&d->loop) - d->last_recount >= d->recount_every)
        recount(d);
}

/* A write to the WAL file wakes us at once; but the watch fires on the
 * first frame written, before the commit is visible (the commit lands in
 * the memory-mapped index, which inotify does not see), so look a few times
 * over the next milliseconds until data_version moves. */
#define KICK_TRIES 12
#define KICK_INTERVAL_MS 2

static void on_kick(uv_timer_t *t)
{
    cc_daemon_t *d = t->data;
    int64_t version;
    if (d->stopping)
        return;
    if (read_data_version(d, &version) == 0 && version != d->last_data_version) {
        d->work_pending = 1;
        d->kick_tries = 0;
        if (uv_now(&d->loop) >= d->retry_at) /* else the poll timer retries after the backoff */
            recompute(d);
        return;
    }
    if (++d->kick_tries < KICK_TRIES)
        uv_timer_start(&d->kick, on_kick, KICK_INTERVAL_MS, 0);
    else
        d->kick_tries = 0;
}

static void on_wal_change(uv_fs_event_t *h, const char *filename, int events, int status)
{
    cc_daemon_t *d = h->data;
    (void)filename;
    (void)events;
    (void)status;
    if (!d->stopping && !uv_is_active((uv_handle_t *)&d->kick)) {
        d->kick_tries = 0;
        uv_timer_start(&d->kick, on_kick, 0, 0);
    }
}

static void schedule_midnight(cc_daemon_t *d);

static void on_midnight(uv_timer_t *t)
{
    cc_daemon_t *d = t->data;
    d->full_pending = 1;
    recompute(d);
    schedule_midnight(d);
}

static void schedule_midnight(cc_daemon_t *d)
{
    uv_timer_start(&d->midnight, on_midnight, cc_time_ms_to_midnight(daemon_now(d)), 0);
}

static void on_jumpcheck(uv_timer_t *t)
{
    cc_daemon_t *d = t->data;
    double now = wall_minus_mono();
    double drift = now - d->wall_minus_mono;
    d->wall_minus_mono = now;
    if (drift > JUMP_TOLERANCE_S || drift < -JUMP_TOLERANCE_S) {
        cc_log(CC_LOG_NOTICE, "the wall clock moved by %.0f s (a clock change or a resume from suspend): "
                              "re-evaluating",
               drift);
        d->full_pending = cc_time_local(daemon_now(d)).date != d->today;
        recompute(d);
        schedule_midnight(d);
    }
}

static void on_watchdog(uv_timer_t *t)
{
    cc_daemon_t *d = t->data;
    int64_t version;
    /* Healthy: the loop runs (we are here) and the database answers. */
    if (read_data_version(d, &version) == 0)
        sd_notify(0, "WATCHDOG=1");
    else
        cc_log(CC_LOG_ERR, "watchdog: the database does not answer: %s", cc_store_errmsg(d->store, NULL));
}

/* ---- deliveries ---- */

static void on_deliver_tick(uv_timer_t *t);
static void finish_stop(cc_daemon_t *d);

static void on_cycle_done(cc_deliverer_t *dl, const cc_deliver_stats_t *st, void *data)
{
    cc_daemon_t *d = data;
    (void)dl;
    if (st->messages || st->skipped || st->recovered || (st->planned && st->plan.enqueued))
        cc_log(st->error ? CC_LOG_WARNING : CC_LOG_INFO,
               "deliveries: %zu planned, %zu recovered, %zu messages (%zu items): %zu sent, %zu to retry, %zu failed, "
               "%zu undeliverable%s",
               st->planned ? st->plan.enqueued : 0, st->recovered, st->messages, st->items, st->sent, st->retrying,
               st->failed, st->skipped, st->window_open ? "" : " (outside the sending window)");
    if (d->stopping) {
        finish_stop(d);
        return;
    }
    if (st->more || d->plan_owed) {
        uv_timer_start(&d->deliver_timer, on_deliver_tick, DELIVER_SOON_MS, DELIVER_EVERY_MS);
    } else if (st->plan.enqueued > 0 && d->env.config.settle_seconds > 0) {
        /* What this cycle planned waits the settling time: come back as it
         * ends (plus a little), if that is sooner than the next tick. */
        uint64_t settle_ms = (uint64_t)d->env.config.settle_seconds * 1000 + 200;
        if (!uv_is_active((uv_handle_t *)&d->deliver_timer) || uv_timer_get_due_in(&d->deliver_timer) > settle_ms)
            uv_timer_start(&d->deliver_timer, on_deliver_tick, settle_ms, DELIVER_EVERY_MS);
    }
}

static void run_delivery(cc_daemon_t *d, unsigned flags)
{
    if (d->deliverer == NULL || d->stopping)
        return;
    if (cc_deliverer_busy(d->deliverer)) {
        d->plan_owed |= (flags & CC_DELIVER_PLAN) != 0;
        return;
    }
    if (d->plan_owed)
        flags |= CC_DELIVER_PLAN;
    d->plan_owed = 0;
    if (cc_deliverer_run(d->deliverer, daemon_now(d), flags, on_cycle_done, d) != 0)
        d->plan_owed = (flags & CC_DELIVER_PLAN) != 0;
}

static void on_deliver_tick(uv_timer_t *t)
{
    run_delivery(t->data, 0);
}

/* Clocks changed: plan and send soon (coalescing bursts of changes). */
static void request_delivery(cc_daemon_t *d, int plan)
{
    if (d->deliverer == NULL || d->stopping)
        return;
    d->plan_owed |= plan;
    if (uv_timer_get_due_in(&d->deliver_timer) > DELIVER_SOON_MS || !uv_is_active((uv_handle_t *)&d->deliver_timer))
        uv_timer_start(&d->deliver_timer, on_deliver_tick, DELIVER_SOON_MS, DELIVER_EVERY_MS);
}

/* ---- HTTP routes ---- */

static int route_feed(void *data, const char *token, cc_http_body_t *out)
{
    cc_daemon_t *d = data;
    int64_t version;
    if (read_data_version(d, &version) != 0)
        return CC_EDB;
    return cc_feedserver_feed(d->feeds, token, version, out);
}

static int route_healthz(void *data, char *why, size_t whylen)
{
    cc_daemon_t *d = data;
    return unhealthy(d, why, whylen) != NULL ? CC_ESTATE : 0;
}

/* One row of a gauge: name{label1="key",label2="subkey"} n. */
typedef struct {
    cc_buf_t *out;
    const char *name, *label1, *label2;
} metric_t;

static int metric_row(void *arg, const char *key, const char *subkey, int64_t n)
{
    /* Label values are text from the database (rule ids, states): escaped
     * as the exposition format requires, so no value can end a label, add
     * a line or forge a sample. */
    const metric_t *m = arg;
    cc_buf_printf(m->out, "%s{%s=\"", m->name, m->label1);
    cc_http_metric_label(m->out, key);
    if (m->label2 != NULL) {
        cc_buf_printf(m->out, "\",%s=\"", m->label2);
        cc_http_metric_label(m->out, subkey);
    }
    cc_buf_printf(m->out, "\"} %lld\n", (long long)n);
    return 0;
}

static int route_metrics(void *data, cc_buf_t *out)
{
    cc_daemon_t *d = data;
    char why[512];
    cc_buf_printf(out, "# HELP careclock_build_info The running careclockd's version.\n"
                       "# TYPE careclock_build_info gauge\ncareclock_build_info{version=\"%s\"} 1\n",
                  cc_version());
    cc_buf_puts(out, "# HELP careclock_clocks Clock instances by rule and status.\n# TYPE careclock_clocks gauge\n");
    cc_clocks_count_by_rule(d->store, metric_row, &(metric_t){out, "careclock_clocks", "rule", "status"});
    cc_buf_puts(out, "# HELP careclock_deliveries Deliveries in the outbox by state.\n"
                     "# TYPE careclock_deliveries gauge\n");
    cc_outbox_count_by_state(d->store, metric_row, &(metric_t){out, "careclock_deliveries", "state", NULL});
    uint64_t renders = 0, hits = 0;
    if (d->feeds)
        cc_feedserver_counts(d->feeds, &renders, &hits);
    cc_buf_printf(out,
                  "# HELP careclock_recompute_seconds Duration of the last recompute.\n"
                  "# TYPE careclock_recompute_seconds gauge\ncareclock_recompute_seconds %.3f\n"
                  "# HELP careclock_recomputes_total Recomputes done.\n# TYPE careclock_recomputes_total counter\n"
                  "careclock_recomputes_total %llu\n"
                  "# HELP careclock_recompute_failures_total Recomputes that failed and were retried.\n"
                  "# TYPE careclock_recompute_failures_total counter\ncareclock_recompute_failures_total %llu\n"
                  "# HELP careclock_recompute_failing_seconds How long recomputes have been failing (0: the last "
                  "one succeeded).\n"
                  "# TYPE careclock_recompute_failing_seconds gauge\ncareclock_recompute_failing_seconds %.1f\n"
                  "# HELP careclock_healthy 1 while /healthz answers 200.\n"
                  "# TYPE careclock_healthy gauge\ncareclock_healthy %d\n"
                  "# HELP careclock_last_reload_timestamp_seconds Time of the last start or reload.\n"
                  "# TYPE careclock_last_reload_timestamp_seconds gauge\n"
                  "careclock_last_reload_timestamp_seconds %lld\n"
                  "# HELP careclock_feed_renders_total Feeds rendered (cache misses).\n"
                  "# TYPE careclock_feed_renders_total counter\ncareclock_feed_renders_total %llu\n",
                  (double)d->last_recompute_ms / 1000.0, (unsigned long long)d->recomputes,
                  (unsigned long long)d->recompute_failures,
                  d->failed_streak > 0 ? (double)(uv_now(&d->loop) - d->failing_since) / 1000.0 : 0.0,
                  unhealthy(d, why, sizeof(why)) == NULL, (long long)d->last_reload, (unsigned long long)renders);
    if (d->web != NULL) {
        cc_web_stats_t ws;
        cc_web_stats(d->web, &ws);
        cc_buf_printf(out,
                      "# HELP careclock_dashboard_pages_total Dashboard pages answered (off the loop).\n"
                      "# TYPE careclock_dashboard_pages_total counter\ncareclock_dashboard_pages_total %llu\n"
                      "# HELP careclock_dashboard_figures_builds_total Builds of the dashboard's figures.\n"
                      "# TYPE careclock_dashboard_figures_builds_total counter\n"
                      "careclock_dashboard_figures_builds_total %llu\n"
                      "# HELP careclock_dashboard_figures_build_seconds Duration of the last build of the figures.\n"
                      "# TYPE careclock_dashboard_figures_build_seconds gauge\n"
                      "careclock_dashboard_figures_build_seconds %.3f\n",
                      (unsigned long long)ws.pages, (unsigned long long)ws.builds, ws.last_build_seconds);
    }
    return out->failed ? CC_ENOMEM : 0;
}

static void route_web(void *data, cc_http_request_t *req)
{
    cc_daemon_t *d = data;
    cc_web_route(d->web, req);
}

static void route_log(void *data, int level, const char *message)
{
    (void)data;
    cc_log(level, "http: %s", message);
}

static void on_access_flush(uv_timer_t *t)
{
    cc_daemon_t *d = t->data;
    char now[32];
    if (d->feeds && cc_feedserver_flush_access(d->feeds, cc_time_format_utc(daemon_now(d), now, sizeof(now))) != 0)
        cc_log(CC_LOG_WARNING, "recording feed access failed: %s", cc_store_errmsg(d->store, NULL));
}

/* The listen addresses: --listen and --admin-listen win over config. */
static int apply_listen_override(const cc_daemon_t *d, cc_config_t *config)
{
    if (d->options.listen != NULL) {
        char *copy = strdup(d->options.listen);
        if (copy == NULL)
            return CC_ENOMEM;
        free(config->listen);
        config->listen = copy;
    }
    if (d->options.admin_listen != NULL) {
        char *copy = strcmp(d->options.admin_listen, "off") == 0 ? NULL : strdup(d->options.admin_listen);
        if (copy == NULL && strcmp(d->options.admin_listen, "off") != 0)
            return CC_ENOMEM;
        free(config->admin_listen);
        config->admin_listen = copy;
    }
    return 0;
}

/* The listeners, for the log: "feed server listening on ..." (the test
 * harness reads the ports from these lines). */
static void log_listeners(cc_daemon_t *d, const char *verb)
{
    int admin = cc_http_admin_port(d->http);
    cc_log(CC_LOG_INFO, "feed server %s on %s (port %d)", verb, d->env.config.listen, cc_http_port(d->http));
    if (admin < 0)
        cc_log(CC_LOG_INFO, "/healthz and /metrics are not served ([http] admin_listen = off)");
    else if (admin == cc_http_port(d->http))
        cc_log(CC_LOG_NOTICE, "admin server (/healthz, /metrics) %s on the feed listener, as [http] admin_listen "
                              "says (port %d): whoever can fetch feeds can read them",
               verb, admin);
    else
        cc_log(CC_LOG_INFO, "admin server (/healthz, /metrics) %s on %s (port %d)", verb, d->env.config.admin_listen,
               admin);
}

static int start_http(cc_daemon_t *d)
{
    char err[512];
    cc_http_routes_t routes = {.data = d, .feed = route_feed, .healthz = route_healthz, .metrics = route_metrics,
                               .web = route_web, .log = route_log};
    int rc = cc_feedserver_new(&d->loop, d->store, d->db_path, &d->env.config, &d->feeds, err, sizeof(err));
    if (rc != 0) {
        cc_log(CC_LOG_ERR, "feed server: %s", err);
        return rc;
    }
    cc_web_options_t wo = {.db_path = d->db_path, .config_path = d->options.config_path,
                           .listen = d->env.config.listen, .clock_offset = d->clock_offset};
    rc = cc_web_new(&d->loop, &d->env, &wo, &d->web, err, sizeof(err));
    if (rc != 0) {
        cc_log(CC_LOG_ERR, "dashboard: %s", err);
        return rc;
    }
    cc_feedserver_invalidate(d->feeds, &d->env.config, d->env.cal, d->today);
    rc = cc_http_start(&d->loop, &d->env.config, &routes, &d->http, err, sizeof(err));
    if (rc != 0) {
        cc_log(CC_LOG_ERR, "feed server: %s", err);
        return rc;
    }
    cc_feedserver_attach(d->feeds, d->http);
    log_listeners(d, "listening");
    static const char *const AUTH[] = {"sign-in by e-mailed link", "sign-in through the proxy", "off"};
    cc_log(CC_LOG_INFO, "dashboard: %s", AUTH[d->env.config.web_auth]);
    return 0;
}

/* ---- start, reload, stop ---- */

static int open_database(cc_daemon_t *d)
{
    char err[1024];
    int64_t version;
    const char *path = d->options.db_path ? d->options.db_path : d->env.config.database;
    if (path == NULL) {
        cc_log(CC_LOG_ERR, "no database: set [careclock] database in the configuration or pass --db");
        return CC_EINVAL;
    }
    snprintf(d->db_path, sizeof(d->db_path), "%s", path);
    int rc = cc_store_open(d->db_path, &d->store, err, sizeof(err));
    if (rc != 0) {
        cc_log(CC_LOG_ERR, "%s", err);
        return rc;
    }
    if (cc_store_backup_path(d->store) != NULL) {
        int from, to;
        cc_store_open_info(d->store, NULL, &from, &to);
        cc_log(CC_LOG_NOTICE, "migrated %s from schema version %d to %d; the database as it was is in %s (the newest %d "
                              "such copies are kept beside it)",
               d->db_path, from, to, cc_store_backup_path(d->store), CC_STORE_MIGRATION_BACKUPS);
    }
    if (cc_store_set_busy_timeout(d->store, DAEMON_BUSY_MS) != 0 || cc_store_data_version(d->store, &version) != 0) {
        cc_log(CC_LOG_ERR, "%s: %s", d->db_path, cc_store_errmsg(d->store, NULL));
        return CC_EDB;
    }
    return 0;
}

/* An environment moved out of the daemon by a reload. */
static void free_env(void *arg)
{
    cc_env_free(arg);
    free(arg);
}

static void on_sighup(uv_signal_t *s, int signum)
{
    cc_daemon_t *d = s->data;
    cc_env_t fresh;
    char err[1024];
    (void)signum;
    sd_notify(0, "RELOADING=1");
    cc_log(CC_LOG_INFO, "SIGHUP: reloading %s", d->options.config_path ? d->options.config_path : "(defaults)");
    int rc = cc_env_load(&fresh, d->options.config_path, err, sizeof(err));
    if (rc != 0) {
        cc_log(CC_LOG_ERR, "reload refused, the running configuration stays: %s", err);
        sd_notify(0, "READY=1");
        return;
    }
    /* [http]: the listeners are rebound now, before anything else of the
     * reload applies; a new address that cannot be bound refuses the whole
     * reload, naming the key (docs/feeds.md, "Reloading"). */
    int rebound = 0;
    cc_env_t *old = malloc(sizeof(*old)); /* the running one, kept until no feed render reads its calendar */
    if (old == NULL)
        rc = CC_ENOMEM;
    if (rc != 0 || (rc = apply_listen_override(d, &fresh.config)) != 0 ||
        (d->http != NULL && (rc = cc_http_reconfigure(d->http, &fresh.config, &rebound, err, sizeof(err))) != 0)) {
        cc_log(CC_LOG_ERR, "reload refused, the running configuration stays: %s",
               rc == CC_ENOMEM ? "out of memory" : err);
        free(old);
        cc_env_free(&fresh);
        sd_notify(0, "READY=1");
        return;
    }
    int changed = strcmp(fresh.fingerprint, d->env.fingerprint) != 0;
    *old = d->env;
    d->env = fresh;
    if (d->feeds != NULL) {
        /* A render in flight on the thread pool reads the old calendar:
         * freed once it is done. */
        cc_feedserver_invalidate(d->feeds, &d->env.config, d->env.cal, d->today);
        cc_feedserver_when_idle(d->feeds, free_env, old);
    } else {
        free_env(old);
    }
    if (rebound)
        log_listeners(d, "now listening");
    if (cc_time_set_zone(d->env.config.timezone, err, sizeof(err)) != 0)
        cc_log(CC_LOG_ERR, "%s", err);
    d->last_reload = daemon_now(d);
    if (d->deliverer != NULL)
        cc_deliverer_reload(d->deliverer);
    if (d->web != NULL && cc_web_reload(d->web, &d->env, err, sizeof(err)) != 0)
        cc_log(CC_LOG_ERR, "dashboard: the reload could not be taken (the old configuration stays for it): %s", err);
    cc_log(CC_LOG_INFO, "reloaded: %zu rules, division %s%s", cc_ruleset_count(d->env.rules), d->env.config.division,
           changed ? "; rules or holidays changed, recomputing every clock" : "");
    d->full_pending = 1;
    recompute(d);
    schedule_midnight(d);
    sd_notify(0, "READY=1");
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    close_handle(h);
}

static void close_handles(cc_daemon_t *d);

static void on_http_stopped(void *arg)
{
    cc_daemon_t *d = arg;
    d->http = NULL;
    if (d->feeds != NULL)
        cc_feedserver_attach(d->feeds, NULL);
    close_handles(d);
}

static void on_web_closed(void *arg)
{
    cc_daemon_t *d = arg;
    d->web = NULL;
    /* Then the feed server (it finishes what it is sending), then every
     * other handle; the loop ends when all are closed. */
    if (d->feeds != NULL)
        cc_feedserver_close(d->feeds);
    if (d->http != NULL)
        cc_http_stop(d->http, on_http_stopped, d);
    else
        close_handles(d);
}

static void on_deliverer_closed(void *arg)
{
    cc_daemon_t *d = arg;
    d->deliverer = NULL;
    /* The dashboard's work in flight finishes first (its answers go out
     * through the feed server). */
    cc_web_close(d->web, on_web_closed, d);
}

/* The grace period is over, or the cycle in flight ended. */
static void finish_stop(cc_daemon_t *d)
{
    if (uv_is_active((uv_handle_t *)&d->grace))
        uv_timer_stop(&d->grace);
    if (d->deliverer != NULL) {
        cc_deliverer_t *dl = d->deliverer;
        cc_deliverer_close(dl, on_deliverer_closed, d);
    } else {
        on_deliverer_closed(d);
    }
}

static void on_grace_over(uv_timer_t *t)
{
    cc_daemon_t *d = t->data;
    cc_log(CC_LOG_WARNING, "the delivery batch in flight did not finish within %d s: its messages will be retried "
                           "with the same ids",
           d->env.config.shutdown_grace_seconds);
    finish_stop(d);
}

static void stop(cc_daemon_t *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    sd_notify(0, "STOPPING=1");
    cc_log(CC_LOG_INFO, "%s: stopping", why);
    if (d->feeds != NULL)
        on_access_flush(&d->access_flush);
    uv_timer_stop(&d->deliver_timer);
    /* A delivery batch in flight may finish within the grace period. */
    if (d->deliverer != NULL && cc_deliverer_sending(d->deliverer)) {
        cc_log(CC_LOG_INFO, "waiting up to %d s for the delivery batch in flight",
               d->env.config.shutdown_grace_seconds);
        uv_timer_start(&d->grace, on_grace_over, (uint64_t)d->env.config.shutdown_grace_seconds * 1000, 0);
        return;
    }
    finish_stop(d);
}

static void close_handles(cc_daemon_t *d)
{
    close_handle((uv_handle_t *)&d->access_flush);
    close_handle((uv_handle_t *)&d->deliver_timer);
    close_handle((uv_handle_t *)&d->grace);
    close_handle((uv_handle_t *)&d->poll);
    close_handle((uv_handle_t *)&d->kick);
    close_handle((uv_handle_t *)&d->midnight);
    close_handle((uv_handle_t *)&d->jumpcheck);
    close_handle((uv_handle_t *)&d->watchdog);
    close_handle((uv_handle_t *)&d->walwatch);
    close_handle((uv_handle_t *)&d->sigterm);
    close_handle((uv_handle_t *)&d->sigint);
    close_handle((uv_handle_t *)&d->sighup);
}

static void on_stop_signal(uv_signal_t *s, int signum)
{
    stop(s->data, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static int start_handles(cc_daemon_t *d)
{
    uv_timer_init(&d->loop, &d->poll);
    uv_timer_init(&d->loop, &d->kick);
    uv_timer_init(&d->loop, &d->midnight);
    uv_timer_init(&d->loop, &d->jumpcheck);
    uv_timer_init(&d->loop, &d->watchdog);
    uv_timer_init(&d->loop, &d->access_flush);
    uv_timer_init(&d->loop, &d->deliver_timer);
    uv_timer_init(&d->loop, &d->grace);
    d->access_flush.data = d->deliver_timer.data = d->grace.data = d;
    uv_timer_start(&d->access_flush, on_access_flush, ACCESS_FLUSH_MS, ACCESS_FLUSH_MS);
    uv_fs_event_init(&d->loop, &d->walwatch);
    uv_signal_init(&d->loop, &d->sigterm);
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sighup);
    d->poll.data = d->kick.data = d->midnight.data = d->jumpcheck.data = d->watchdog.data = d;
    d->walwatch.data = d;
    d->sigterm.data = d->sigint.data = d->sighup.data = d;
    uv_signal_start(&d->sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&d->sigint, on_stop_signal, SIGINT);
    uv_signal_start(&d->sighup, on_sighup, SIGHUP);
    uint64_t poll_ms = (uint64_t)d->env.config.recompute_interval_ms;
    uv_timer_start(&d->poll, on_poll, poll_ms, poll_ms);
    uv_timer_start(&d->jumpcheck, on_jumpcheck, JUMP_CHECK_MS, JUMP_CHECK_MS);
    schedule_midnight(d);
    char wal[4200];
    snprintf(wal, sizeof(wal), "%s-wal", d->db_path);
    int rc = uv_fs_event_start(&d->walwatch, on_wal_change, wal, 0);
    if (rc != 0)
        cc_log(CC_LOG_WARNING, "cannot watch %s (%s): relying on the %llu ms poll", wal, uv_strerror(rc),
               (unsigned long long)poll_ms);
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        uint64_t every = usec / 2000;
        uv_timer_start(&d->watchdog, on_watchdog, every ? every : 1, every ? every : 1);
        cc_log(CC_LOG_INFO, "watchdog: pinging every %llu ms", (unsigned long long)(every ? every : 1));
    }
    return 0;
}

int cc_daemon_run(const cc_daemon_options_t *options)
{
    cc_daemon_t *d = calloc(1, sizeof(*d));
    char err[1024], day[CC_DATE_STRLEN];
    int status = 1;
    if (d == NULL)
        return 1;
    d->options = *options;
    if (uv_loop_init(&d->loop) != 0) {
        free(d);
        return 1;
    }
    if (cc_env_load(&d->env, options->config_path, err, sizeof(err)) != 0) {
        cc_log(CC_LOG_ERR, "%s", err);
        goto out;
    }
    if (cc_time_set_zone(d->env.config.timezone, err, sizeof(err)) != 0) {
        cc_log(CC_LOG_ERR, "%s", err);
        goto out;
    }
    if (options->has_now)
        d->clock_offset = options->now - time(NULL);
    if (apply_listen_override(d, &d->env.config) != 0)
        goto out;
    d->last_reload = daemon_now(d);
    d->wall_minus_mono = wall_minus_mono();
    if (open_database(d) != 0)
        goto out;
    d->today = cc_time_local(daemon_now(d)).date;
    cc_log(CC_LOG_INFO,
           "careclockd starting: version %s, configuration %s%s%s, database %s, %zu rules, division %s, time zone %s, "
           "today %s%s",
           cc_version(), options->config_path ? options->config_path : "built-in defaults, as ",
           options->config_path ? "" : cc_config_default_path(), options->config_path ? "" : " does not exist",
           d->db_path,
           cc_ruleset_count(d->env.rules), d->env.config.division, d->env.config.timezone,
           cc_date_format(d->today, day), options->has_now ? " (clock set by --now)" : "");
    d->full_pending = 1;
    if (recompute(d) != 0)
        cc_log(CC_LOG_WARNING, "the first full recompute failed; retrying on the next tick");
    start_handles(d);
    if (start_http(d) != 0) {
        stop(d, "the feed server could not start");
        uv_run(&d->loop, UV_RUN_DEFAULT);
        status = 1;
        goto out;
    }
    if (cc_deliverer_new(&d->loop, d->store, &d->env, NULL, &d->deliverer, err, sizeof(err)) != 0) {
        cc_log(CC_LOG_ERR, "deliveries: %s", err);
        stop(d, "the delivery channels could not start");
        uv_run(&d->loop, UV_RUN_DEFAULT);
        status = 1;
        goto out;
    }
    uv_timer_start(&d->deliver_timer, on_deliver_tick, DELIVER_SOON_MS, DELIVER_EVERY_MS);
    d->plan_owed = 1;
    char why[512];
    if (d->recomputes == 0 && unhealthy(d, why, sizeof(why)) != NULL) {
        /* Ready (the service runs, its feed server answers, it retries),
         * but with nothing true to count: say so rather than "0 overdue".
         * Waiting for the first success instead would have systemd kill it
         * at TimeoutStartSec and restart it into the same fault. */
        d->degraded = 1;
        sd_notifyf(0, "READY=1\nSTATUS=degraded: %s", why);
        cc_log(CC_LOG_WARNING, "ready, degraded: %s", why);
    } else {
        recount(d);
        sd_notifyf(0, "READY=1\nSTATUS=%zu overdue, %zu due soon", d->overdue, d->due_soon);
        cc_log(CC_LOG_INFO, "ready: %zu overdue, %zu due soon", d->overdue, d->due_soon);
    }
    uv_run(&d->loop, UV_RUN_DEFAULT);
    status = 0;
    cc_log(CC_LOG_INFO, "stopped cleanly");
out:
    if (!d->stopping) {
        /* Start-up failed after some handles may exist: close what is open. */
        uv_walk(&d->loop, walk_close, NULL);
        uv_run(&d->loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&d->loop);
    cc_feedserver_free(d->feeds);
    cc_store_close(d->store);
    cc_env_free(&d->env);
    free(d);
    return status;
}
