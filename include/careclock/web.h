/* The web dashboard inside careclockd (docs/dashboard.md): server-rendered
 * pages for workers, team managers, service managers, IROs and viewers,
 * served by the feed server (cc_http_routes_t.web) on the daemon's loop.
 *
 * The loop only routes: a request's work (who is asking, what they may
 * see, reading the database, rendering) runs on libuv's thread pool with
 * store connections of the module's own, so a large page never holds up
 * the feeds, /healthz or the loop's timers; the connection waits meanwhile
 * (suspended). The team, service and timeliness pages read figures built
 * off the loop too, from the same rows and by the same counting as
 * `careclock report timeliness`, and built again after the clocks or
 * allocations change (no more often than ten times their own building
 * time, so a very large council spends at most a tenth of a core on it).
 *
 * Signing in ([web] auth): a one-time link e-mailed through careclock's own
 * mail channel (email), or an identity header from the council's proxy,
 * trusted only from [web] proxy_addresses (proxy). Sessions are cookies
 * (HttpOnly, SameSite=Strict, Secure behind https://), stored hashed, with
 * idle and absolute expiry. Every form carries a CSRF token; every POST is
 * one transaction with its audit row (table web_audit).
 */
#ifndef CARECLOCK_WEB_H
#define CARECLOCK_WEB_H

#include "careclock/date.h"
#include "careclock/env.h"
#include "careclock/http.h"

#include <stdint.h>
#include <time.h>
#include <uv.h>

typedef struct cc_web cc_web_t;

typedef struct {
    const char *db_path;      /* the plan database (its own connections) */
    const char *config_path;  /* loaded again for the work off the loop (NULL: built-in defaults) */
    const char *listen;       /* where careclockd listens (--listen): links when [http] public_url is unset */
    time_t clock_offset;      /* the daemon's clock: time(NULL) + clock_offset (--now) */
} cc_web_options_t;

/* A dashboard on loop with env's configuration (copied where kept).
 * Starts building the figures at once. Returns 0, or CC_ENOMEM / CC_EIO /
 * CC_EPARSE with err (a configuration that cannot be loaded again). With
 * [web] auth = off, the module answers 404 to every page. */
int cc_web_new(uv_loop_t *loop, const cc_env_t *env, const cc_web_options_t *options, cc_web_t **out, char *err,
               size_t errlen);

/* The web route (cc_http_routes_t.web, data the cc_web_t). */
void cc_web_route(void *web, cc_http_request_t *req);

/* The clocks, the allocations or the day changed: build the figures again
 * (soon, within the limit above). today is the daemon's. */
void cc_web_invalidate(cc_web_t *web, cc_date_t today);

/* After a reload: env's configuration, rules and calendar for the requests
 * that come next (those in flight finish with what they had). 0, or an
 * error with err (the old configuration stays). */
int cc_web_reload(cc_web_t *web, const cc_env_t *env, char *err, size_t errlen);

/* For /metrics: pages answered, figures built, the last build's duration. */
typedef struct {
    uint64_t pages, builds, in_flight;
    double last_build_seconds;
} cc_web_stats_t;

void cc_web_stats(const cc_web_t *web, cc_web_stats_t *out);

/* Stop: no new work (requests get 503), wait for the work in flight and
 * the sign-in mail being sent, then free everything and call closed(arg).
 * Call before stopping the HTTP server. NULL web: closed(arg) at once. */
void cc_web_close(cc_web_t *web, void (*closed)(void *arg), void *arg);

#endif
