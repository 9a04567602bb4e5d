/* The feed server. See http.h.
 *
 * Design note: libmicrohttpd owns the sockets and the HTTP parsing; this
 * module owns only the loop integration and the routing. The integration
 * is the documented external-loop contract for MHD_USE_EPOLL: the epoll
 * descriptor (MHD_DAEMON_INFO_EPOLL_FD) becomes readable when any socket
 * MHD watches is ready, so a uv_poll_t on it calls MHD_run(); after every
 * MHD_run() the timer is re-armed from MHD_get_timeout(), which is 0 when
 * MHD has work left (it processes connections fairly, not to exhaustion)
 * and the nearest connection timeout otherwise. Both handles are embedded
 * in cc_http_t, which is freed only from the last close callback.
 *
 * The listening socket is made here rather than by MHD so that an error
 * names the address and the cause, and port 0 (tests) can be read back.
 */
#include "careclock/http.h"
#include "careclock/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define FEED_PREFIX "/feeds/"
#define FEED_SUFFIX ".ics"
#define CHILD_PREFIX "/children/"
#define CONNECTION_MEMORY (32 * 1024)

/* What the first call of the access handler leaves in *req_cls for the
 * feed, health and metrics routes (the web route leaves its request). */
static int headers_seen;

struct cc_http {
    uv_loop_t *loop;
    uv_poll_t poll;   /* on MHD's epoll descriptor */
    uv_timer_t timer; /* MHD's next timeout */
    struct MHD_Daemon *mhd;
    cc_http_routes_t routes;
    int port;
    unsigned limit;   /* max_connections */
    int open_handles; /* uv handles not yet closed */
    cc_http_stop_cb on_stop;
    void *on_stop_arg;
    cc_http_stats_t stats;
    cc_http_request_t *waiting; /* web requests suspended until answered */
};

/* A web request. Two references: the connection's (until libmicrohttpd
 * says the request is over, or the server stops) and the route's (until
 * cc_http_respond); freed when both are gone. */
typedef struct {
    char *name, *value;
} pair_t;

struct cc_http_request {
    cc_http_t *h;
    struct MHD_Connection *conn; /* NULL once the connection is done with it */
    int refs;
    int dispatched, suspended;
    cc_http_request_t *prev, *next; /* h->waiting while suspended */
    char *method, *path;
    pair_t *headers, *query;
    size_t nheaders, nquery;
    char *body;
    size_t len;
    int too_big;
    char client[64];
    struct sockaddr_storage peer;
    int has_peer;
    int answered;
    cc_http_response_t response;
};

/* ---- small helpers ---- */

