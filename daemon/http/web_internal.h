/* The dashboard's internals, shared by the files of daemon/http/ that make
 * it: web.c (the module on the loop: requests, the work off the loop,
 * static assets, the sign-in mail), webapp.c and the web*.c beside it
 * (a request's work, off the loop: who is asking, what they may see, the
 * data; webapp.h), webcache.c (the figures of the team, service and
 * timeliness pages) and pages.c with page*.c (the pages: pure HTML from
 * values; pages.h). Internal: included only by those files
 * and the unit tests.
 *
 * Threads: everything in cc_web_t is the loop's; a request's work runs on
 * libuv's thread pool with a context of its own (cc__web_ctx_t), a store
 * connection of its own, and read-only views of a snapshot of the
 * environment and of the figures, both reference counted on the loop.
 */
#ifndef CARECLOCK_HTTP_WEB_INTERNAL_H
#define CARECLOCK_HTTP_WEB_INTERNAL_H

#include "careclock/buf.h"
#include "careclock/env.h"
#include "careclock/http.h"
#include "careclock/people.h"
#include "careclock/report.h"
#include "careclock/sessions.h"
#include "careclock/store.h"
#include "careclock/web.h"

#undef NDEBUG
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- the environment a request's work sees (web.c) ---- */

typedef struct {
    int refs;            /* the loop's */
    cc_env_t env;        /* its own copy: a reload does not pull it from under a request */
    char *listen;        /* the address careclockd listens on, for links without public_url */
} cc__web_snap_t;

/* ---- the figures (webcache.c) ---- */

typedef struct cc__webcache cc__webcache_t;

/* Build the figures from store as of today (worker thread). 0, CC_EDB,
 * CC_ENOMEM; *out NULL on error. */
int cc__webcache_build(cc_store_t *store, const cc_ruleset_t *rs, cc_date_t today, time_t now, cc__webcache_t **out);
void cc__webcache_free(cc__webcache_t *c);
time_t cc__webcache_built_at(const cc__webcache_t *c);
double cc__webcache_build_seconds(const cc__webcache_t *c);
size_t cc__webcache_instances(const cc__webcache_t *c);

/* Which teams a report covers and how it groups them. */
typedef enum {
    CC__TEAMS_TOGETHER, /* every team in scope as one group ("All teams") */
    CC__TEAMS_EACH      /* one group per team */
} cc__teams_mode_t;

typedef struct {
    cc_date_t from, to;          /* CC_DATE_NONE: open */
    const char *clock;           /* NULL: every clock */
    const char *const *teams;    /* the scope: these teams (on the due date); NULL: every team */
    size_t nteams;
    cc__teams_mode_t mode;
    const char *worker;          /* only this worker (on the due date); NULL: any */
    int by_worker;
    cc_report_by_t by;
    size_t max_groups;           /* more groups than this: CC_ERANGE, nothing built (0: no limit) */
} cc__cache_query_t;

/* The timeliness report of q from the figures, built as the CLI's is
 * (cc_report_begin/add/end). 0, CC_ENOMEM, or CC_ERANGE when it would have
 * more than q->max_groups groups (*groups says how many; may be NULL);
 * free with cc_report_free in every case. */
int cc__webcache_report(const cc__webcache_t *c, const cc_ruleset_t *rs, const cc__cache_query_t *q, cc_date_t as_of,
                        cc_report_t *out, size_t *groups);

/* Figures now (the children held now, their clocks' statuses now). */
typedef struct {
    char *id, *name;
    size_t children;
    size_t n[CC_STATUS_COUNT];   /* clock instances by status */
} cc__now_row_t;

typedef struct {
    cc__now_row_t *rows;
    size_t nrows;
    cc__now_row_t total;
} cc__now_t;

/* By team (team NULL: every team in teams[0..nteams), or all when teams is
 * NULL) or, for one team, by worker (by_worker). */
int cc__webcache_now(const cc__webcache_t *c, const char *const *teams, size_t nteams, int by_worker, cc__now_t *out);
/* By clock for the children of teams (NULL: every team): one row per rule
 * (id, name = title). */
int cc__webcache_now_by_clock(const cc__webcache_t *c, const cc_ruleset_t *rs, const char *const *teams,
                              size_t nteams, cc__now_t *out);
void cc__now_free(cc__now_t *n);

/* The names the figures know: a team's or a member of staff's ("" when
 * unknown). */
const char *cc__webcache_team_name(const cc__webcache_t *c, const char *id);
const char *cc__webcache_staff_name(const cc__webcache_t *c, const char *id);
/* Every team id the figures know, sorted (borrowed). */
size_t cc__webcache_teams(const cc__webcache_t *c, const char *const **ids);

/* ---- a request's work (webapp.c; its pieces: webapp.h) ---- */

typedef struct {
    /* given (read-only) */
    const cc_config_t *config;   /* the snapshot's */
    const cc__web_snap_t *snap;
    const cc__webcache_t *cache; /* NULL: not built yet */
    int cache_stale;             /* the data changed since it was built */
    cc_store_t *store;
    cc_http_request_t *req;
    const unsigned char *key;    /* 32 bytes: the CSRF tokens' HMAC key */
    time_t now;
    cc_date_t today;
    int assets_ok;               /* the GOV.UK Frontend styles are there */
    /* made */
    cc_http_response_t resp;
    cc_buf_t headers;            /* response headers, "Name: value\n" */
    char *mail_to;               /* a sign-in mail to send (the loop sends it) */
    cc_buf_t mail;
    char log[512];               /* a line for the journal ("" none) */
    int log_level;
} cc__web_ctx_t;

/* Answer ctx->req into ctx->resp (worker thread). */
void cc__webapp_handle(cc__web_ctx_t *ctx);

/* Does a request for path need the figures? (The loop holds such requests
 * until the first figures are built.) */
int cc__webapp_needs_figures(const char *path);

/* ---- small pieces, exposed for the unit tests ---- */

/* The value of cookie name in a Cookie header into out: 1 found, 0 not. */
int cc__web_cookie(const char *header, const char *name, char *out, size_t len);

/* Form field name of an application/x-www-form-urlencoded body into out
 * (percent- and '+'-decoded): 1 found, 0 not, -1 malformed (bad escape,
 * a NUL, or too long for out). */
int cc__web_form(const char *body, size_t len, const char *name, char *out, size_t outlen);

/* The CSRF token of a subject ("s:<session token>", "p:<staff id>",
 * "a:<pre-session cookie>") under key: 64 hex digits of HMAC-SHA256. */
void cc__web_csrf(const unsigned char key[32], const char *subject, char out[65]);

/* 1 if path is a local path to send someone to after signing in: starts
 * with one '/', no "//", no backslash, no control character, no scheme. */
int cc__web_safe_next(const char *path);

#endif
