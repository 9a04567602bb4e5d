/* Signing in to the dashboard by an e-mailed link (auth = email), the
 * sign-in pages, and signing out. See daemon/http/webapp.h and
 * docs/dashboard.md.
 *
 * Design notes:
 *  - A link is single use, good for web_signin_minutes, stored hashed
 *    (sessions.c); at most SIGNIN_PER_15_MINUTES links per person in 15
 *    minutes; an unknown address gets the same page as a known one.
 *  - Every request, answered or refused, is an audit row.
 */
#include "careclock/email.h"
#include "careclock/log.h"
#include "http/webapp.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIGNIN_PER_15_MINUTES 5

static void link_base(const cc__web_ctx_t *ctx, char *out, size_t len)
{
    const char *pub = ctx->config->public_url;
    if (pub != NULL) {
        size_t n = strlen(pub);
        while (n > 0 && pub[n - 1] == '/')
            n--;
        snprintf(out, len, "%.*s", (int)n, pub);
    } else {
        snprintf(out, len, "http://%s", ctx->snap->listen ? ctx->snap->listen : ctx->config->listen);
    }
}

/* The sign-in e-mail: plain ASCII text, so 7-bit, no encoding needed. */
static void signin_mail(cc__web_ctx_t *ctx, const char *to, const char *token)
{
    char base[512], date[64], id[40];
    unsigned char r[12];
    const char *from = ctx->config->smtp_from ? ctx->config->smtp_from : "careclock@localhost";
    const char *domain = strchr(from, '@') ? strchr(from, '@') + 1 : "localhost";
    struct tm tm;
    time_t now = ctx->now;
    link_base(ctx, base, sizeof(base));
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0, sizeof(r));
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(id + 2 * i, 3, "%02x", r[i]);
    cc_buf_t *m = &ctx->mail;
    cc_buf_printf(m, "From: careclock <%s>\r\nTo: <%s>\r\nSubject: Sign in to careclock\r\nDate: %s\r\n"
                     "Message-ID: <signin.%s@%s>\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n"
                     "Auto-Submitted: auto-generated\r\n\r\n",
                  from, to, date, id, domain);
    cc_buf_printf(m,
                  "Someone (we hope you) asked to sign in to careclock with this address.\r\n\r\n"
                  "To sign in, open this link:\r\n\r\n%s/sign-in/%s\r\n\r\n"
                  "The link works once, for %d minutes. If you did not ask to sign in, you can ignore\r\n"
                  "this e-mail: nobody can sign in without the link.\r\n",
                  base, token, ctx->config->web_signin_minutes);
    ctx->mail_to = strdup(to);
}

void cc__web_signin_form(cc__web_ctx_t *ctx, unsigned status, const char *email, const char *error, const char *next,
                        int signed_out)
{
    cc__page_t p;
    cc_buf_t body;
    char csrf[65];
    cc_buf_init(&body);
    cc__web_frame(ctx, NULL, &p, error ? "Error: Sign in" : "Sign in", NULL);
    if (ctx->config->web_auth == CC_WEB_AUTH_PROXY) {
        cc__page_proxy_signin(&body, &p,
                              "careclock signs you in through your council's sign-on. Open careclock through its "
                              "usual address; if this page comes back, ask whoever looks after careclock at your "
                              "council to add you.");
        cc__web_html(ctx, 403, &body);
        return;
    }
    cc__web_pre_csrf(ctx, csrf, 1);
    cc__signin_t s = {.csrf = csrf, .next = next, .email = email, .error = error,
                      .minutes = ctx->config->web_signin_minutes,
                      .unavailable = cc_config_email_unavailable(ctx->config), .signed_out = signed_out};
    cc__page_signin(&body, &p, &s);
    cc__web_html(ctx, status, &body);
}