static void logf_(cc_http_t *h, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void logf_(cc_http_t *h, int level, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (h->routes.log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    h->routes.log(h->routes.data, level, line);
}

/* libmicrohttpd's own messages. They describe sockets and protocol errors,
 * never request URLs. */
static void mhd_logger(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    cc_http_t *h = cls;
    char line[512];
    if (h->routes.log == NULL)
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    h->routes.log(h->routes.data, 4, line);
}

void cc_http_etag(const void *body, size_t len, char etag[CC_HTTP_ETAG_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(body, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        /* Cannot happen with a working libcrypto; an ETag that matches no
         * request is still correct, only uncacheable. */
        memset(md, 0, sizeof(md));
        mdlen = 32;
    }
    etag[0] = '"';
    for (unsigned i = 0; i < mdlen; i++) {
        etag[1 + 2 * i] = hex[md[i] >> 4];
        etag[2 + 2 * i] = hex[md[i] & 15];
    }
    etag[1 + 2 * mdlen] = '"';
    etag[2 + 2 * mdlen] = '\0';
}

static const char *const DAYS[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char *cc_http_date(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[tm.tm_wday], tm.tm_mday, MONTHS[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); -1 if it is not one
 * (RFC 9110: a recipient ignores an If-Modified-Since it cannot parse). */
time_t cc__http_parse_date(const char *s)
{
    char day[4], mon[4], tail;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    /* Field widths as the format has them: an unbounded %d overflows (and
     * a value that wrapped negative passed the range checks below: found by
     * tests/fuzz/fuzz_http.c). */
    if (sscanf(s, "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d GM%c", day, &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &tail) != 8 ||
        tail != 'T')
        return -1;
    tm.tm_mon = -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, MONTHS[i]) == 0)
            tm.tm_mon = i;
    if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 1970 || tm.tm_hour < 0 ||
        tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    return timegm(&tm);
}

/* If-None-Match against our strong ETag, by weak comparison (RFC 9110
 * 13.1.2): "*" matches; W/"x" and "x" match "x". */
int cc__http_etag_matches(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p == '"') {
            const char *close = strchr(p + 1, '"');
            if (close == NULL)
                return 0;
            if ((size_t)(close - p + 1) == elen && memcmp(p, etag, elen) == 0)
                return 1;
            p = close + 1;
        } else {
            while (*p && *p != ',')
                p++;
        }
    }
    return 0;
}

/* ---- responses ---- */

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
static enum MHD_Result queue(cc_http_t *h, struct MHD_Connection *conn, unsigned code, struct MHD_Response *resp)
{
    if (resp == NULL)
        return MHD_NO; /* MHD closes the connection */
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result r = MHD_queue_response(conn, code, resp);
    MHD_destroy_response(resp);
    if (r == MHD_YES)
        count(h, code);
    return r;
}

static enum MHD_Result send_text(cc_http_t *h, struct MHD_Connection *conn, unsigned code, const char *type,
                                 const char *text, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (resp != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return queue(h, conn, code, resp);
}

#define TEXT_PLAIN "text/plain; charset=utf-8"

static enum MHD_Result send_plain(cc_http_t *h, struct MHD_Connection *conn, unsigned code, const char *text)
{
    return send_text(h, conn, code, TEXT_PLAIN, text, strlen(text));
}

static void release(cc_http_body_t *b)
{
    if (b->release != NULL)
        b->release(b->release_arg);
    b->release = NULL;
}

/* 1 if an Accept-Encoding header value takes gzip: "gzip" (or "x-gzip")
 * listed without q=0 (RFC 9110 12.5.3). "*" is not taken as gzip: a
 * client that names no coding gets the plain body. */
int cc__http_accepts_gzip(const char *header)
{
    const char *p = header;
    while (p != NULL && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *name = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - name);
        int gzip = (n == 4 && strncasecmp(name, "gzip", 4) == 0) || (n == 6 && strncasecmp(name, "x-gzip", 6) == 0);
        double q = 1.0;
        while (*p && *p != ',') {
            while (*p == ' ' || *p == '\t' || *p == ';')
                p++;
            if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                char *end;
                q = strtod(p + 2, &end);
                p = end;
            }
            while (*p && *p != ',' && *p != ';')
                p++;
        }
        if (gzip)
            return q > 0.0;
    }
    return 0;
}

static enum MHD_Result serve_feed(cc_http_t *h, struct MHD_Connection *conn, const char *token)
{
    cc_http_body_t b;
    char etag[CC_HTTP_ETAG_SIZE], date[40];
    memset(&b, 0, sizeof(b));
    int rc = h->routes.feed != NULL ? h->routes.feed(h->routes.data, token, &b) : CC_ENOTFOUND;
    if (rc == CC_ENOTFOUND)
        return send_plain(h, conn, MHD_HTTP_NOT_FOUND, "not found\n");
    if (rc != 0) {
        logf_(h, 3, "http: a feed could not be rendered: %s", cc_strerror(rc));
        return send_plain(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
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
    return queue(h, conn, code, resp);
}

/* The pages a person may open: the server's root, and a child's page
 * (<public_url>/children/<ref>, the link in every message) until the
 * dashboard serves it. No child's data: the feed server asks no one who
 * they are. The reference is echoed escaped. */
static void page_escape(cc_buf_t *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': cc_buf_puts(out, "&amp;"); break;
        case '<': cc_buf_puts(out, "&lt;"); break;
        case '>': cc_buf_puts(out, "&gt;"); break;
        case '"': cc_buf_puts(out, "&quot;"); break;
        case '\'': cc_buf_puts(out, "&#39;"); break;
        default: cc_buf_append(out, s, 1);
        }
    }
}

