/* A dashboard request's work, off the loop: the routes. See
 * daemon/http/web_internal.h, daemon/http/webapp.h and docs/dashboard.md.
 *
 * The request's pieces live by job: webanswer.c (answers and the page
 * frame), webwho.c (who is asking, what they may see), webform.c (forms
 * and CSRF), websignin.c (signing in and out), webwork.c (My work),
 * webchild.c (a child), webfigures.c (team, service, timeliness).
 *
 * Design notes:
 *  - A page that does not exist is 404 to anyone; every other page needs
 *    someone signed in; a POST anywhere but the sign-in forms needs a
 *    signed-in person and a valid CSRF token.
 *  - Every POST is one transaction with its audit row (sessions.c).
 */
#include "careclock/html.h"
#include "careclock/log.h"
#include "http/webapp.h"

#include <stdio.h>
#include <string.h>

int cc__webapp_needs_figures(const char *path)
{
    return path != NULL && (strncmp(path, "/teams/", 7) == 0 || strcmp(path, "/service") == 0 ||
                            strncmp(path, "/timeliness", 11) == 0 || strcmp(path, "/my-work") == 0);
}

/* ---- the routes ----------------------------------------------------------------------- */

/* The rest of path after prefix when it is one non-empty segment, else NULL. */
static const char *segment(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0 || path[n] == '\0' || strchr(path + n, '/') != NULL)
        return NULL;
    return path + n;
}

/* The ID of /children/ID/decisions into id (len bytes): 1, else 0. */
static int decisions_path(const char *path, char *id, size_t len)
{
    const char *rest = segment(path, "/children/") ? NULL : path;
    static const char tail[] = "/decisions";
    if (rest == NULL || strncmp(rest, "/children/", 10) != 0)
        return 0;
    rest += 10;
    const char *slash = strchr(rest, '/');
    if (slash == NULL || slash == rest || strcmp(slash, tail) != 0 || (size_t)(slash - rest) >= len)
        return 0;
    memcpy(id, rest, (size_t)(slash - rest));
    id[slash - rest] = '\0';
    return 1;
}

/* Not signed in: to the sign-in page (and back here afterwards). A link
 * followed from another site (an e-mail opened in webmail) comes without
 * the SameSite=Strict cookie: such a request is sent on to the same
 * address once from here, which carries the cookie. */
static void not_signed_in(cc__web_ctx_t *ctx)
{
    const char *path = cc_http_request_path(ctx->req);
    const char *site = cc_http_request_header(ctx->req, "Sec-Fetch-Site");
    if (ctx->config->web_auth == CC_WEB_AUTH_PROXY) {
        if (cc_http_request_header(ctx->req, ctx->config->web_proxy_header) != NULL)
            cc__web_message(ctx, NULL, 403, "careclock does not know you",
                    "You are signed in to your council's sign-on, but careclock has no member of staff with your "
                    "name or address. Ask whoever looks after careclock at your council to add you.");
        else
            cc__web_signin_form(ctx, 403, NULL, NULL, NULL, 0);
        return;
    }
    cc_buf_t next, body;
    cc_buf_init(&next);
    cc_buf_init(&body);
    cc_buf_puts(&next, "/sign-in?next=");
    cc_html_query_value(&next, path);
    if (site != NULL && strcmp(site, "cross-site") == 0 && cc__web_is_get(ctx) &&
        !cc__web_cookie(cc_http_request_header(ctx->req, "Cookie"), SESSION_COOKIE, (char[80]){0}, 80)) {
        cc__page_t p;
        cc_buf_t self;
        cc_buf_init(&self);
        for (const char *c = path; *c; c++) {
            if (*c == '/')
                cc_buf_puts(&self, "/");
            else {
                char one[2] = {*c, 0};
                cc_html_path_segment(&self, one);
            }
        }
        cc__web_frame(ctx, NULL, &p, "Opening careclock", NULL);
        cc__page_begin(&body, &p);
        cc_buf_puts(&body, "<h1 class=\"govuk-heading-l\">Opening careclock</h1><p class=\"govuk-body\">"
                           "<a class=\"govuk-link\" href=\"");
        cc_buf_puts(&body, cc_buf_str(&self));
        cc_buf_puts(&body, "\">Continue to the page</a></p>");
        cc__page_end(&body, &p);
        /* Refresh (same site) at once, so the cookie comes with it. */
        char refresh[600];
        snprintf(refresh, sizeof(refresh), "0; url=%s", cc_buf_str(&self));
        cc__web_header(ctx, "Refresh", refresh);
        cc_buf_free(&self);
        cc__web_html(ctx, 200, &body);
    } else {
        cc__web_redirect(ctx, cc_buf_str(&next));
    }
    cc_buf_free(&next);
    cc_buf_free(&body);
}

