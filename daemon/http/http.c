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
#include "http/server.h"

#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* What the first call of the access handler leaves in *req_cls for the
 * feed, health and metrics routes (the web route leaves its request). */
static int headers_seen;

/* ---- small helpers ---- */

void cc__http_log(cc_http_t *h, int level, const char *fmt, ...)
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
            cc__http_log(h, 4, "http: %u more libmicrohttpd messages in the last minute not logged", h->log_dropped);
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

/* ---- connections ---- */

conn_t *cc__http_conn_of(struct MHD_Connection *connection)
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
static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    server_t *srv = cls;
    conn_t *c = cc__http_conn_of(connection);
    (void)toe;
    /* A web request is over for libmicrohttpd (answered, or the client
     * went): the connection's reference goes. */
    cc_http_request_t *req = *req_cls;
    if (req != NULL && req != (void *)&headers_seen) {
        *req_cls = NULL;
        req->conn = NULL;
        cc__http_request_unref(req);
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
        return cc__http_serve_web(srv, conn, url, method, upload_data, upload_data_size, req_cls);
    /* The first call only announces the headers: answering then makes MHD
     * close the connection after the response (it cannot know the request
     * body was read), which defeats keep-alive. Answer on the second. The
     * request has arrived whole: the deadline no longer applies. */
    if (*req_cls == NULL) {
        conn_t *c = cc__http_conn_of(conn);
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
        return cc__http_serve_healthz(h, conn);
    case CC__HTTP_ROUTE_METRICS:
        return cc__http_serve_metrics(h, conn);
    case CC__HTTP_ROUTE_FEED:
        return cc__http_serve_feed(srv, conn, token);
    case CC__HTTP_ROUTE_ROOT:
        return cc__http_serve_page(h, conn, NULL);
    case CC__HTTP_ROUTE_CHILD:
        return cc__http_serve_page(h, conn, token);
    case CC__HTTP_ROUTE_NOT_ALLOWED:
        return cc__http_send_not_allowed(h, conn);
    case CC__HTTP_ROUTE_NOT_FOUND:
        break;
    }
    return cc__http_send_plain(h, conn, MHD_HTTP_NOT_FOUND, "not found\n");
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
        cc__http_log(srv->h, 3, "http: polling the server failed: %s", uv_strerror(status));
    drive(srv);
}

static void on_timer(uv_timer_t *timer)
{
    drive(timer->data);
}

void cc__http_kick(server_t *srv)
{
    uv_timer_start(&srv->timer, on_timer, 0, 0);
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
        int rc = cc__http_open_listener(set->address, &fd, &port, &ipv6, &sys_errno, why, sizeof(why));
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
        cc__http_kick(srv);
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