static enum MHD_Result serve_page(cc_http_t *h, struct MHD_Connection *conn, const char *child)
{
    cc_buf_t out;
    cc_buf_init(&out);
    cc_buf_puts(&out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width\"><title>careclock</title></head>\n"
                      "<body style=\"font-family:Arial,Helvetica,sans-serif;max-width:40em;margin:2em auto;"
                      "padding:0 1em;line-height:1.5;color:#1a1a1a\">\n<h1>careclock</h1>\n");
    if (child != NULL) {
        cc_buf_puts(&out, "<p>This will be the page of child <strong>");
        page_escape(&out, child);
        cc_buf_puts(&out, "</strong> on careclock's dashboard, which is not here yet.</p>\n"
                          "<p>Until it is, ask careclock on the server: <code>careclock clocks --child ");
        page_escape(&out, child);
        cc_buf_puts(&out, "</code> lists the child's statutory clocks, and <code>careclock explain ");
        page_escape(&out, child);
        cc_buf_puts(&out, " CLOCK</code> shows how a due date was worked out.</p>\n");
    } else {
        cc_buf_puts(&out, "<p>careclock keeps the statutory clocks of children's services: it reminds workers "
                          "and managers by email and chat of the deadlines they hold, and serves calendar "
                          "feeds of them.</p>\n<p>Calendars are subscribed to with their own secret "
                          "addresses, which <code>careclock feed add</code> prints once. The dashboard is not "
                          "here yet.</p>\n");
    }
    cc_buf_puts(&out, "</body></html>\n");
    enum MHD_Result r;
    if (out.failed)
        r = send_plain(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
    else
        r = send_text(h, conn, MHD_HTTP_OK, "text/html; charset=utf-8", cc_buf_str(&out), out.len);
    cc_buf_free(&out);
    return r;
}

static enum MHD_Result serve_metrics(cc_http_t *h, struct MHD_Connection *conn)
{
    cc_buf_t out;
    cc_http_stats_t s;
    cc_buf_init(&out);
    if (h->routes.metrics != NULL && h->routes.metrics(h->routes.data, &out) != 0) {
        cc_buf_free(&out);
        logf_(h, 3, "http: metrics could not be collected");
        return send_plain(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
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
                  "careclock_http_connections %u\n",
                  s.connections);
    enum MHD_Result r;
    if (out.failed)
        r = send_plain(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
    else
        r = send_text(h, conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", cc_buf_str(&out), out.len);
    cc_buf_free(&out);
    return r;
}

static enum MHD_Result send_not_allowed(cc_http_t *h, struct MHD_Connection *conn)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen("method not allowed\n"),
                                                                (void *)"method not allowed\n",
                                                                MHD_RESPMEM_PERSISTENT);
    if (resp != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, TEXT_PLAIN);
    }
    return queue(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

/* ---- web requests ---- */

static void pairs_free(pair_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

static void request_unref(cc_http_request_t *req)
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
static cc_http_request_t *request_new(cc_http_t *h, struct MHD_Connection *conn, const char *method, const char *url)
{
    cc_http_request_t *req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    req->h = h;
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
        request_unref(req);
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

static void on_timer(uv_timer_t *timer);

void cc_http_respond(cc_http_request_t *req, cc_http_response_t *resp)
{
    assert(req != NULL && resp != NULL && !req->answered);
    cc_http_t *h = req->h;
    req->answered = 1;
    req->response = *resp;
    memset(resp, 0, sizeof(*resp));
    if (req->suspended) {
        /* Unlink, resume, and let MHD run from the timer (never inside a
         * run): it calls the access handler again, which queues the answer. */
        if (req->prev != NULL)
            req->prev->next = req->next;
        else
            h->waiting = req->next;
        if (req->next != NULL)
            req->next->prev = req->prev;
        req->prev = req->next = NULL;
        req->suspended = 0;
        if (req->conn != NULL && h->mhd != NULL) {
            MHD_resume_connection(req->conn);
            uv_timer_start(&h->timer, on_timer, 0, 0);
        }
    }
    request_unref(req); /* the route's reference */
}

/* The request is over for libmicrohttpd (answered, or the client went). */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    cc_http_request_t *req = *req_cls;
    if (req == NULL || req == (void *)&headers_seen)
        return;
    *req_cls = NULL;
    req->conn = NULL;
    request_unref(req); /* the connection's reference */
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
    return queue(h, conn, r->status ? r->status : MHD_HTTP_INTERNAL_SERVER_ERROR, resp);
}

/* The web route's part of the access handler: the first call makes the
 * request, later calls gather the body, the last hands it to the route or
 * sends the answer. */
static enum MHD_Result serve_web(cc_http_t *h, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    cc_http_request_t *req = *req_cls;
    if (req == NULL) {
        if ((req = request_new(h, conn, method, url)) == NULL)
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
            req->next = h->waiting;
            if (h->waiting != NULL)
                h->waiting->prev = req;
            h->waiting = req;
            return MHD_YES;
        }
    }
    if (!req->answered)
        return MHD_YES; /* resumed without an answer: cannot happen */
    return send_web(h, conn, req);
}

static int is_web_path(const char *url)
{
    return url != NULL && strcmp(url, "/healthz") != 0 && strcmp(url, "/metrics") != 0 &&
           strncmp(url, FEED_PREFIX, strlen(FEED_PREFIX)) != 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    cc_http_t *h = cls;
    char token[CC__HTTP_TOKEN_MAX + 1];
    (void)version;
    if (h->routes.web != NULL && is_web_path(url))
        return serve_web(h, conn, url, method, upload_data, upload_data_size, req_cls);
    /* The first call only announces the headers: answering then makes MHD
     * close the connection after the response (it cannot know the request
     * body was read), which defeats keep-alive. Answer on the second. */
    if (*req_cls == NULL) {
        *req_cls = &headers_seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a body on GET or HEAD: discarded */
        return MHD_YES;
    }
    switch (cc__http_route(method, url, token)) {
    case CC__HTTP_ROUTE_HEALTHZ: {
        int bad = h->routes.healthz != NULL ? h->routes.healthz(h->routes.data) : 0;
        return bad ? send_plain(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable\n")
                   : send_plain(h, conn, MHD_HTTP_OK, "ok\n");
    }
    case CC__HTTP_ROUTE_METRICS:
        return serve_metrics(h, conn);
    case CC__HTTP_ROUTE_FEED:
        return serve_feed(h, conn, token);
    case CC__HTTP_ROUTE_ROOT:
        return serve_page(h, conn, NULL);
    case CC__HTTP_ROUTE_CHILD:
        return serve_page(h, conn, token);
    case CC__HTTP_ROUTE_NOT_ALLOWED:
        return send_not_allowed(h, conn);
    case CC__HTTP_ROUTE_NOT_FOUND:
        break;
    }
    return send_plain(h, conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

cc__http_route_t cc__http_route(const char *method, const char *url, char token[CC__HTTP_TOKEN_MAX + 1])
{
    token[0] = '\0';
    if (method == NULL || url == NULL)
        return CC__HTTP_ROUTE_NOT_FOUND;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return CC__HTTP_ROUTE_NOT_ALLOWED;
    if (strcmp(url, "/healthz") == 0)
        return CC__HTTP_ROUTE_HEALTHZ;
    if (strcmp(url, "/metrics") == 0)
        return CC__HTTP_ROUTE_METRICS;
    if (strcmp(url, "/") == 0)
        return CC__HTTP_ROUTE_ROOT;
    if (strncmp(url, CHILD_PREFIX, strlen(CHILD_PREFIX)) == 0) {
        const char *ref = url + strlen(CHILD_PREFIX);
        size_t n = strlen(ref);
        /* a reference as careclock takes one: printable, no '/' */
        int ok = n > 0 && n <= CC__HTTP_TOKEN_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = (unsigned char)ref[i] > 0x20 && (unsigned char)ref[i] != 0x7f && ref[i] != '/';
        if (ok) {
            memcpy(token, ref, n + 1);
            return CC__HTTP_ROUTE_CHILD;
        }
    }
    size_t len = strlen(url), pre = strlen(FEED_PREFIX), suf = strlen(FEED_SUFFIX);
    if (len > pre + suf && len - pre - suf <= CC__HTTP_TOKEN_MAX && strncmp(url, FEED_PREFIX, pre) == 0 &&
        strcmp(url + len - suf, FEED_SUFFIX) == 0) {
        size_t n = len - pre - suf;
        memcpy(token, url + pre, n);
        token[n] = '\0';
        if (strchr(token, '/') == NULL)
            return CC__HTTP_ROUTE_FEED;
        token[0] = '\0';
    }
    return CC__HTTP_ROUTE_NOT_FOUND;
}

/* ---- the loop ---- */

static void on_timer(uv_timer_t *timer);

static unsigned connections(cc_http_t *h)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info != NULL ? info->num_connections : 0;
}

/* Let MHD work, then arm the timer for its next deadline. At the
 * connection limit MHD takes its listening socket out of its epoll set and
 * puts it back only at the start of a later MHD_run(); when a run brings
 * the count below the limit, run once more so that clients waiting to be
 * accepted are not left until some unrelated event. */
static void drive(cc_http_t *h)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (h->mhd == NULL)
        return;
    int was_full = connections(h) >= h->limit;
    MHD_run(h->mhd);
    if (was_full && connections(h) < h->limit)
        MHD_run(h->mhd);
    if (MHD_get_timeout(h->mhd, &ms) == MHD_YES)
        uv_timer_start(&h->timer, on_timer, ms > (MHD_UNSIGNED_LONG_LONG)INT_MAX ? (uint64_t)INT_MAX : ms, 0);
    else
        uv_timer_stop(&h->timer);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    cc_http_t *h = poll->data;
    (void)events;
    if (status < 0)
        logf_(h, 3, "http: polling the server failed: %s", uv_strerror(status));
    drive(h);
}

static void on_timer(uv_timer_t *timer)
{
    drive(timer->data);
}

static void on_closed(uv_handle_t *handle)
{
    cc_http_t *h = handle->data;
    if (--h->open_handles > 0)
        return;
    cc_http_stop_cb cb = h->on_stop;
    void *arg = h->on_stop_arg;
    free(h);
    if (cb != NULL)
        cb(arg);
}

/* Split "host:port" or "[v6]:port". */
static int split_listen(const char *address, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    if (address == NULL)
        return CC_EINVAL;
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - address - 1) >= hostlen)
            return CC_EINVAL;
        snprintf(host, hostlen, "%.*s", (int)(close - address - 1), address + 1);
        colon = close + 1;
    } else {
        colon = strrchr(address, ':');
        if (colon == NULL || colon == address || (size_t)(colon - address) >= hostlen)
            return CC_EINVAL;
        snprintf(host, hostlen, "%.*s", (int)(colon - address), address);
    }
    if (colon[1] == '\0' || strlen(colon + 1) >= portlen || strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return CC_EINVAL;
    snprintf(port, portlen, "%s", colon + 1);
    return 0;
}

/* A listening socket bound to address into *out, its port into *port.
 * Returns 0, CC_EINVAL (address does not parse) or CC_EIO, with err set
 * and the system's reason in *sys_errno. */
static int open_listener(const char *address, int *out, int *port, int *ipv6, int *sys_errno, char *err,
                         size_t errlen)
{
    char host[256], service[8];
    struct addrinfo hints, *res = NULL;
    int fd = -1, saved = 0;
    if (split_listen(address, host, sizeof(host), service, sizeof(service)) != 0) {
        snprintf(err, errlen, "listen \"%s\" is not ADDRESS:PORT", address ? address : "");
        return CC_EINVAL;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "listen \"%s\": %s", address, gai_strerror(gai));
        return CC_EINVAL;
    }
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
            continue;
        }
        *ipv6 = ai->ai_family == AF_INET6;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", address, strerror(saved));
        *sys_errno = saved;
        return CC_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    *port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *out = fd;
    return 0;
}

