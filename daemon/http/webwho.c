/* Who is asking a dashboard request, and what they may see. See
 * daemon/http/webapp.h.
 *
 * Design notes:
 *  - Who is asking comes first, for every request but the sign-in pages
 *    and the static files (web.c): a session cookie (auth = email) or the
 *    proxy's identity header from a proxy address (auth = proxy). A request
 *    that carries the header from any other address is refused (403) and
 *    logged and audited, whether or not proxy sign-in is on.
 *  - What they may see is worked out from the database on each request,
 *    never from the session: a member of staff sees the children they are
 *    worker or IRO of and the children of the teams they manage or are
 *    service manager of (whatever their role says, as a staff feed does);
 *    a viewer sees everything, read-only.
 */
#include "careclock/error.h"
#include "careclock/log.h"
#include "careclock/netaddr.h"
#include "http/webapp.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



void cc__who_free(cc__who_t *w)
{
    cc_store_free_ids(w->teams, w->nteams);
    cc_store_free_ids(w->steams, w->nsteams);
    OPENSSL_cleanse(w->session, sizeof(w->session));
    memset(w, 0, sizeof(*w));
}

int cc__web_add_id(char ***ids, size_t *n, const char *id)
{
    char **grown = realloc(*ids, (*n + 1) * sizeof(char *));
    if (grown == NULL)
        return CC_ENOMEM;
    *ids = grown;
    if ((grown[*n] = strdup(id)) == NULL)
        return CC_ENOMEM;
    (*n)++;
    return 0;
}

static int team_of_row(void *data, const char *const *cols, int ncols)
{
    cc__who_t *w = data;
    (void)ncols;
    int how = cols[2] ? atoi(cols[2]) : 0, rc = 0;
    if (how & 1)
        rc = cc__web_add_id(&w->teams, &w->nteams, cols[0]);
    if (rc == 0 && (how & 2))
        rc = cc__web_add_id(&w->steams, &w->nsteams, cols[0]);
    return rc;
}

int cc__who_load(cc__web_ctx_t *ctx, cc__who_t *w, const char *staff_id, const char *via)
{
    int rc = cc_store_staff_get(ctx->store, staff_id, &w->p);
    if (rc != 1)
        return rc;
    w->known = 1;
    w->via = via;
    w->viewer = strcmp(w->p.role, "viewer") == 0;
    return cc_store_staff_teams(ctx->store, staff_id, team_of_row, w) == 0 ? 1 : CC_EDB;
}

int cc__web_in_list(char **ids, size_t n, const char *id)
{
    for (size_t i = 0; id != NULL && i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return 1;
    return 0;
}

int cc__who_may_see_team(const cc__who_t *w, const char *team)
{
    return w->viewer || cc__web_in_list(w->teams, w->nteams, team) || cc__web_in_list(w->steams, w->nsteams, team);
}

int cc__who_may_see_child(const cc__who_t *w, const cc_store_child_row_t *c)
{
    if (w->viewer)
        return 1;
    if ((c->worker_id && strcmp(c->worker_id, w->p.id) == 0) || (c->iro_id && strcmp(c->iro_id, w->p.id) == 0))
        return 1;
    return c->team_id != NULL && (cc__web_in_list(w->teams, w->nteams, c->team_id) || cc__web_in_list(w->steams, w->nsteams, c->team_id));
}

/* A proxy's identity header from an address that is not a proxy's. */
int cc__web_header_from_elsewhere(cc__web_ctx_t *ctx)
{
    const cc_config_t *c = ctx->config;
    if (cc_http_request_header(ctx->req, c->web_proxy_header) == NULL)
        return 0;
    const struct sockaddr *peer = cc_http_request_peer(ctx->req);
    for (size_t i = 0; i < c->nweb_proxies; i++)
        if (cc_netaddr_match(&c->web_proxies[i], peer))
            return 0;
    return 1;
}

/* Who is asking into *w: 1 known, 0 not signed in, < 0 an error. */
int cc__who_identify(cc__web_ctx_t *ctx, cc__who_t *w)
{
    const cc_config_t *c = ctx->config;
    const char *client = cc_http_request_client(ctx->req);
    memset(w, 0, sizeof(*w));
    if (c->web_auth == CC_WEB_AUTH_PROXY) {
        const char *value = cc_http_request_header(ctx->req, c->web_proxy_header);
        if (value == NULL || value[0] == '\0')
            return 0;
        cc_store_person_t found;
        int rc = c->web_proxy_by_id ? cc_store_staff_get(ctx->store, value, &found)
                                    : cc_store_staff_by_email(ctx->store, value, &found);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            cc__web_logf(ctx, CC_LOG_WARNING, "dashboard: the proxy named someone careclock does not know (from %s)", client);
            return 0;
        }
        rc = cc__who_load(ctx, w, found.id, "proxy");
        if (rc == 1) {
            char subject[128];
            snprintf(subject, sizeof(subject), "p:%s", w->p.id);
            cc__web_csrf(ctx->key, subject, w->csrf);
        }
        return rc;
    }
    char token[CC_SESSION_TOKEN_LEN + 1];
    cc_session_t s;
    if (!cc__web_cookie(cc_http_request_header(ctx->req, "Cookie"), SESSION_COOKIE, token, sizeof(token)))
        return 0;
    int rc = cc_session_get(ctx->store, token, ctx->now, c->web_idle_minutes, client, &s);
    if (rc != 1) {
        OPENSSL_cleanse(token, sizeof(token));
        return rc;
    }
    rc = cc__who_load(ctx, w, s.staff_id, "email");
    if (rc == 1) {
        char subject[CC_SESSION_TOKEN_LEN + 3];
        snprintf(w->session, sizeof(w->session), "%s", token);
        snprintf(subject, sizeof(subject), "s:%s", token);
        cc__web_csrf(ctx->key, subject, w->csrf);
    }
    OPENSSL_cleanse(token, sizeof(token));
    return rc;
}
