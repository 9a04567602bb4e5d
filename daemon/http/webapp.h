/* The pieces a dashboard request's handlers share (daemon/http/web*.c,
 * off the loop, on one request's context cc__web_ctx_t). Internal to
 * daemon/http/.
 *
 *   webanswer.c  answers: pages, redirects, cookies, the journal line, the
 *                frame around every page, the standard error pages
 *   webwho.c     who is asking (session or proxy) and what they may see
 *   webform.c    form fields, CSRF tokens, the origin check
 *   websignin.c  signing in by e-mailed link, signing out
 *   webwork.c    My work          webchild.c   a child (and its forms)
 *   webdecide.c  the decision forms' POST (extend, except, ack, withdraw)
 *   webfigures.c team, service, timeliness (and its CSV)
 *   webapp.c     the routes (cc__webapp_handle)
 *
 * Every function here answers into ctx (ctx->resp, ctx->headers,
 * ctx->log) and returns nothing, unless it says otherwise; none of them
 * blocks on anything but the request's own store connection.
 */
#ifndef CARECLOCK_HTTP_WEBAPP_H
#define CARECLOCK_HTTP_WEBAPP_H

#include "careclock/config.h"
#include "careclock/sessions.h"
#include "http/pages.h"
#include "http/web_internal.h"

#include <stddef.h>

#define SESSION_COOKIE "cc_session"
#define PRE_COOKIE "cc_pre"
#define FIELD_MAX 512

/* ---- answers (webanswer.c) ---- */

/* The request's method, and whether it is GET (or HEAD) or POST. */
const char *cc__web_method(const cc__web_ctx_t *ctx);
int cc__web_is_get(const cc__web_ctx_t *ctx);
int cc__web_is_post(const cc__web_ctx_t *ctx);
/* Add the response header "name: value". */
void cc__web_header(cc__web_ctx_t *ctx, const char *name, const char *value);
/* Answer status with body as type; body's bytes move to the response
 * (body is left empty; 500 if it failed to grow). */
void cc__web_answer(cc__web_ctx_t *ctx, unsigned status, const char *type, cc_buf_t *body);
/* Answer an HTML page with the dashboard's security headers (no-store,
 * CSP, no framing, same-origin referrer). */
