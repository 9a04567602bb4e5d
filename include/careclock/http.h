/* The feed server: libmicrohttpd driven by a libuv loop.
 *
 * libmicrohttpd runs in its external-loop mode with epoll: its epoll
 * descriptor is watched by a uv_poll_t, its next timeout (connection
 * timeouts) by a uv_timer_t, and MHD_run() is called on either. Everything
 * happens on the loop's thread; route callbacks run there and must not
 * block (they read an in-memory cache or the database, briefly; a feed that
 * needs rendering is answered later, see cc_http_body_t.pending).
 *
 * Two listeners ([http] listen and admin_listen; docs/feeds.md):
 *   listen        GET|HEAD /feeds/<token>.ics  200 text/calendar;
 *                 charset=utf-8, strong ETag, Last-Modified, Cache-Control:
 *                 private; gzip (Content-Encoding, its own ETag, Vary:
 *                 Accept-Encoding) when Accept-Encoding takes it; 304, with
 *                 no Content-Length, when If-None-Match matches the ETag (or,
 *                 without If-None-Match, when If-Modified-Since is not before
 *                 Last-Modified); 404 for anything the feed route does not
 *                 know, and for /healthz and /metrics
 *                 GET|HEAD /, /children/<ref>  200 a small HTML page (the
 *                 dashboard's child page, until it exists), when there is no
 *                 web route; every other path goes to the web route (the
 *                 dashboard) when there is one: GET, HEAD and POST, answered
 *                 when the route says (the connection waits, suspended,
 *                 meanwhile)
 *   admin_listen  GET|HEAD /healthz  200 "ok" or 503 "unavailable: <why>";
 *                 GET|HEAD /metrics  200 Prometheus text format 0.0.4: the
 *                 route's text, then the server's own request, connection
 *                 and closed-connection counts; 404 for feeds and pages
 * admin_listen NULL: no admin endpoints; admin_listen equal to listen: one
 * listener serves everything (the operator chose to publish them).
 * Anything else is 404; methods other than GET and HEAD get 405 with
 * Allow: GET, HEAD. HEAD answers carry the same headers as GET
 * (Content-Length included) and no body.
 *
 * Limits from the configuration ([http]): max_connections (at about 7/8 of
 * it the connection that has waited longest for its request is closed to
 * make room; at the limit the server stops accepting),
 * max_connections_per_client (connections from one address beyond it are
 * closed at once), request_timeout (a request must arrive whole within it
 * of the connection opening or of the previous response), timeout (a
 * connection silent that long is closed), and libmicrohttpd's 32 KiB
 * per-connection memory, so an oversized request line or header block is
 * refused (414 or 431) without reaching a route. Feed URLs are secrets: the
 * module never logs a URL.
 */
#ifndef CARECLOCK_HTTP_H
#define CARECLOCK_HTTP_H

#include "careclock/buf.h"
#include "careclock/config.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct cc_http cc_http_t;

/* A quoted strong ETag: '"' + 64 hex digits + '"' + NUL. */
#define CC_HTTP_ETAG_SIZE 67

/* A feed body handed to the server by the feed route. */
typedef struct {
    const char *body;     /* the calendar text */
    size_t len;
    char etag[CC_HTTP_ETAG_SIZE]; /* quoted strong ETag; "" and the server computes cc_http_etag() per request */
    time_t last_modified; /* when the body last changed (not merely re-rendered); 0 omits Last-Modified */
    /* The same body gzip-compressed, with its own ETag, served to a client
     * whose Accept-Encoding takes gzip; NULL: plain only. Owned as body. */
    const char *gz;
    size_t gz_len;
    char gz_etag[CC_HTTP_ETAG_SIZE];
    /* Not ready yet: pending set (body NULL, release NULL). The server
     * suspends the connection until cc_http_wake(wait_key), then calls the
     * feed route again for the same request. */
    int pending;
    int64_t wait_key;
    /* Set by the server before it calls the route (the rest is zeroed): 1
     * when this request was woken by cc_http_wake after a pending answer. */
    int resumed;
    /* Who owns body. release NULL: body outlives the server (static, or
     * freed only after cc_http_stop() has finished); it is sent without
     * copying. Otherwise the server sends body without copying and calls
     * release(release_arg) exactly once when it no longer needs it (after
     * the response is sent, at once for a 304, or when the connection
     * fails), on the loop's thread: a cache can hand one reference-counted
     * body to many connections, and a one-off body can pass release = free
     * with release_arg = the body. */
    void (*release)(void *release_arg);
    void *release_arg;
} cc_http_body_t;