void cc__webapp_handle(cc__web_ctx_t *ctx)
{
    const char *path = cc_http_request_path(ctx->req);
    const char *client = cc_http_request_client(ctx->req);
    cc__who_t w;
    memset(&w, 0, sizeof(w));
    int get = cc__web_is_get(ctx), post = cc__web_is_post(ctx);
    if (!get && !post) {
        cc__web_header(ctx, "Allow", "GET, HEAD, POST");
        cc__web_message(ctx, NULL, 405, "Not allowed", "careclock's pages are read with GET and forms sent with POST.");
        return;
    }
    /* The identity header from anywhere but the proxy: refused, logged. */
    if (cc__web_header_from_elsewhere(ctx)) {
        cc_web_audit_t a = {.action = "proxy_header", .target = path, .outcome = "refused",
                            .detail = "an identity header from an address that is not a configured proxy",
                            .client = client, .via = "proxy"};
        cc_web_audit(ctx->store, &a, ctx->now);
        cc__web_logf(ctx, CC_LOG_WARNING,
              "dashboard: a request from %s carried the identity header %s but is not from a configured proxy "
              "([web] proxy_addresses): refused",
              client, ctx->config->web_proxy_header);
        cc__web_message(ctx, NULL, 403, "Refused", "This request named someone but did not come through the council's "
                                           "sign-on. It has been refused and recorded.");
        return;
    }
    const char *token = segment(path, "/sign-in/");
    char child[CC_ID_MAX + 1];
    if (strcmp(path, "/sign-in") == 0 && ctx->config->web_auth == CC_WEB_AUTH_EMAIL) {
        if (post) {
            cc__web_signin_request(ctx);
        } else {
            const char *next = cc_http_request_query(ctx->req, "next");
            cc__web_signin_form(ctx, 200, NULL, NULL, next && cc__web_safe_next(next) ? next : NULL,
                        cc_http_request_query(ctx->req, "signed-out") != NULL);
        }
        return;
    }
    if (token != NULL && ctx->config->web_auth == CC_WEB_AUTH_EMAIL) {
        cc__web_signin_link(ctx, token);
        return;
    }
    int rc = cc__who_identify(ctx, &w);
    if (rc < 0) {
        cc__web_logf(ctx, CC_LOG_ERR, "dashboard: who is asking could not be read: %s", cc_store_errmsg(ctx->store, NULL));
        cc__web_message(ctx, NULL, 503, "Something went wrong", "careclock could not read its database. Try again later.");
        cc__who_free(&w);
        return;
    }
    /* A page that does not exist is 404 to anyone, signed in or not. */
    int known = strcmp(path, "/") == 0 || strcmp(path, "/sign-in") == 0 || strcmp(path, "/sign-out") == 0 ||
                strcmp(path, "/my-work") == 0 || segment(path, "/children/") != NULL ||
                segment(path, "/teams/") != NULL || strcmp(path, "/service") == 0 ||
                strcmp(path, "/timeliness") == 0 || strcmp(path, "/timeliness.csv") == 0 ||
                decisions_path(path, child, sizeof(child));
    if (!known) {
        cc__web_not_found(ctx, rc == 1 ? &w : NULL);
        cc__who_free(&w);
        return;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/sign-in") == 0) {
        if (rc == 1)
            cc__web_redirect(ctx, "/my-work");
        else if (ctx->config->web_auth == CC_WEB_AUTH_EMAIL)
            cc__web_redirect(ctx, "/sign-in");
        else
            not_signed_in(ctx);
        cc__who_free(&w);
        return;
    }
    if (rc == 0) {
        if (post)
            cc__web_csrf_refused(ctx, NULL);
        else
            not_signed_in(ctx);
        cc__who_free(&w);
        return;
    }
    const char *id;
    if (strcmp(path, "/sign-out") == 0) {
        if (post)
            cc__web_sign_out(ctx, &w);
        else
            cc__web_redirect(ctx, "/my-work");
    } else if (decisions_path(path, child, sizeof(child))) {
        /* The decision forms (POST); the address itself leads to the page. */
        if (post) {
            cc__web_decide(ctx, &w, child);
        } else {
            cc_buf_t loc;
            cc_buf_init(&loc);
            cc_buf_puts(&loc, "/children/");
            cc_html_path_segment(&loc, child);
            cc__web_redirect(ctx, cc_buf_str(&loc));
            cc_buf_free(&loc);
        }
    } else if (post) {
        /* No other form: refused as any unknown POST is, token or not. */
        if (!cc__web_csrf_ok(ctx, w.csrf))
            cc__web_csrf_refused(ctx, &w);
        else
            cc__web_not_found(ctx, &w);
    } else if (strcmp(path, "/my-work") == 0) {
        cc__web_my_work(ctx, &w);
    } else if ((id = segment(path, "/children/")) != NULL) {
        cc__web_child_render(ctx, &w, id, NULL, cc__web_decided_notice(cc_http_request_query(ctx->req, "decided")),
                             200);
    } else if ((id = segment(path, "/teams/")) != NULL) {
        cc__web_team_page(ctx, &w, id);
    } else if (strcmp(path, "/service") == 0) {
        cc__web_service_page(ctx, &w);
    } else if (strcmp(path, "/timeliness") == 0) {
        cc__web_timeliness(ctx, &w, 0);
    } else if (strcmp(path, "/timeliness.csv") == 0) {
        cc__web_timeliness(ctx, &w, 1);
    } else {
        cc__web_not_found(ctx, &w);
    }
    cc__who_free(&w);
}
