/* The feed server. See http.h.
 *
 * Design notes:
 *  - libmicrohttpd owns the sockets and the HTTP parsing; this module owns
 *    the loop integration, the routing and the limits. The integration is
 *    the documented external-loop contract for MHD_USE_EPOLL: the epoll
 *    descriptor (MHD_DAEMON_INFO_EPOLL_FD) becomes readable when any socket
 *    MHD watches is ready, so a uv_poll_t on it calls MHD_run(); after
 *    every MHD_run() the timer is re-armed from MHD_get_timeout(), which is
 *    0 when MHD has work left (it processes connections fairly, not to
 *    exhaustion) and the nearest connection timeout otherwise.
 *  - Up to two listeners ("servers"), each its own MHD daemon with its own
 *    poll and timer handles: the public one serves /feeds/; the admin one
 *    ([http] admin_listen) /healthz and /metrics. When admin_listen is the
 *    same address as listen, one server serves all three. A server is freed
 *    only from the last close callback of its handles; cc_http_t once every
 *    server and its own reaper timer have gone.
 *  - Slow clients (docs/reliability.md, "Slow clients"). MHD's connection
 *    timeout is an inactivity timeout: a client sending a byte a second is
 *    never idle. So every connection is tracked (MHD's connection
 *    notifications) in a list ordered by when its current exchange began:
 *    the accept, or the end of the previous response. Until its request
 *    has arrived whole (the access handler's first call) it is "waiting".
 *    The reaper closes a connection waiting longer than request_timeout;
 *    and when a new connection makes more than 7/8 of max_connections
 *    open, the one that has waited longest is closed to make room, so new
 *    clients are accepted at once instead of queueing behind a flood until
 *    it times out. MHD's own per-IP limit (max_connections_per_client)
 *    keeps one address from taking the room. Closing is shutdown() on the
 *    socket: MHD still owns the descriptor, sees the end of the stream and
 *    closes the connection itself.
 *  - Feeds may be answered later: the feed route may say the body is being
 *    prepared (cc_http_body_t.pending, with a key). The connection is then
 *    suspended (MHD_ALLOW_SUSPEND_RESUME) until cc_http_wake(key), and the
 *    route is asked again; the loop goes on meanwhile. Suspended
 *    connections are resumed before their server stops (MHD requires it).
 *  - The listening sockets are made here rather than by MHD so that an
 *    error names the address and the cause, port 0 (tests) can be read
 *    back, and a reconfiguration that keeps an address keeps its socket
 *    (dup'd into the new MHD daemon, then the old one quiesced and stopped),
 *    so clients never find the port closed.
 *  - libmicrohttpd's own messages are rate-limited (a flood refused at the
 *    per-client limit would otherwise write a line per connection).
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
#define REAP_EVERY_MS 250
#define ADMIN_CONNECTIONS 16     /* the admin listener: a monitoring system or two */
#define MHD_LOG_BURST 10         /* libmicrohttpd lines logged per window ... */
#define MHD_LOG_WINDOW_MS 60000  /* ... then counted, and the count logged */

enum { SERVE_FEEDS = 1, SERVE_ADMIN = 2 };

/* What the first call of the access handler leaves in *req_cls for the
 * feed, health and metrics routes (the web route leaves its request). */
static int headers_seen;

typedef struct server server_t;
typedef struct conn conn_t;

/* One connection, from MHD's STARTED notification to its CLOSED one. */
struct conn {
    conn_t *prev, *next;         /* the server's list, oldest exchange first */
    struct MHD_Connection *mhd;
    uint64_t since;              /* loop ms: the exchange began (accept, or the previous response done) */
    int waiting;                 /* the request has not arrived whole */
    int shut;                    /* shutdown() done: MHD is closing it */
    int suspended;               /* waiting for cc_http_wake(key) */
    int resumed;                 /* woken: the next route call is told so */
    int64_t key;
};

/* What a server was started with: a reconfiguration that changes none of it
 * keeps the server. */
typedef struct {
    char address[300];
    unsigned serves;
    unsigned limit, per_client, timeout_s;
} settings_t;