/* A request for the web route, copied from libmicrohttpd on the loop's
 * thread when it arrived whole, so that the route may read it from any
 * thread until it answers: method, path (percent-decoded), headers, query
 * arguments, the body (POST; at most CC_HTTP_BODY_MAX bytes) and the
 * client's address. Owned by the server; valid until cc_http_respond. */
typedef struct cc_http_request cc_http_request_t;

#define CC_HTTP_BODY_MAX (64 * 1024)

const char *cc_http_request_method(const cc_http_request_t *req);
const char *cc_http_request_path(const cc_http_request_t *req);
/* A header's value (name compared without regard to case), or NULL. */
const char *cc_http_request_header(const cc_http_request_t *req, const char *name);
/* A query argument's value (percent-decoded; "" for "?a"), or NULL. */
const char *cc_http_request_query(const cc_http_request_t *req, const char *name);
/* The body as received (not NUL-terminated) and its length; *too_big is set
 * when the client sent more than CC_HTTP_BODY_MAX (the rest was dropped). */
const char *cc_http_request_body(const cc_http_request_t *req, size_t *len, int *too_big);
/* The client's address as text ("127.0.0.1", "::1"; "" when unknown) and
 * as a socket address (NULL when unknown). */
const char *cc_http_request_client(const cc_http_request_t *req);
const struct sockaddr *cc_http_request_peer(const cc_http_request_t *req);

/* A web answer. body is the route's (malloc'd, may be NULL for none) and
 * becomes the server's; headers are "Name: value" lines each ended by
 * '\n' (malloc'd or NULL), added as they are: no line may hold a CR. */
typedef struct {
    unsigned status;
    const char *content_type; /* a static string; NULL for none */
    char *body;
    size_t len;
    char *headers;
} cc_http_response_t;

/* Answer req with *resp (taken: the server frees its body and headers,
 * *resp is left zeroed), on the loop's thread, once. The request may not be
 * used afterwards. When the client has gone meanwhile, the answer is
 * dropped. May be called from inside the web callback. */
void cc_http_respond(cc_http_request_t *req, cc_http_response_t *resp);

/* The daemon's side. Each callback may be NULL (feed: every feed is 404;
 * healthz: always healthy; metrics: the server's own lines only). They are
 * called on the loop's thread and must not call cc_http_stop(). */
typedef struct {
    void *data; /* passed to every callback */
    /* Fill *out for token (the text between "/feeds/" and ".ics": any
     * length from 1 to 256, never containing '/'; check its shape). Return
     * 0 (200 or 304; a revoked token's empty calendar too), CC_ENOTFOUND
     * (404: unknown or malformed; answer both the same) or any other code
     * (500, logged; *out is then ignored and not released). */
    int (*feed)(void *data, const char *token, cc_http_body_t *out);
    /* 0 while careclockd is healthy; anything else gives 503 with why (a
     * line, "" for none: filled by the route, at most whylen bytes). */
    int (*healthz)(void *data, char *why, size_t whylen);
    /* Append Prometheus text (clocks by rule and status, deliveries by
     * state, recompute duration, last reload time) to out. Nonzero: 500. */
    int (*metrics)(void *data, cc_buf_t *out);
    /* The web route: every path but /feeds/..., /healthz and /metrics.
     * Called on the loop's thread when the request has arrived whole; it
     * answers with cc_http_respond(req, ...) now or later (the connection
     * waits). NULL: such paths are 404. */
    void (*web)(void *data, cc_http_request_t *req);
    /* A line worth logging (level as in log.h: 3 error ... 7 debug); never
     * contains a URL. NULL: silent. */
    void (*log)(void *data, int level, const char *message);
} cc_http_routes_t;

/* Counters since start. */
typedef struct {
    uint64_t requests;      /* answered */
    uint64_t status_200, status_304, status_404, status_405, status_500, status_503, status_other;
    unsigned connections;   /* open now, both listeners */
    uint64_t deadline_closed; /* closed: no whole request within request_timeout */
    uint64_t evicted;       /* closed to make room for new clients */
} cc_http_stats_t;

/* Start serving on config->listen ("ADDRESS:PORT"; "[::1]:8787" for IPv6;
 * port 0 picks a free port, see cc_http_port) and config->admin_listen,
 * with config's [http] limits. routes is copied; config is not kept. On
 * success *out is the running server, whose handles belong to loop. On
 * failure returns CC_EINVAL (an address does not parse), CC_EIO (a socket
 * could not be bound: err names the key and says why, such as "address in
 * use") or CC_ENOMEM, with *out NULL; the loop must then run until the
 * handles of a listener already started have closed. */
int cc_http_start(uv_loop_t *loop, const cc_config_t *config, const cc_http_routes_t *routes, cc_http_t **out,
                  char *err, size_t errlen);