int cc_http_start(uv_loop_t *loop, const cc_config_t *config, const cc_http_routes_t *routes, cc_http_t **out,
                  char *err, size_t errlen)
{
    int ipv6 = 0, fd = -1, sys_errno = 0;
    *out = NULL;
    cc_http_t *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return CC_ENOMEM;
    }
    h->loop = loop;
    if (routes != NULL)
        h->routes = *routes;
    int rc = open_listener(config->listen, &fd, &h->port, &ipv6, &sys_errno, err, errlen);
    if (rc != 0) {
        free(h);
        return rc;
    }
    unsigned limit = config->http_max_connections > 0 ? (unsigned)config->http_max_connections : 512;
    h->limit = limit;
    unsigned timeout = config->http_timeout_seconds > 0 ? (unsigned)config->http_timeout_seconds : 10;
    h->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME | (ipv6 ? MHD_USE_IPv6 : 0),
                              0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, h,
                              MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT, limit,
                              MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                              (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                              MHD_OPTION_END);
    if (h->mhd == NULL) {
        snprintf(err, errlen, "libmicrohttpd could not start on %s", config->listen);
        close(fd);
        free(h);
        return CC_EIO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (info == NULL || uv_poll_init(loop, &h->poll, info->epoll_fd) != 0) {
        snprintf(err, errlen, "the feed server cannot join the event loop");
        MHD_stop_daemon(h->mhd);
        free(h);
        return CC_EIO;
    }
    uv_timer_init(loop, &h->timer);
    h->poll.data = h;
    h->timer.data = h;
    h->open_handles = 2;
    uv_poll_start(&h->poll, UV_READABLE, on_poll);
    drive(h);
    *out = h;
    return 0;
}

