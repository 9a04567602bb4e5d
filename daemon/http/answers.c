/* The feed server's own answers: calendar feeds (with their validators,
 * gzip and 304s), /healthz, /metrics, the fallback pages when no dashboard
 * is configured, and the queueing every answer goes through. See http.c's
 * design notes and server.h.
 */
#include "careclock/http.h"
#include "careclock/error.h"
#include "careclock/html.h"
#include "http/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reader of a response with no content (a 304). */
static ssize_t no_content(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_OF_STREAM;
}

static void count(cc_http_t *h, unsigned code)
{
    h->stats.requests++;
    switch (code) {
    case 200: h->stats.status_200++; break;
    case 304: h->stats.status_304++; break;
    case 404: h->stats.status_404++; break;
    case 405: h->stats.status_405++; break;
    case 500: h->stats.status_500++; break;
    case 503: h->stats.status_503++; break;
    default: h->stats.status_other++; break;
    }
}

/* Queue response with code, then drop our reference. */
enum MHD_Result cc__http_queue(cc_http_t *h, struct MHD_Connection *conn, unsigned code, struct MHD_Response *resp)
{
    if (resp == NULL)
        return MHD_NO; /* MHD closes the connection */
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* So that the pre-flight check knows a running careclockd holds an
     * address (cc_http_listen_probe); no version. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "careclockd");
    enum MHD_Result r = MHD_queue_response(conn, code, resp);
    MHD_destroy_response(resp);
    if (r == MHD_YES)
        count(h, code);
    return r;
}

enum MHD_Result cc__http_send_text(cc_http_t *h, struct MHD_Connection *conn, unsigned code, const char *type,
                                 const char *text, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (resp != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return cc__http_queue(h, conn, code, resp);
}

#define TEXT_PLAIN "text/plain; charset=utf-8"

enum MHD_Result cc__http_send_plain(cc_http_t *h, struct MHD_Connection *conn, unsigned code, const char *text)
{
    return cc__http_send_text(h, conn, code, TEXT_PLAIN, text, strlen(text));
}

static void release(cc_http_body_t *b)
{
    if (b->release != NULL)
        b->release(b->release_arg);
    b->release = NULL;
}

enum MHD_Result cc__http_serve_feed(server_t *srv, struct MHD_Connection *conn, const char *token)
{
    cc_http_t *h = srv->h;
    cc_http_body_t b;
    char etag[CC_HTTP_ETAG_SIZE], date[40];
    memset(&b, 0, sizeof(b));
    conn_t *c = cc__http_conn_of(conn);
    if (c != NULL) {
        b.resumed = c->resumed;
        c->resumed = 0;
    }
    int rc = h->routes.feed != NULL ? h->routes.feed(h->routes.data, token, &b) : CC_ENOTFOUND;
    if (rc == CC_ENOTFOUND)
        return cc__http_send_plain(h, conn, MHD_HTTP_NOT_FOUND, "not found\n");
    if (rc != 0) {
        cc__http_log(h, 3, "http: a feed could not be rendered: %s", cc_strerror(rc));
        return cc__http_send_plain(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
    }
    if (b.pending) {
        /* Being prepared: wait, off the loop's hands, for cc_http_wake(). */
        release(&b);
        if (c == NULL)
            return cc__http_send_plain(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy, try again\n");
        c->suspended = 1;
        c->key = b.wait_key;
        MHD_suspend_connection(conn);
        return MHD_YES;
    }
    if (b.body == NULL)
        b.len = 0;
    /* The representation: gzip when the client takes it and there is one,
     * each with its own ETag (RFC 9110 8.8.3: a validator per encoding). */
    const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    int gzip = b.gz != NULL && ae != NULL && cc__http_accepts_gzip(ae);
    const char *data = gzip ? b.gz : b.body;
    size_t len = gzip ? b.gz_len : b.len;
    const char *given = gzip ? b.gz_etag : b.etag;
    if (given[0] != '\0' && memchr(given, '\0', CC_HTTP_ETAG_SIZE) != NULL)
        snprintf(etag, sizeof(etag), "%s", given);
    else
        cc_http_etag(data ? data : "", len, etag);

    int not_modified = 0;
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    const char *ims = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
    if (inm != NULL)
        not_modified = cc__http_etag_matches(inm, etag);
    else if (ims != NULL && b.last_modified > 0) {
        time_t since = cc__http_parse_date(ims);
        not_modified = since >= 0 && b.last_modified <= since;
    }

    struct MHD_Response *resp;
    unsigned code = not_modified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
    if (not_modified) {
        /* No content and no Content-Length: a 304's Content-Length would
         * have to be the 200's (RFC 9110 8.6), and 0 is wrong. libmicro-
         * httpd 0.9.75 writes "Content-Length: 0" for any response of a
         * known size, and chunked framing (a body of "0" CRLF CRLF after
         * the 304) for one of unknown size unless the connection closes
         * after it: so a 304 closes its connection. Calendar clients poll
         * hourly; a new connection costs them nothing they would notice. */
        release(&b);
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, no_content, NULL, NULL);
        if (resp != NULL)
            MHD_set_response_options(resp, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
    } else if (b.release != NULL) {
        resp = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)data, b.release,
                                                                      b.release_arg);
        if (resp == NULL)
            release(&b);
    } else {
        resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    }
    if (resp == NULL)
        return MHD_NO;
    if (!not_modified)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/calendar; charset=utf-8");
    if (gzip)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    if (b.gz != NULL || gzip)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (b.last_modified > 0)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, cc_http_date(b.last_modified, date, sizeof(date)));
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private");
    return cc__http_queue(h, conn, code, resp);
}