void cc__web_html(cc__web_ctx_t *ctx, unsigned status, cc_buf_t *body);
/* 303 See Other to location (a local path). */
void cc__web_redirect(cc__web_ctx_t *ctx, const char *location);
/* The journal line for this request (the loop writes it). */
void cc__web_logf(cc__web_ctx_t *ctx, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 1 when careclock is reached over TLS (public_url https://). */
int cc__web_https(const cc__web_ctx_t *ctx);
/* Set-Cookie name=value, HttpOnly, SameSite=Strict, Secure over TLS;
 * max_age 0 deletes it. */
void cc__web_set_cookie(cc__web_ctx_t *ctx, const char *name, const char *value, long max_age);

/* A copy of s (NULL for NULL); sets *failed when out of memory. */
char *cc__web_dup(const char *s, int *failed);
/* How a child is shown under the configured privacy (initials by default). */
const char *cc__web_label(const cc_config_t *c, const char *initials, const char *full_name);

/* ---- who is asking (webwho.c) ---- */

typedef struct {
    int known;
    cc_store_person_t p;
    const char *via;                 /* "email" or "proxy" */
    char session[CC_SESSION_TOKEN_LEN + 1];
    char csrf[65];
    char **teams;                    /* managed (team manager) */
    size_t nteams;
    char **steams;                   /* service manager of */
    size_t nsteams;
    int viewer;
} cc__who_t;

/* Free what w holds (the session token cleansed); w zeroed. */
void cc__who_free(cc__who_t *w);
/* Append a copy of id to *ids: 0 or CC_ENOMEM. */
int cc__web_add_id(char ***ids, size_t *n, const char *id);
/* 1 if id (may be NULL: 0) is one of ids[0..n). */
int cc__web_in_list(char **ids, size_t n, const char *id);
/* Load staff_id's person and teams into w: 1, 0 unknown, < 0 an error. */
int cc__who_load(cc__web_ctx_t *ctx, cc__who_t *w, const char *staff_id, const char *via);
/* May w see team (a viewer, its team manager or service manager)? */
int cc__who_may_see_team(const cc__who_t *w, const char *team);
/* May w see child c (a viewer; its worker or IRO; its team's managers)? */
int cc__who_may_see_child(const cc__who_t *w, const cc_store_child_row_t *c);
/* A proxy's identity header from an address that is not a proxy's: 1. */
int cc__web_header_from_elsewhere(cc__web_ctx_t *ctx);
/* Who is asking into *w (zeroed first): 1 known, 0 not signed in, < 0 an
 * error. Sets w->csrf, the token this person's forms carry. */
int cc__who_identify(cc__web_ctx_t *ctx, cc__who_t *w);

/* ---- the frame and the standard pages (webanswer.c) ---- */

/* p for a page titled title (nav: the current item, or NULL) as w sees it
 * (w NULL or unknown: nobody signed in). */
void cc__web_frame(const cc__web_ctx_t *ctx, const cc__who_t *w, cc__page_t *p, const char *title, const char *nav);
/* A page with a heading and a paragraph, answered with status. */
void cc__web_message(cc__web_ctx_t *ctx, const cc__who_t *w, unsigned status, const char *heading, const char *text);
/* 403, logged: w may not see what (a word for the journal). */
void cc__web_forbidden(cc__web_ctx_t *ctx, const cc__who_t *w, const char *what);
/* 404. */
void cc__web_not_found(cc__web_ctx_t *ctx, const cc__who_t *w);

/* ---- forms (webform.c) ---- */

/* A POST's form field into out: 1, 0 absent, -1 malformed or the body too big. */
int cc__web_form_field(const cc__web_ctx_t *ctx, const char *name, char *out, size_t len);
/* 1 if the POST's "csrf" field matches expected (non-empty) and its
 * origin (Origin, Sec-Fetch-Site) is ours. */
int cc__web_csrf_ok(const cc__web_ctx_t *ctx, const char *expected);
/* 403 "This form has expired", audited and logged (w may be NULL). */
void cc__web_csrf_refused(cc__web_ctx_t *ctx, const cc__who_t *w);
/* The anonymous forms' token into out (the pre-session cookie's HMAC);
 * make: set the cookie when absent, else out is "" without one. */
void cc__web_pre_csrf(cc__web_ctx_t *ctx, char out[65], int make);

/* ---- the pages (websignin.c, webwork.c, webchild.c, webfigures.c) ---- */

/* The sign-in form (auth = email) or the proxy's "ask to be added" page. */
void cc__web_signin_form(cc__web_ctx_t *ctx, unsigned status, const char *email, const char *error, const char *next,
                         int signed_out);
/* POST /sign-in: send a link (or not), always the same "check your e-mail". */
void cc__web_signin_request(cc__web_ctx_t *ctx);
/* GET /sign-in/TOKEN: the confirm button; POST: redeem it, start a session. */
void cc__web_signin_link(cc__web_ctx_t *ctx, const char *token);
/* POST /sign-out (email sessions only). */
void cc__web_sign_out(cc__web_ctx_t *ctx, cc__who_t *w);
void cc__web_my_work(cc__web_ctx_t *ctx, const cc__who_t *w);
void cc__web_child_page(cc__web_ctx_t *ctx, const cc__who_t *w, const char *id);
/* The child page answered with status, with a decision form sent back
 * (error, NULL: none) and a success banner (notice, NULL: none). */
void cc__web_child_render(cc__web_ctx_t *ctx, const cc__who_t *w, const char *id, const cc__decision_error_t *error,
                          const char *notice, unsigned status);
/* POST /children/ID/decisions: record a decision (webdecide.c). */
void cc__web_decide(cc__web_ctx_t *ctx, const cc__who_t *w, const char *id);
/* The success banner's words after a decision of kind ("extend", ...;
 * the child page's ?decided=), or NULL for anything else. */
const char *cc__web_decided_notice(const char *kind);
void cc__web_team_page(cc__web_ctx_t *ctx, const cc__who_t *w, const char *team);
void cc__web_service_page(cc__web_ctx_t *ctx, const cc__who_t *w);
/* The timeliness page, or (csv) its CSV download. */
void cc__web_timeliness(cc__web_ctx_t *ctx, const cc__who_t *w, int csv);

#endif