/* 1 if a careclockd answers GET /healthz on address within a second. */
static int careclockd_answers(const char *address)
{
    char host[256], service[8], reply[256];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
    int found = 0;
    if (split_listen(address, host, sizeof(host), service, sizeof(service)) != 0)
        return 0;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "%s", strcmp(host, "::") == 0 ? "::1" : "127.0.0.1");
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return 0;
    for (struct addrinfo *ai = res; ai != NULL && !found; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        struct timeval tv = {1, 0};
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        static const char request[] = "GET /healthz HTTP/1.0\r\nHost: careclock\r\n\r\n";
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 && write(fd, request, sizeof(request) - 1) > 0) {
            size_t got = 0;
            ssize_t n;
            while (got < sizeof(reply) - 1 && (n = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0)
                got += (size_t)n;
            reply[got] = '\0';
            /* the feed server's answer: a status line, then "ok" or "unavailable" alone as the body */
            const char *body = strstr(reply, "\r\n\r\n");
            found = strncmp(reply, "HTTP/1.", 7) == 0 && body != NULL &&
                    (strcmp(body + 4, "ok\n") == 0 || strcmp(body + 4, "unavailable\n") == 0);
        }
        close(fd);
    }
    freeaddrinfo(res);
    return found;
}

int cc_http_listen_probe(const char *address, char *msg, size_t len)
{
    int fd = -1, port = 0, ipv6 = 0, sys_errno = 0;
    char err[512];
    msg[0] = '\0';
    int rc = open_listener(address, &fd, &port, &ipv6, &sys_errno, err, sizeof(err));
    if (rc == 0) {
        close(fd);
        return 0;
    }
    if (rc == CC_EINVAL) {
        snprintf(msg, len, "%s: give ADDRESS:PORT, such as 127.0.0.1:8787", err);
        return CC_EINVAL;
    }
    if (sys_errno == EADDRINUSE && careclockd_answers(address)) {
        snprintf(msg, len, "in use by a careclockd that is running (it answers /healthz): fine for a reload; a "
                           "second instance needs its own address");
        return 0;
    }
    if (sys_errno == EADDRINUSE)
        snprintf(msg, len, "the address is in use by another program: stop it (ss -ltnp names it), or choose "
                           "another port in [http] listen");
    else if (sys_errno == EACCES)
        snprintf(msg, len, "ports below 1024 need a privilege careclockd does not have (its unit grants no "
                           "capabilities): listen on a port above 1023 behind the council's reverse proxy");
    else if (sys_errno == EADDRNOTAVAIL)
        snprintf(msg, len, "the address is not one of this machine's: use 127.0.0.1 (behind the reverse "
                           "proxy) or an address this machine has (ip -brief address)");
    else
        snprintf(msg, len, "%s: fix [http] listen", err);
    return CC_EIO;
}

int cc_http_port(const cc_http_t *h)
{
    return h->port;
}

void cc_http_stats(const cc_http_t *h, cc_http_stats_t *out)
{
    *out = h->stats;
    out->connections = h->mhd != NULL ? connections((cc_http_t *)h) : 0;
}

void cc_http_stop(cc_http_t *h, cc_http_stop_cb cb, void *arg)
{
    if (h == NULL) {
        if (cb != NULL)
            cb(arg);
        return;
    }
    h->on_stop = cb;
    h->on_stop_arg = arg;
    /* MHD must resume what it suspended before it stops; the route's
     * references stay until it answers (the answer is then dropped). */
    while (h->waiting != NULL) {
        cc_http_request_t *req = h->waiting;
        h->waiting = req->next;
        req->prev = req->next = NULL;
        req->suspended = 0;
        if (req->conn != NULL)
            MHD_resume_connection(req->conn);
    }
    /* Stop watching the epoll descriptor before MHD closes it. */
    uv_close((uv_handle_t *)&h->poll, on_closed);
    uv_close((uv_handle_t *)&h->timer, on_closed);
    MHD_stop_daemon(h->mhd);
    h->mhd = NULL;
}
