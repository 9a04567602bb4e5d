/* The feed server's insides, shared by its modules (internal: only
 * daemon/http/ includes it). http.c owns the servers, their connections
 * and the loop; answers.c the feed, health, metrics and fallback pages;
 * request.c the dashboard's requests; headers.c the parsing and printing
 * of HTTP fields; listen.c the listening sockets. See http.c's design
 * notes.
 */
#ifndef CARECLOCK_HTTP_SERVER_H
#define CARECLOCK_HTTP_SERVER_H

#include "careclock/http.h"

#include <microhttpd.h>
#include <stdint.h>
#include <sys/socket.h>

#define FEED_PREFIX "/feeds/"
#define FEED_SUFFIX ".ics"
#define CHILD_PREFIX "/children/"
#define CONNECTION_MEMORY (32 * 1024)
#define REAP_EVERY_MS 250
#define ADMIN_CONNECTIONS 16     /* the admin listener: a monitoring system or two */
#define MHD_LOG_BURST 10         /* libmicrohttpd lines logged per window ... */
#define MHD_LOG_WINDOW_MS 60000  /* ... then counted, and the count logged */

enum { SERVE_FEEDS = 1, SERVE_ADMIN = 2 };

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

#define TEXT_PLAIN "text/plain; charset=utf-8"

/* http.c */

/* A line to the routes' log at level (syslog's numbers). */
void cc__http_log(cc_http_t *h, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The tracked connection of an MHD connection; NULL when untracked (out
 * of memory when it began). */
conn_t *cc__http_conn_of(struct MHD_Connection *connection);

/* Let MHD run from srv's timer at once (after a resume: never inside a
 * run). */
void cc__http_kick(server_t *srv);

/* answers.c */

/* Queue resp with code (NULL: MHD_NO, MHD closes the connection), adding
 * the headers every answer carries and counting it; drops our reference
 * to resp. */
enum MHD_Result cc__http_queue(cc_http_t *h, struct MHD_Connection *conn, unsigned code, struct MHD_Response *resp);

/* Queue a copy of text (len bytes) as type with code. */
enum MHD_Result cc__http_send_text(cc_http_t *h, struct MHD_Connection *conn, unsigned code, const char *type,
                                   const char *text, size_t len);

/* Queue text/plain text with code. */
enum MHD_Result cc__http_send_plain(cc_http_t *h, struct MHD_Connection *conn, unsigned code, const char *text);

/* The feed of token (200, 304, 404, 500; suspended while it is being
 * prepared, until cc_http_wake). */
enum MHD_Result cc__http_serve_feed(server_t *srv, struct MHD_Connection *conn, const char *token);

/* The page at / (child NULL) or /children/<child> when no dashboard is
 * configured. */
enum MHD_Result cc__http_serve_page(cc_http_t *h, struct MHD_Connection *conn, const char *child);

/* /metrics: the routes' metrics and the server's own. */
enum MHD_Result cc__http_serve_metrics(cc_http_t *h, struct MHD_Connection *conn);

/* /healthz: 200 "ok", or 503 with the routes' reason. */
enum MHD_Result cc__http_serve_healthz(cc_http_t *h, struct MHD_Connection *conn);

/* 405 with Allow: GET, HEAD. */
enum MHD_Result cc__http_send_not_allowed(cc_http_t *h, struct MHD_Connection *conn);

/* request.c */

/* Drop one reference to req; freed with the last. */
void cc__http_request_unref(cc_http_request_t *req);

/* The web route's part of the access handler (MHD's arguments): the
 * first call makes the request, later calls gather the body, the last
 * hands it to the route or sends its answer. */
enum MHD_Result cc__http_serve_web(server_t *srv, struct MHD_Connection *conn, const char *url, const char *method,
                                   const char *upload_data, size_t *upload_data_size, void **req_cls);

/* listen.c */

/* Split "host:port" or "[v6]:port": 0 or CC_EINVAL. */
int cc__http_split_listen(const char *address, char *host, size_t hostlen, char *port, size_t portlen);

/* A listening socket bound to address into *out, its port into *port.
 * Returns 0, CC_EINVAL (address does not parse) or CC_EIO, with err set
 * and the system's reason in *sys_errno. */
int cc__http_open_listener(const char *address, int *out, int *port, int *ipv6, int *sys_errno, char *err,
                           size_t errlen);

#endif
