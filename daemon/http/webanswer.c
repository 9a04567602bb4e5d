/* A dashboard request's answers: pages, redirects, cookies, the journal
 * line, and the frame around every page. See daemon/http/webapp.h.
 *
 * Design notes:
 *  - Pages never cache (Cache-Control: no-store) and forbid framing and
 *    scripts (Content-Security-Policy); their addresses go to no other site
 *    (Referrer-Policy: same-origin).
 *  - Cookies are HttpOnly and SameSite=Strict, and Secure behind TLS
 *    (public_url https://).
 */
#include "careclock/log.h"
#include "careclock/privacy.h"
#include "http/webapp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- answers ---------------------------------------------------------------- */

const char *cc__web_method(const cc__web_ctx_t *ctx)
{
    return cc_http_request_method(ctx->req);
}

int cc__web_is_get(const cc__web_ctx_t *ctx)
{
    return strcmp(cc__web_method(ctx), "GET") == 0 || strcmp(cc__web_method(ctx), "HEAD") == 0;
}

int cc__web_is_post(const cc__web_ctx_t *ctx)
{
    return strcmp(cc__web_method(ctx), "POST") == 0;
}

void cc__web_header(cc__web_ctx_t *ctx, const char *name, const char *value)
{
    cc_buf_printf(&ctx->headers, "%s: %s\n", name, value);
}

/* The body buffer becomes the response's. */
void cc__web_answer(cc__web_ctx_t *ctx, unsigned status, const char *type, cc_buf_t *body)
{
    ctx->resp.status = body->failed ? 500 : status;
    ctx->resp.content_type = type;
    ctx->resp.len = body->len;
    ctx->resp.body = body->data; /* the buffer's bytes move to the response */
    body->data = NULL;
    body->len = body->cap = 0;
}

void cc__web_html(cc__web_ctx_t *ctx, unsigned status, cc_buf_t *body)
{
    cc__web_header(ctx, "Cache-Control", "no-store");
    cc__web_header(ctx, "Content-Security-Policy",
           "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; form-action 'self'; "
           "frame-ancestors 'none'; base-uri 'none'");
    cc__web_header(ctx, "X-Frame-Options", "DENY");
    /* same-origin, not no-referrer: under no-referrer browsers send
     * "Origin: null" with a form, which same_origin() must refuse. Page
     * addresses (child references) never leave for another site either way. */
    cc__web_header(ctx, "Referrer-Policy", "same-origin");
    cc__web_answer(ctx, status, "text/html; charset=utf-8", body);
}

void cc__web_redirect(cc__web_ctx_t *ctx, const char *location)
{
    cc_buf_t body;
    cc_buf_init(&body);
    cc__web_header(ctx, "Location", location);
    cc__web_header(ctx, "Cache-Control", "no-store");
    cc_buf_puts(&body, "See ");
    cc_buf_puts(&body, location);
    cc_buf_puts(&body, "\n");
    cc__web_answer(ctx, 303, "text/plain; charset=utf-8", &body);
}

void cc__web_logf(cc__web_ctx_t *ctx, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->log, sizeof(ctx->log), fmt, ap);
    va_end(ap);
    ctx->log_level = level;
}

int cc__web_https(const cc__web_ctx_t *ctx)
{
    return ctx->config->public_url != NULL && strncmp(ctx->config->public_url, "https://", 8) == 0;
}

void cc__web_set_cookie(cc__web_ctx_t *ctx, const char *name, const char *value, long max_age)
{
    char line[512];
    snprintf(line, sizeof(line), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s", name, value, max_age,
             cc__web_https(ctx) ? "; Secure" : "");
    cc__web_header(ctx, "Set-Cookie", line);
}


static const char *role_words(const cc__who_t *w)
{
    static const struct {
        const char *role, *words;
    } r[] = {{"worker", "social worker"},         {"team_manager", "team manager"},
             {"service_manager", "service manager"}, {"iro", "Independent Reviewing Officer"},
             {"viewer", "viewer (read-only)"}};
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
        if (strcmp(w->p.role, r[i].role) == 0)
            return r[i].words;
    return w->p.role;
}

void cc__web_frame(const cc__web_ctx_t *ctx, const cc__who_t *w, cc__page_t *p, const char *title, const char *nav)
{
    memset(p, 0, sizeof(*p));
    p->title = title;
    p->nav = nav;
    if (w == NULL || !w->known)
        return;
    p->user = w->p.name[0] ? w->p.name : w->p.id;
    p->user_role = role_words(w);
    p->csrf = w->csrf;
    p->email_signout = strcmp(w->via, "email") == 0;
    p->proxy_signout = ctx->config->web_proxy_signout;
    p->team_id = w->nteams > 0 ? w->teams[0] : NULL;
    p->nav_service = w->viewer || w->nsteams > 0;
    p->nav_timeliness = w->viewer || w->nteams > 0 || w->nsteams > 0;
}

void cc__web_message(cc__web_ctx_t *ctx, const cc__who_t *w, unsigned status, const char *heading, const char *text)
{
    cc__page_t p;
    cc_buf_t body;
    cc_buf_init(&body);
    cc__web_frame(ctx, w, &p, heading, NULL);
    cc__page_message(&body, &p, heading, text, w && w->known ? "/my-work" : NULL, "Go to My work");
    cc__web_html(ctx, status, &body);
}

void cc__web_forbidden(cc__web_ctx_t *ctx, const cc__who_t *w, const char *what)
{
    cc__web_logf(ctx, CC_LOG_NOTICE, "dashboard: %s %s refused to %s (%s): not theirs to see", cc__web_method(ctx),
          cc_http_request_path(ctx->req), w && w->known ? w->p.id : "nobody", what);
    cc__web_message(ctx, w, 403, "You cannot see this page",
            "This page is not one of yours: careclock shows each person the children and teams they hold, "
            "review or manage. If you should see it, ask whoever looks after careclock at your council.");
}

void cc__web_not_found(cc__web_ctx_t *ctx, const cc__who_t *w)
{
    cc__web_message(ctx, w, 404, "Page not found", "There is no such page. Check the address.");
}

/* ---- small helpers ---- */

char *cc__web_dup(const char *s, int *failed)
{
    char *c = s ? strdup(s) : NULL;
    if (s != NULL && c == NULL)
        *failed = 1;
    return c;
}

const char *cc__web_label(const cc_config_t *c, const char *initials, const char *full_name)
{
    return cc_privacy_shown(c->privacy, initials, full_name, 1);
}