void cc__web_signin_request(cc__web_ctx_t *ctx)
{
    char csrf[65], email[300], next[FIELD_MAX];
    const char *client = cc_http_request_client(ctx->req);
    cc__web_pre_csrf(ctx, csrf, 0);
    if (!cc__web_csrf_ok(ctx, csrf)) {
        cc__web_csrf_refused(ctx, NULL);
        return;
    }
    if (cc__web_form_field(ctx, "next", next, sizeof(next)) != 1 || !cc__web_safe_next(next))
        next[0] = '\0';
    int got = cc__web_form_field(ctx, "email", email, sizeof(email));
    /* Spaces around a pasted address are not part of it. */
    char *e = email;
    if (got == 1) {
        while (*e == ' ')
            e++;
        size_t n = strlen(e);
        while (n > 0 && e[n - 1] == ' ')
            e[--n] = '\0';
    }
    if (got != 1 || e[0] == '\0') {
        cc__web_signin_form(ctx, 400, "", "Enter your work e-mail address", next, 0);
        return;
    }
    if (!cc_email_valid(e)) {
        cc__web_signin_form(ctx, 400, e, "Enter an e-mail address in the correct format, like name@council.example", next, 0);
        return;
    }
    if (cc_config_email_unavailable(ctx->config) != NULL) {
        cc__web_signin_form(ctx, 503, e, NULL, next, 0);
        return;
    }
    cc_store_person_t who;
    size_t recent = 0;
    int rc = cc_store_staff_by_email(ctx->store, e, &who);
    cc_web_audit_t a = {.action = "signin_request", .client = client, .via = "email"};
    if (rc < 0) {
        cc__web_message(ctx, NULL, 500, "Something went wrong", "careclock could not read its database. Try again later.");
        return;
    }
    if (rc == 0 || who.email[0] == '\0') {
        a.outcome = "unknown_address";
        a.detail = "no member of staff has this address: nothing sent";
        cc_web_audit(ctx->store, &a, ctx->now);
        cc__web_logf(ctx, CC_LOG_NOTICE, "dashboard: a sign-in link was asked for an address careclock does not know (from %s)",
              client);
    } else if (cc_signin_count_since(ctx->store, who.id, ctx->now - 15 * 60, &recent) != 0 ||
               recent >= SIGNIN_PER_15_MINUTES) {
        a.staff_id = who.id;
        a.outcome = "rate_limited";
        a.detail = "5 links in 15 minutes already: nothing sent";
        cc_web_audit(ctx->store, &a, ctx->now);
        cc__web_logf(ctx, CC_LOG_WARNING, "dashboard: sign-in links for %s are limited: %zu in 15 minutes (from %s)", who.id,
              recent, client);
    } else {
        char token[CC_SESSION_TOKEN_LEN + 1];
        a.staff_id = who.id;
        a.target = who.id;
        a.outcome = "sent";
        if (cc_signin_create(ctx->store, who.id, ctx->now, ctx->config->web_signin_minutes, next, &a, token) == 0) {
            signin_mail(ctx, who.email, token);
            cc__web_logf(ctx, CC_LOG_INFO, "dashboard: a sign-in link for %s is being sent (asked from %s)", who.id, client);
        } else {
            cc__web_logf(ctx, CC_LOG_ERR, "dashboard: a sign-in link for %s could not be made: %s", who.id,
                  cc_store_errmsg(ctx->store, NULL));
        }
        OPENSSL_cleanse(token, sizeof(token));
    }
    cc__page_t p;
    cc_buf_t body;
    cc_buf_init(&body);
    cc__web_frame(ctx, NULL, &p, "Check your e-mail", NULL);
    cc__page_signin_sent(&body, &p, e, ctx->config->web_signin_minutes);
    cc__web_html(ctx, 200, &body);
}

void cc__web_signin_link(cc__web_ctx_t *ctx, const char *token)
{
    char csrf[65];
    const char *client = cc_http_request_client(ctx->req);
    if (cc__web_is_get(ctx)) {
        cc__page_t p;
        cc_buf_t body;
        cc_buf_init(&body);
        cc__web_pre_csrf(ctx, csrf, 1);
        cc__web_frame(ctx, NULL, &p, "Sign in", NULL);
        cc__page_signin_confirm(&body, &p, token, csrf);
        cc__web_html(ctx, 200, &body);
        return;
    }
    cc__web_pre_csrf(ctx, csrf, 0);
    if (!cc__web_csrf_ok(ctx, csrf)) {
        cc__web_csrf_refused(ctx, NULL);
        return;
    }
    cc_signin_result_t result;
    char session[CC_SESSION_TOKEN_LEN + 1], staff[CC_ID_MAX + 1], next[FIELD_MAX];
    int rc = cc_signin_redeem(ctx->store, token, ctx->now, ctx->config->web_session_hours, client, &result, session,
                              staff, next, sizeof(next));
    if (rc != 0) {
        cc__web_message(ctx, NULL, 500, "Something went wrong", "careclock could not sign you in. Try again later.");
        return;
    }
    if (result != CC_SIGNIN_OK) {
        cc__web_logf(ctx, CC_LOG_NOTICE, "dashboard: a sign-in link was refused: %s (from %s)",
              result == CC_SIGNIN_USED ? "used already" : result == CC_SIGNIN_EXPIRED ? "expired" : "unknown", client);
        cc__page_t p;
        cc_buf_t body;
        cc_buf_init(&body);
        cc__web_frame(ctx, NULL, &p, "This sign-in link does not work", NULL);
        char text[256];
        snprintf(text, sizeof(text),
                 "It may have been used already, or be more than %d minutes old. Ask for a new link.",
                 ctx->config->web_signin_minutes);
        cc__page_message(&body, &p, "This sign-in link does not work", text, "/sign-in", "Ask for a new link");
        cc__web_html(ctx, 403, &body);
        return;
    }
    cc__web_logf(ctx, CC_LOG_INFO, "dashboard: %s signed in (from %s)", staff, client);
    cc__web_set_cookie(ctx, SESSION_COOKIE, session, (long)ctx->config->web_session_hours * 3600);
    cc__web_set_cookie(ctx, PRE_COOKIE, "", 0);
    OPENSSL_cleanse(session, sizeof(session));
    cc__web_redirect(ctx, next[0] && cc__web_safe_next(next) ? next : "/my-work");
}

void cc__web_sign_out(cc__web_ctx_t *ctx, cc__who_t *w)
{
    if (!w->known || strcmp(w->via, "email") != 0 || !cc__web_csrf_ok(ctx, w->csrf)) {
        cc__web_csrf_refused(ctx, w);
        return;
    }
    if (cc_session_end(ctx->store, w->session, ctx->now, cc_http_request_client(ctx->req)) != 0) {
        cc__web_message(ctx, w, 500, "Something went wrong", "careclock could not sign you out. Try again.");
        return;
    }
    cc__web_logf(ctx, CC_LOG_INFO, "dashboard: %s signed out", w->p.id);
    cc__web_set_cookie(ctx, SESSION_COOKIE, "", 0);
    cc__web_redirect(ctx, "/sign-in?signed-out=1");
}