struct server {
    cc_http_t *h;
    settings_t set;
    int port, listen_fd;         /* listen_fd: MHD's, for a later dup */
    char bound[320];             /* set.address with the port bound ("127.0.0.1:0" -> "127.0.0.1:40123") */
    struct MHD_Daemon *mhd;
    uv_poll_t poll;              /* on MHD's epoll descriptor */
    uv_timer_t timer;            /* MHD's next timeout */
    int open_handles;            /* of poll and timer, not yet closed */
    unsigned high_water;         /* open connections beyond this make room */
    conn_t *head, *tail;
    unsigned nconns, nshut;
    cc_http_request_t *waiting;  /* web requests suspended until answered */
};

struct cc_http {
    uv_loop_t *loop;
    cc_http_routes_t routes;
    server_t *pub, *admin;       /* admin NULL: off, or pub serves it */
    uint64_t deadline_ms;        /* request_timeout */
    uv_timer_t reaper;
    int live;                    /* servers not yet freed, plus the reaper until closed */
    int stopping;
    cc_http_stop_cb on_stop;
    void *on_stop_arg;
    cc_http_stats_t stats;
    uint64_t log_window_start;   /* libmicrohttpd's messages: the current window ... */
    unsigned log_lines, log_dropped;
};

/* A web request. Two references: the connection's (until libmicrohttpd
 * says the request is over, or the server stops) and the route's (until
 * cc_http_respond); freed when both are gone. */
typedef struct {
    char *name, *value;
} pair_t;

struct cc_http_request {
    cc_http_t *h;
    server_t *srv;               /* whose connection: it is resumed there */
    struct MHD_Connection *conn; /* NULL once the connection is done with it */
    int refs;
    int dispatched, suspended;
    cc_http_request_t *prev, *next; /* srv->waiting while suspended */
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
 * never request URLs. At most MHD_LOG_BURST a minute: a flood refused at
 * the per-client limit would otherwise write one per connection. */
static void mhd_logger(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    cc_http_t *h = cls;
    char line[512];
    if (h->routes.log == NULL)
        return;
    uint64_t now = uv_now(h->loop);
    if (now - h->log_window_start >= MHD_LOG_WINDOW_MS) {
        if (h->log_dropped > 0)
            logf_(h, 4, "http: %u more libmicrohttpd messages in the last minute not logged", h->log_dropped);
        h->log_window_start = now;
        h->log_lines = h->log_dropped = 0;
    }
    if (h->log_lines >= MHD_LOG_BURST) {
        h->log_dropped++;
        return;
    }
    h->log_lines++;
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

int cc_http_metric_label(cc_buf_t *out, const char *value)
{
    /* Prometheus text format 0.0.4: in a label value, backslash, double
     * quote and line feed are written \\, \" and \n. */
    for (const char *p = value ? value : ""; *p != '\0'; p++) {
        if (*p == '\\')
            cc_buf_puts(out, "\\\\");
        else if (*p == '"')
            cc_buf_puts(out, "\\\"");
        else if (*p == '\n')
            cc_buf_puts(out, "\\n");
        else
            cc_buf_append(out, p, 1);
    }
    return out->failed ? CC_ENOMEM : 0;
}

/* ---- connections ---- */

static conn_t *conn_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

static void list_remove(server_t *srv, conn_t *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        srv->tail = c->prev;
    c->prev = c->next = NULL;
}

static void list_append(server_t *srv, conn_t *c)
{
    c->prev = srv->tail;
    c->next = NULL;
    if (srv->tail != NULL)
        srv->tail->next = c;
    else
        srv->head = c;
    srv->tail = c;
}

/* Close c: the end of the stream for MHD, which then closes it. */
static void shut(server_t *srv, conn_t *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c->mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (c->shut || ci == NULL)
        return;
    shutdown(ci->connect_fd, SHUT_RDWR);
    c->shut = 1;
    srv->nshut++;
}

static void on_timer(uv_timer_t *timer);

/* Make room for new clients: close the connection that has waited longest
 * for its request (never one whose request is being answered). */
static void make_room(server_t *srv, const conn_t *newest)
{
    while (srv->nconns - srv->nshut > srv->high_water) {
        conn_t *c = srv->head;
        while (c != NULL && (!c->waiting || c->shut || c->suspended || c == newest))
            c = c->next;
        if (c == NULL)
            return;
        shut(srv, c);
        srv->h->stats.evicted++;
    }
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    server_t *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_t *c = calloc(1, sizeof(*c));
        *socket_context = c;
        if (c == NULL)
            return; /* untracked: MHD's own timeout still closes it */
        c->mhd = connection;
        c->since = uv_now(srv->h->loop);
        c->waiting = 1;
        list_append(srv, c);
        srv->nconns++;
        make_room(srv, c);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_t *c = *socket_context;
        if (c == NULL)
            return;
        list_remove(srv, c);
        srv->nconns--;
        if (c->shut)
            srv->nshut--;
        free(c);
        *socket_context = NULL;
    }
}

/* A response was sent (or the request ended otherwise): on a kept-alive
 * connection the next exchange begins now. */
static void request_unref(cc_http_request_t *req);

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    server_t *srv = cls;
    conn_t *c = conn_of(connection);
    (void)toe;
    /* A web request is over for libmicrohttpd (answered, or the client
     * went): the connection's reference goes. */
    cc_http_request_t *req = *req_cls;
    if (req != NULL && req != (void *)&headers_seen) {
        *req_cls = NULL;
        req->conn = NULL;
        request_unref(req);
    }
    if (c == NULL)
        return;
    c->waiting = 1;
    c->suspended = 0;
    c->since = uv_now(srv->h->loop);
    list_remove(srv, c);
    list_append(srv, c);
}