/* The pages a person may open: the server's root, and a child's page
 * (<public_url>/children/<ref>, the link in every message) when no
 * dashboard route is given (careclockd always gives one: the http module's
 * own tests do not). No child's data: the feed server asks no one who
 * they are. The reference is echoed escaped. */
enum MHD_Result cc__http_serve_page(cc_http_t *h, struct MHD_Connection *conn, const char *child)
{
    cc_buf_t out;
    cc_buf_init(&out);
    cc_buf_puts(&out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width\"><title>careclock</title></head>\n"
                      "<body style=\"font-family:Arial,Helvetica,sans-serif;max-width:40em;margin:2em auto;"
                      "padding:0 1em;line-height:1.5;color:#1a1a1a\">\n<h1>careclock</h1>\n");
    if (child != NULL) {
        cc_buf_puts(&out, "<p>This server does not serve careclock's dashboard, where child <strong>");
        cc_html_text(&out, child);
        cc_buf_puts(&out, "</strong> has a page.</p>\n"
                          "<p>Ask careclock on the server: <code>careclock clocks --child ");
        cc_html_text(&out, child);
        cc_buf_puts(&out, "</code> lists the child's statutory clocks, and <code>careclock explain ");
        cc_html_text(&out, child);
        cc_buf_puts(&out, " CLOCK</code> shows how a due date was worked out.</p>\n");
    } else {
        cc_buf_puts(&out, "<p>careclock keeps the statutory clocks of children's services: it reminds workers "
                          "and managers by email and chat of the deadlines they hold, and serves calendar "
                          "feeds of them.</p>\n<p>Calendars are subscribed to with their own secret "
                          "addresses, which <code>careclock feed add</code> prints once. This server does not "
                          "serve the dashboard.</p>\n");
    }
    cc_buf_puts(&out, "</body></html>\n");
    enum MHD_Result r;
    if (out.failed)
        r = cc__http_send_plain(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
    else
        r = cc__http_send_text(h, conn, MHD_HTTP_OK, "text/html; charset=utf-8", cc_buf_str(&out), out.len);
    cc_buf_free(&out);
    return r;
}

enum MHD_Result cc__http_serve_metrics(cc_http_t *h, struct MHD_Connection *conn)
{
    cc_buf_t out;
    cc_http_stats_t s;
    cc_buf_init(&out);
    if (h->routes.metrics != NULL && h->routes.metrics(h->routes.data, &out) != 0) {
        cc_buf_free(&out);
        cc__http_log(h, 3, "http: metrics could not be collected");
        return cc__http_send_plain(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
    }
    cc_http_stats(h, &s);
    const struct {
        const char *code;
        uint64_t n;
    } codes[] = {{"200", s.status_200}, {"304", s.status_304}, {"404", s.status_404}, {"405", s.status_405},
                 {"500", s.status_500}, {"503", s.status_503}, {"other", s.status_other}};
    cc_buf_puts(&out, "# HELP careclock_http_requests_total Requests answered by the feed server, by status code.\n"
                      "# TYPE careclock_http_requests_total counter\n");
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        cc_buf_printf(&out, "careclock_http_requests_total{code=\"%s\"} %llu\n", codes[i].code,
                      (unsigned long long)codes[i].n);
    cc_buf_printf(&out,
                  "# HELP careclock_http_connections Open connections to the feed server.\n"
                  "# TYPE careclock_http_connections gauge\n"
                  "careclock_http_connections %u\n"
                  "# HELP careclock_http_closed_total Connections the server closed: request_timeout passed before "
                  "the request arrived whole (deadline), or to make room for new clients (evicted).\n"
                  "# TYPE careclock_http_closed_total counter\n"
                  "careclock_http_closed_total{reason=\"deadline\"} %llu\n"
                  "careclock_http_closed_total{reason=\"evicted\"} %llu\n",
                  s.connections, (unsigned long long)s.deadline_closed, (unsigned long long)s.evicted);
    enum MHD_Result r;
    if (out.failed)
        r = cc__http_send_plain(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
    else
        r = cc__http_send_text(h, conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", cc_buf_str(&out), out.len);
    cc_buf_free(&out);
    return r;
}

enum MHD_Result cc__http_send_not_allowed(cc_http_t *h, struct MHD_Connection *conn)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen("method not allowed\n"),
                                                                (void *)"method not allowed\n",
                                                                MHD_RESPMEM_PERSISTENT);
    if (resp != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, TEXT_PLAIN);
    }
    return cc__http_queue(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

enum MHD_Result cc__http_serve_healthz(cc_http_t *h, struct MHD_Connection *conn)
{
    char why[256] = "", text[300];
    int bad = h->routes.healthz != NULL ? h->routes.healthz(h->routes.data, why, sizeof(why)) : 0;
    if (!bad)
        return cc__http_send_plain(h, conn, MHD_HTTP_OK, "ok\n");
    snprintf(text, sizeof(text), "unavailable%s%s\n", why[0] ? ": " : "", why);
    return cc__http_send_plain(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, text);
}