/* Apply config's [http] listen, admin_listen and limits to a running
 * server (SIGHUP). A listener whose settings are unchanged is kept as it
 * is; one whose address or limits changed is replaced: the new socket is
 * bound first (for the same address, the listening socket is kept, so the
 * port never closes), then the old listener stops, closing its
 * connections. *rebound is 1 when a listener was replaced. On failure
 * (CC_EINVAL, CC_EIO or CC_ENOMEM, err naming the [http] key and the
 * cause) nothing has changed. Not from inside a route callback. */
int cc_http_reconfigure(cc_http_t *http, const cc_config_t *config, int *rebound, char *err, size_t errlen);

/* The TCP port the public listener listens on. */
int cc_http_port(const cc_http_t *http);

/* The port /healthz and /metrics are served on (the public one when
 * admin_listen equals listen), or -1 when admin_listen is off. */
int cc_http_admin_port(const cc_http_t *http);

/* Resume every connection suspended on key (cc_http_body_t.pending): the
 * feed route is asked again for each. Returns how many. */
unsigned cc_http_wake(cc_http_t *http, int64_t key);

/* Append value to out as a Prometheus label value: \\, \" and \n for
 * backslash, double quote and line feed. 0 or CC_ENOMEM. */
int cc_http_metric_label(cc_buf_t *out, const char *value);

/* Counters since start into *out. */
void cc_http_stats(const cc_http_t *http, cc_http_stats_t *out);

typedef void (*cc_http_stop_cb)(void *arg);

/* Stop: close the listening socket and every connection at once (bodies
 * in flight are released; web requests not yet answered are dropped: stop
 * the web route first so that none is), then close the uv handles. When the last handle
 * has closed, the server is freed and cb(arg) runs (cb may be NULL); the
 * loop must keep running until then. NULL http is fine (cb still runs, at
 * once). Not from inside a route callback. */
void cc_http_stop(cc_http_t *http, cc_http_stop_cb cb, void *arg);

/* The strong ETag of body: its SHA-256 as hex, quoted, into etag. */
void cc_http_etag(const void *body, size_t len, char etag[CC_HTTP_ETAG_SIZE]);

/* time as an HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT") into buf (30+
 * bytes). */
char *cc_http_date(time_t time, char *buf, size_t len);

/* ---- internal: the request parsing the server does on its own, exposed
 * for the unit tests and the fuzz targets (tests/fuzz/fuzz_http.c) ---- */

/* Longest token the feed route is handed. */
#define CC__HTTP_TOKEN_MAX 256

typedef enum {
    CC__HTTP_ROUTE_NOT_ALLOWED, /* a method other than GET and HEAD: 405 */
    CC__HTTP_ROUTE_HEALTHZ,
    CC__HTTP_ROUTE_METRICS,
    CC__HTTP_ROUTE_FEED,        /* /feeds/<token>.ics: token set */
    CC__HTTP_ROUTE_ROOT,        /* /: a small page */
    CC__HTTP_ROUTE_CHILD,       /* /children/<ref>: token holds the reference (the dashboard's page, later) */
    CC__HTTP_ROUTE_NOT_FOUND
} cc__http_route_t;

/* Which route a request for url (the path as libmicrohttpd decoded it)
 * with method takes. For CC__HTTP_ROUTE_FEED, token receives the text
 * between "/feeds/" and ".ics": 1 to CC__HTTP_TOKEN_MAX bytes, never
 * holding '/'; otherwise token is "". */
cc__http_route_t cc__http_route(const char *method, const char *url, char token[CC__HTTP_TOKEN_MAX + 1]);

/* 1 if an If-None-Match header value matches etag (weak comparison,
 * RFC 9110 13.1.2; "*" matches). */
int cc__http_etag_matches(const char *header, const char *etag);

/* 1 if an Accept-Encoding header value takes gzip (listed, q not 0). */
int cc__http_accepts_gzip(const char *header);

/* An IMF-fixdate to seconds since the epoch; -1 if header is not one. */
time_t cc__http_parse_date(const char *header);

/* Try binding address (ADDRESS:PORT, as [http] listen) as the feed server
 * would, and let go at once: for the pre-flight check (preflight.h's
 * cc_preflight_listen_fn). Returns 0 when it is free, or when a careclockd
 * answering /healthz holds it (said in msg: a reload is fine); otherwise
 * CC_EINVAL (not ADDRESS:PORT) or CC_EIO (in use, a privileged port, not an
 * address of this machine), with msg saying so and naming the fix. */
int cc_http_listen_probe(const char *address, char *msg, size_t len);

#endif