/* Close connections whose request has not arrived whole within the
 * deadline. The list is in order of since, so the walk stops at the first
 * connection still within it. */
static void reap(server_t *srv, uint64_t now, uint64_t deadline_ms)
{
    for (conn_t *c = srv->head; c != NULL && now - c->since >= deadline_ms; c = c->next) {
        if (c->waiting && !c->shut && !c->suspended) {
            shut(srv, c);
            srv->h->stats.deadline_closed++;
        }
    }
}

static void on_reap(uv_timer_t *t)
{
    cc_http_t *h = t->data;
    uint64_t now = uv_now(h->loop);
    if (h->pub != NULL)
        reap(h->pub, now, h->deadline_ms);
    if (h->admin != NULL)
        reap(h->admin, now, h->deadline_ms);
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
    /* So that the pre-flight check knows a running careclockd holds an
     * address (cc_http_listen_probe); no version. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "careclockd");
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

static enum MHD_Result serve_feed(server_t *srv, struct MHD_Connection *conn, const char *token)
{
    cc_http_t *h = srv->h;
    cc_http_body_t b;
    char etag[CC_HTTP_ETAG_SIZE], date[40];
    memset(&b, 0, sizeof(b));
    conn_t *c = conn_of(conn);
    if (c != NULL) {
        b.resumed = c->resumed;
        c->resumed = 0;
    }
    int rc = h->routes.feed != NULL ? h->routes.feed(h->routes.data, token, &b) : CC_ENOTFOUND;
    if (rc == CC_ENOTFOUND)
        return send_plain(h, conn, MHD_HTTP_NOT_FOUND, "not found\n");
    if (rc != 0) {
        logf_(h, 3, "http: a feed could not be rendered: %s", cc_strerror(rc));
        return send_plain(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
    }
    if (b.pending) {
        /* Being prepared: wait, off the loop's hands, for cc_http_wake(). */
        release(&b);
        if (c == NULL)
            return send_plain(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy, try again\n");
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
                  "careclock_http_connections %u\n"
                  "# HELP careclock_http_closed_total Connections the server closed: request_timeout passed before "
                  "the request arrived whole (deadline), or to make room for new clients (evicted).\n"
                  "# TYPE careclock_http_closed_total counter\n"
                  "careclock_http_closed_total{reason=\"deadline\"} %llu\n"
                  "careclock_http_closed_total{reason=\"evicted\"} %llu\n",
                  s.connections, (unsigned long long)s.deadline_closed, (unsigned long long)s.evicted);
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

static enum MHD_Result serve_healthz(cc_http_t *h, struct MHD_Connection *conn)
{
    char why[256] = "", text[300];
    int bad = h->routes.healthz != NULL ? h->routes.healthz(h->routes.data, why, sizeof(why)) : 0;
    if (!bad)
        return send_plain(h, conn, MHD_HTTP_OK, "ok\n");
    snprintf(text, sizeof(text), "unavailable%s%s\n", why[0] ? ": " : "", why);
    return send_plain(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, text);
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
static cc_http_request_t *request_new(server_t *srv, struct MHD_Connection *conn, const char *method,
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
            uv_timer_start(&srv->timer, on_timer, 0, 0);
        }
    }
    request_unref(req); /* the route's reference */
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
static enum MHD_Result serve_web(server_t *srv, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    cc_http_t *h = srv->h;
    cc_http_request_t *req = *req_cls;
    if (req == NULL) {
        /* The request line and headers have arrived: the deadline no
         * longer applies (a body comes under the inactivity timeout). */
        conn_t *c = conn_of(conn);
        if (c != NULL)
            c->waiting = 0;
        if ((req = request_new(srv, conn, method, url)) == NULL)
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

static int is_web_path(const char *url)
{
    return url != NULL && strcmp(url, "/healthz") != 0 && strcmp(url, "/metrics") != 0 &&
           strncmp(url, FEED_PREFIX, strlen(FEED_PREFIX)) != 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    server_t *srv = cls;
    cc_http_t *h = srv->h;
    char token[CC__HTTP_TOKEN_MAX + 1];
    (void)version;
    /* The dashboard: every path of the feed listener but feeds, /healthz
     * and /metrics. */
    if (h->routes.web != NULL && (srv->set.serves & SERVE_FEEDS) && is_web_path(url))
        return serve_web(srv, conn, url, method, upload_data, upload_data_size, req_cls);
    /* The first call only announces the headers: answering then makes MHD
     * close the connection after the response (it cannot know the request
     * body was read), which defeats keep-alive. Answer on the second. The
     * request has arrived whole: the deadline no longer applies. */
    if (*req_cls == NULL) {
        conn_t *c = conn_of(conn);
        if (c != NULL)
            c->waiting = 0;
        *req_cls = &headers_seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a body on GET or HEAD: discarded */
        return MHD_YES;
    }
    cc__http_route_t route = cc__http_route(method, url, token);
    if ((route == CC__HTTP_ROUTE_HEALTHZ || route == CC__HTTP_ROUTE_METRICS) && !(srv->set.serves & SERVE_ADMIN))
        route = CC__HTTP_ROUTE_NOT_FOUND;
    if ((route == CC__HTTP_ROUTE_FEED || route == CC__HTTP_ROUTE_ROOT || route == CC__HTTP_ROUTE_CHILD) &&
        !(srv->set.serves & SERVE_FEEDS))
        route = CC__HTTP_ROUTE_NOT_FOUND;
    switch (route) {
    case CC__HTTP_ROUTE_HEALTHZ:
        return serve_healthz(h, conn);
    case CC__HTTP_ROUTE_METRICS:
        return serve_metrics(h, conn);
    case CC__HTTP_ROUTE_FEED:
        return serve_feed(srv, conn, token);
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

static unsigned connections(const server_t *srv)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info != NULL ? info->num_connections : 0;
}

/* Let MHD work, then arm the timer for its next deadline. At the
 * connection limit MHD takes its listening socket out of its epoll set and
 * puts it back only at the start of a later MHD_run(); when a run brings
 * the count below the limit, run once more so that clients waiting to be
 * accepted are not left until some unrelated event. */
static void drive(server_t *srv)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (srv->mhd == NULL)
        return;
    int was_full = connections(srv) >= srv->set.limit;
    MHD_run(srv->mhd);
    if (was_full && connections(srv) < srv->set.limit)
        MHD_run(srv->mhd);
    if (MHD_get_timeout(srv->mhd, &ms) == MHD_YES)
        uv_timer_start(&srv->timer, on_timer, ms > (MHD_UNSIGNED_LONG_LONG)INT_MAX ? (uint64_t)INT_MAX : ms, 0);
    else
        uv_timer_stop(&srv->timer);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    server_t *srv = poll->data;
    (void)events;
    if (status < 0)
        logf_(srv->h, 3, "http: polling the server failed: %s", uv_strerror(status));
    drive(srv);
}

static void on_timer(uv_timer_t *timer)
{
    drive(timer->data);
}

/* The last handle of a server or of the module closed. */
static void release_http(cc_http_t *h)
{
    if (--h->live > 0 || !h->stopping)
        return;
    cc_http_stop_cb cb = h->on_stop;
    void *arg = h->on_stop_arg;
    free(h);
    if (cb != NULL)
        cb(arg);
}

static void on_server_closed(uv_handle_t *handle)
{
    server_t *srv = handle->data;
    if (--srv->open_handles > 0)
        return;
    cc_http_t *h = srv->h;
    free(srv);
    release_http(h);
}

static void on_reaper_closed(uv_handle_t *handle)
{
    release_http(handle->data);
}

/* Stop srv: resume what it suspended (MHD requires it), close every
 * connection and the listening socket (unless quiesce: then the socket
 * lives on in a server that took a dup of it), then the handles; srv is
 * freed from the last close callback. */
static void server_stop(server_t *srv, int quiesce)
{
    for (conn_t *c = srv->head; c != NULL; c = c->next)
        if (c->suspended) {
            c->suspended = 0;
            MHD_resume_connection(c->mhd);
        }
    /* Web requests too; the route's references stay until it answers (the
     * answer is then dropped). */
    while (srv->waiting != NULL) {
        cc_http_request_t *req = srv->waiting;
        srv->waiting = req->next;
        req->prev = req->next = NULL;
        req->suspended = 0;
        if (req->conn != NULL)
            MHD_resume_connection(req->conn);
    }
    if (quiesce) {
        MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
        if (fd != MHD_INVALID_SOCKET)
            close(fd); /* our reference; the new server holds its own */
    }
    /* Stop watching the epoll descriptor before MHD closes it. */
    uv_close((uv_handle_t *)&srv->poll, on_server_closed);
    uv_close((uv_handle_t *)&srv->timer, on_server_closed);
    MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
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


/* The settings of the servers config asks for: *pub always, *admin when
 * admin_listen is set and differs from listen (*has_admin). */
static void wanted(const cc_config_t *config, settings_t *pub, settings_t *admin, int *has_admin)
{
    memset(pub, 0, sizeof(*pub));
    memset(admin, 0, sizeof(*admin));
    snprintf(pub->address, sizeof(pub->address), "%s", config->listen ? config->listen : "");
    pub->serves = SERVE_FEEDS;
    pub->limit = config->http_max_connections > 0 ? (unsigned)config->http_max_connections : 512;
    pub->per_client = config->http_max_per_client > 0 ? (unsigned)config->http_max_per_client : 0;
    pub->timeout_s = config->http_timeout_seconds > 0 ? (unsigned)config->http_timeout_seconds : 10;
    *has_admin = 0;
    if (config->admin_listen == NULL)
        return;
    /* The same address: one listener, unless the port is 0 (any free one:
     * two listeners, as the tests start them). */
    size_t len = strlen(pub->address);
    if (strcmp(config->admin_listen, pub->address) == 0 && !(len >= 2 && strcmp(pub->address + len - 2, ":0") == 0)) {
        pub->serves |= SERVE_ADMIN;
        return;
    }
    *has_admin = 1;
    snprintf(admin->address, sizeof(admin->address), "%s", config->admin_listen);
    admin->serves = SERVE_ADMIN;
    admin->limit = ADMIN_CONNECTIONS;
    admin->per_client = 0;
    admin->timeout_s = pub->timeout_s;
}

static const char *key_of(const settings_t *set)
{
    return set->serves & SERVE_FEEDS ? "listen" : "admin_listen";
}

/* Start a server with set. reuse_fd >= 0: listen on that socket (a dup of
 * a running server's, same address), taking it; else bind set->address.
 * Returns 0 with *out, or an error with err naming the [http] key. */
static int server_start(cc_http_t *h, const settings_t *set, int reuse_fd, server_t **out, char *err, size_t errlen)
{
    int ipv6 = 0, fd = reuse_fd, port = 0, sys_errno = 0;
    char why[400];
    *out = NULL;
    server_t *srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        if (reuse_fd >= 0)
            close(reuse_fd);
        snprintf(err, errlen, "out of memory");
        return CC_ENOMEM;
    }
    srv->h = h;
    srv->set = *set;
    srv->high_water = set->limit - set->limit / 8;
    if (fd < 0) {
        int rc = open_listener(set->address, &fd, &port, &ipv6, &sys_errno, why, sizeof(why));
        if (rc != 0) {
            snprintf(err, errlen, "[http] %s: %s", key_of(set), why);
            free(srv);
            return rc;
        }
    } else {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
            ipv6 = ss.ss_family == AF_INET6;
            port = ntohs(ipv6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
        }
    }
    srv->port = port;
    srv->listen_fd = fd;
    const char *colon = strrchr(set->address, ':');
    snprintf(srv->bound, sizeof(srv->bound), "%.*s:%d", colon ? (int)(colon - set->address) : 0, set->address, port);
    srv->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME | (ipv6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
        on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, h, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_CONNECTION_LIMIT, set->limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, set->per_client,
        MHD_OPTION_CONNECTION_TIMEOUT, set->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_END);
    if (srv->mhd == NULL) {
        snprintf(err, errlen, "[http] %s: libmicrohttpd could not start on %s", key_of(set), set->address);
        close(fd);
        free(srv);
        return CC_EIO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (info == NULL || uv_poll_init(h->loop, &srv->poll, info->epoll_fd) != 0) {
        snprintf(err, errlen, "[http] %s: the server cannot join the event loop", key_of(set));
        MHD_stop_daemon(srv->mhd);
        free(srv);
        return CC_EIO;
    }
    uv_timer_init(h->loop, &srv->timer);
    srv->poll.data = srv;
    srv->timer.data = srv;
    srv->open_handles = 2;
    h->live++;
    uv_poll_start(&srv->poll, UV_READABLE, on_poll);
    drive(srv);
    *out = srv;
    return 0;
}

/* srv listens where address says: the address it was given, or that
 * address with the port it was given (for port 0). */
static int same_address(const server_t *srv, const char *address)
{
    return strcmp(srv->set.address, address) == 0 || strcmp(srv->bound, address) == 0;
}

static int same_settings(const server_t *srv, const settings_t *set)
{
    return srv != NULL && same_address(srv, set->address) && srv->set.serves == set->serves &&
           srv->set.limit == set->limit && srv->set.per_client == set->per_client &&
           srv->set.timeout_s == set->timeout_s;
}

/* A server for set in place of old (may be NULL): none needed (*out =
 * old), or a new one started, on a dup of old's socket when the address
 * is the same. */
static int replacement(cc_http_t *h, server_t *old, const settings_t *set, server_t **out, char *err, size_t errlen)
{
    *out = old;
    if (same_settings(old, set))
        return 0;
    int fd = -1;
    if (old != NULL && same_address(old, set->address) && (fd = dup(old->listen_fd)) < 0) {
        snprintf(err, errlen, "[http] %s: %s", key_of(set), strerror(errno));
        return CC_EIO;
    }
    return server_start(h, set, fd, out, err, errlen);
}

/* After old was replaced by now (or dropped: now NULL). */
static void retire(server_t *old, server_t *now)
{
    if (old != NULL && old != now)
        server_stop(old, now != NULL && old->listen_fd >= 0 && strcmp(old->bound, now->bound) == 0);
}

int cc_http_start(uv_loop_t *loop, const cc_config_t *config, const cc_http_routes_t *routes, cc_http_t **out,
                  char *err, size_t errlen)
{
    settings_t pub, admin;
    int has_admin;
    *out = NULL;
    cc_http_t *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return CC_ENOMEM;
    }
    h->loop = loop;
    if (routes != NULL)
        h->routes = *routes;
    h->deadline_ms = (uint64_t)(config->http_request_seconds > 0 ? config->http_request_seconds : 10) * 1000;
    h->log_window_start = uv_now(loop);
    wanted(config, &pub, &admin, &has_admin);
    int rc = server_start(h, &pub, -1, &h->pub, err, errlen);
    if (rc == 0 && has_admin && (rc = server_start(h, &admin, -1, &h->admin, err, errlen)) != 0) {
        /* The public one runs: stop it through the ordinary path. */
        h->stopping = 1;
        server_stop(h->pub, 0);
        return rc; /* h is freed when its handles have closed */
    }
    if (rc != 0) {
        free(h);
        return rc;
    }
    uv_timer_init(loop, &h->reaper);
    h->reaper.data = h;
    h->live++;
    uv_timer_start(&h->reaper, on_reap, REAP_EVERY_MS, REAP_EVERY_MS);
    *out = h;
    return 0;
}

int cc_http_reconfigure(cc_http_t *h, const cc_config_t *config, int *rebound, char *err, size_t errlen)
{
    settings_t pub, admin;
    int has_admin;
    server_t *new_pub = NULL, *new_admin = NULL;
    *rebound = 0;
    wanted(config, &pub, &admin, &has_admin);
    int rc = replacement(h, h->pub, &pub, &new_pub, err, errlen);
    if (rc == 0 && has_admin)
        rc = replacement(h, h->admin, &admin, &new_admin, err, errlen);
    if (rc != 0) {
        /* Nothing changes: stop what was started for the new settings. */
        if (new_pub != NULL && new_pub != h->pub)
            server_stop(new_pub, strcmp(new_pub->bound, h->pub->bound) == 0);
        return rc;
    }
    *rebound = new_pub != h->pub || new_admin != h->admin;
    retire(h->pub, new_pub);
    retire(h->admin, new_admin);
    h->pub = new_pub;
    h->admin = new_admin;
    h->deadline_ms = (uint64_t)(config->http_request_seconds > 0 ? config->http_request_seconds : 10) * 1000;
    return 0;
}

/* 1 if a careclockd answers GET /healthz on address within a second: on
 * either listener, whatever the route says (200, 503 or 404), every answer
 * carries "Server: careclockd". */
static int careclockd_answers(const char *address)
{
    char host[256], service[8], reply[2048];
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
            const char *end = strstr(reply, "\r\n\r\n");
            found = strncmp(reply, "HTTP/1.", 7) == 0 && end != NULL &&
                    strcasestr(reply, "\r\nServer: careclockd\r\n") != NULL &&
                    strcasestr(reply, "\r\nServer: careclockd\r\n") < end;
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
        snprintf(msg, len, "in use by a careclockd that is running (it answers as careclockd): fine for a reload; "
                           "a second instance needs its own address");
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
    return h->pub->port;
}

int cc_http_admin_port(const cc_http_t *h)
{
    if (h->admin != NULL)
        return h->admin->port;
    return h->pub->set.serves & SERVE_ADMIN ? h->pub->port : -1;
}

static int wake(server_t *srv, int64_t key)
{
    int woken = 0;
    for (conn_t *c = srv != NULL ? srv->head : NULL; c != NULL; c = c->next)
        if (c->suspended && c->key == key) {
            c->suspended = 0;
            c->resumed = 1;
            MHD_resume_connection(c->mhd);
            woken++;
        }
    /* MHD must run after a resume; from the timer, never inside a run. */
    if (woken > 0)
        uv_timer_start(&srv->timer, on_timer, 0, 0);
    return woken;
}

unsigned cc_http_wake(cc_http_t *h, int64_t key)
{
    return (unsigned)(wake(h->pub, key) + wake(h->admin, key));
}

void cc_http_stats(const cc_http_t *h, cc_http_stats_t *out)
{
    *out = h->stats;
    out->connections = (h->pub != NULL && h->pub->mhd != NULL ? connections(h->pub) : 0) +
                       (h->admin != NULL && h->admin->mhd != NULL ? connections(h->admin) : 0);
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
    h->stopping = 1;
    if (h->pub != NULL)
        server_stop(h->pub, 0);
    if (h->admin != NULL)
        server_stop(h->admin, 0);
    h->pub = h->admin = NULL;
    uv_close((uv_handle_t *)&h->reaper, on_reaper_closed);
}
