/* The dashboard's requests (cc_http_request_t): copied from the
 * connection when its headers arrive, the body gathered up to
 * CC_HTTP_BODY_MAX, handed to the web route, the connection suspended
 * until cc_http_respond. See http.c's design notes and http.h.
 */
#include "careclock/http.h"
#include "http/server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void pairs_free(pair_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

void cc__http_request_unref(cc_http_request_t *req)
{
    if (--req->refs > 0)
        return;
    free(req->method);
    free(req->path);
    pairs_free(req->headers, req->nheaders);
    pairs_free(req->query, req->nquery);
    free(req->body);
    free(req->response.body);
    free(req->response.headers);
    free(req);
}

typedef struct {
    pair_t **pairs;
    size_t *n;
    int failed;
} collect_t;

static enum MHD_Result collect_pair(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    collect_t *c = cls;
    (void)kind;
    if (key == NULL)
        return MHD_YES;
    pair_t *grown = realloc(*c->pairs, (*c->n + 1) * sizeof(pair_t));
    if (grown == NULL) {
        c->failed = 1;
        return MHD_NO;
    }
    *c->pairs = grown;
    grown[*c->n].name = strdup(key);
    grown[*c->n].value = strdup(value ? value : "");
    if (grown[*c->n].name == NULL || grown[*c->n].value == NULL) {
        free(grown[*c->n].name);
        free(grown[*c->n].value);
        c->failed = 1;
        return MHD_NO;
    }
    (*c->n)++;
    return MHD_YES;
}

/* A web request copied from the connection, with the connection's
 * reference; NULL when out of memory. */
cc_http_request_t *cc__http_request_new(server_t *srv, struct MHD_Connection *conn, const char *method,
                                      const char *url)
{
    cc_http_request_t *req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    req->h = srv->h;
    req->srv = srv;
    req->conn = conn;
    req->refs = 1;
    req->method = strdup(method);
    req->path = strdup(url);
    collect_t headers = {&req->headers, &req->nheaders, 0}, query = {&req->query, &req->nquery, 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_pair, &headers);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_pair, &query);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL && ci->client_addr != NULL) {
        const struct sockaddr *sa = ci->client_addr;
        size_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        memcpy(&req->peer, sa, len);
        req->has_peer = 1;
        const void *addr = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                                     : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
        if (inet_ntop(sa->sa_family, addr, req->client, sizeof(req->client)) == NULL)
            req->client[0] = '\0';
    }
    if (req->method == NULL || req->path == NULL || headers.failed || query.failed) {
        cc__http_request_unref(req);
        return NULL;
    }
    return req;
}

const char *cc_http_request_method(const cc_http_request_t *req)
{
    return req->method;
}

const char *cc_http_request_path(const cc_http_request_t *req)
{
    return req->path;
}

const char *cc_http_request_header(const cc_http_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *cc_http_request_query(const cc_http_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nquery; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

const char *cc_http_request_body(const cc_http_request_t *req, size_t *len, int *too_big)
{
    *len = req->len;
    if (too_big != NULL)
        *too_big = req->too_big;
    return req->body ? req->body : "";
}

const char *cc_http_request_client(const cc_http_request_t *req)
{
    return req->client;
}

const struct sockaddr *cc_http_request_peer(const cc_http_request_t *req)
{
    return req->has_peer ? (const struct sockaddr *)&req->peer : NULL;
}

void cc_http_respond(cc_http_request_t *req, cc_http_response_t *resp)
{
    assert(req != NULL && resp != NULL && !req->answered);
    server_t *srv = req->srv;
    req->answered = 1;
    req->response = *resp;
    memset(resp, 0, sizeof(*resp));
    if (req->suspended) {
        /* Unlink, resume, and let MHD run from the timer (never inside a
         * run): it calls the access handler again, which queues the answer. */
        if (req->prev != NULL)
            req->prev->next = req->next;
        else
            srv->waiting = req->next;
        if (req->next != NULL)
            req->next->prev = req->prev;
        req->prev = req->next = NULL;
        req->suspended = 0;
        if (req->conn != NULL && srv->mhd != NULL) {
            MHD_resume_connection(req->conn);
            cc__http_kick(srv);
        }
    }
    cc__http_request_unref(req); /* the route's reference */
}

/* Queue the web answer of req. */
static enum MHD_Result send_web(cc_http_t *h, struct MHD_Connection *conn, cc_http_request_t *req)
{
    cc_http_response_t *r = &req->response;
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->len, r->body ? r->body : (void *)"",
                                                                r->body ? MHD_RESPMEM_MUST_FREE
                                                                        : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    r->body = NULL; /* MHD frees it now */
    if (r->content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    for (char *line = r->headers, *end; line != NULL && *line != '\0'; line = end + 1) {
        end = strchr(line, '\n');
        if (end == NULL)
            break;
        *end = '\0';
        char *colon = strchr(line, ':');
        if (colon != NULL && colon > line) {
            *colon = '\0';
            const char *value = colon + 1;
            while (*value == ' ')
                value++;
            MHD_add_response_header(resp, line, value);
        }
    }
    return cc__http_queue(h, conn, r->status ? r->status : MHD_HTTP_INTERNAL_SERVER_ERROR, resp);
}

/* The web route's part of the access handler: the first call makes the
 * request, later calls gather the body, the last hands it to the route or
 * sends the answer. */
enum MHD_Result cc__http_serve_web(server_t *srv, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    cc_http_t *h = srv->h;
    cc_http_request_t *req = *req_cls;
    if (req == NULL) {
        /* The request line and headers have arrived: the deadline no
         * longer applies (a body comes under the inactivity timeout). */
        conn_t *c = cc__http_conn_of(conn);
        if (c != NULL)
            c->waiting = 0;
        if ((req = cc__http_request_new(srv, conn, method, url)) == NULL)
            return MHD_NO;
        *req_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        if (req->len + n > CC_HTTP_BODY_MAX) {
            req->too_big = 1;
        } else {
            char *grown = realloc(req->body, req->len + n + 1);
            if (grown == NULL)
                return MHD_NO;
            memcpy(grown + req->len, upload_data, n);
            req->len += n;
            grown[req->len] = '\0';
            req->body = grown;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!req->dispatched) {
        req->dispatched = 1;
        req->refs++; /* the route's */
        h->routes.web(h->routes.data, req);
        if (!req->answered) {
            MHD_suspend_connection(conn);
            req->suspended = 1;
            req->next = srv->waiting;
            if (srv->waiting != NULL)
                srv->waiting->prev = req;
            srv->waiting = req;
            return MHD_YES;
        }
    }
    if (!req->answered)
        return MHD_YES; /* resumed without an answer: cannot happen */
    return send_web(h, conn, req);
}
