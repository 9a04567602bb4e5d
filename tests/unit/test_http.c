/* Unit tests for daemon/http/http.c: the feed server, started on an ephemeral
 * port on 127.0.0.1 inside a libuv loop on its own thread, and driven by a
 * real HTTP client (libcurl) and raw sockets from the test thread. The
 * routes are stand-ins for the daemon's: they count what they hand out and
 * what the server releases, so every test also checks that each body
 * handed to the server is released exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/buf.h"
#include "careclock/config.h"
#include "careclock/error.h"
#include "careclock/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BODY "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n"
#define GOOD_TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define LAST_MODIFIED 1795946400 /* Sun, 29 Nov 2026 10:00:00 GMT */
#define LAST_MODIFIED_TEXT "Sun, 29 Nov 2026 10:00:00 GMT"

/* ---- a server on its own thread ---- */

typedef struct {
    pthread_t thread;
    uv_loop_t loop;
    uv_async_t stop, wake, reconfigure;
    cc_http_t *http;
    cc_config_t config;
    cc_config_t next;        /* reconfigure: the configuration to apply (the test thread fills it) */
    int reconf_rc, rebound, admin_port;
    atomic_int later_ready;  /* the "later" feed: 0 pending, 1 ready */
    atomic_int reconfigured;
    pthread_mutex_t lock;
    pthread_cond_t ready_cond;
    int ready, start_rc, port;
    char err[256];
    /* route bookkeeping */
    atomic_int feed_calls, handed_out, released, unhealthy, logged_url, owned_live;
    char etag[CC_HTTP_ETAG_SIZE];
} server_t;

static void on_release(void *arg)
{
    server_t *s = arg;
    atomic_fetch_add(&s->released, 1);
}

static atomic_int *g_owned_live, *g_owned_released;

static void free_body(void *arg)
{
    free(arg);
    atomic_fetch_sub(g_owned_live, 1);
    atomic_fetch_add(g_owned_released, 1);
}

static int route_feed(void *data, const char *token, cc_http_body_t *out)
{
    server_t *s = data;
    atomic_fetch_add(&s->feed_calls, 1);
    if (strcmp(token, GOOD_TOKEN) == 0) {
        out->body = BODY;
        out->len = strlen(BODY);
        snprintf(out->etag, sizeof(out->etag), "%s", s->etag);
        out->last_modified = LAST_MODIFIED;
        out->release = on_release;
        out->release_arg = s;
        atomic_fetch_add(&s->handed_out, 1);
        return 0;
    }
    if (strcmp(token, "owned") == 0) {
        /* A body the server owns: freed by the release callback. */
        char *body = strdup(BODY);
        out->body = body;
        out->len = strlen(BODY);
        out->release = free_body;
        out->release_arg = body;
        atomic_fetch_add(&s->handed_out, 1);
        atomic_fetch_add(&s->owned_live, 1);
        return 0;
    }
    if (strcmp(token, "static") == 0) {
        /* release NULL: the body outlives the server and is not copied. */
        out->body = BODY;
        out->len = strlen(BODY);
        return 0;
    }
    if (strcmp(token, "broken") == 0)
        return CC_EDB;
    if (strcmp(token, "later") == 0) {
        /* Being prepared until the test wakes key 7. */
        if (!atomic_load(&s->later_ready)) {
            out->pending = 1;
            out->wait_key = 7;
            return 0;
        }
        out->body = BODY;
        out->len = strlen(BODY);
        return 0;
    }
    return CC_ENOTFOUND;
}

static int route_healthz(void *data, char *why, size_t whylen)
{
    server_t *s = data;
    if (atomic_load(&s->unhealthy))
        snprintf(why, whylen, "the test says so");
    return atomic_load(&s->unhealthy);
}

static int route_metrics(void *data, cc_buf_t *out)
{
    (void)data;
    return cc_buf_puts(out, "# TYPE careclock_test gauge\ncareclock_test 1\n");
}

static void route_log(void *data, int level, const char *message)
{
    server_t *s = data;
    (void)level;
    if (strstr(message, "/feeds/") != NULL || strstr(message, GOOD_TOKEN) != NULL)
        atomic_fetch_add(&s->logged_url, 1);
}

static void on_stopped(void *arg)
{
    server_t *s = arg;
    s->http = NULL;
}

static void on_stop(uv_async_t *async)
{
    server_t *s = async->data;
    cc_http_stop(s->http, on_stopped, s);
    uv_close((uv_handle_t *)&s->stop, NULL);
    uv_close((uv_handle_t *)&s->wake, NULL);
    uv_close((uv_handle_t *)&s->reconfigure, NULL);
}

/* The "later" feed is ready: wake the connections waiting for it. */
static void on_wake(uv_async_t *async)
{
    server_t *s = async->data;
    atomic_store(&s->later_ready, 1);
    cc_http_wake(s->http, 7);
}

static void on_reconfigure(uv_async_t *async)
{
    server_t *s = async->data;
    s->reconf_rc = cc_http_reconfigure(s->http, &s->next, &s->rebound, s->err, sizeof(s->err));
    s->port = cc_http_port(s->http);
    s->admin_port = cc_http_admin_port(s->http);
    atomic_store(&s->reconfigured, 1);
}

static void *server_main(void *arg)
{
    server_t *s = arg;
    cc_http_routes_t routes = {.data = s,
                               .feed = route_feed,
                               .healthz = route_healthz,
                               .metrics = route_metrics,
                               .log = route_log};
    uv_loop_init(&s->loop);
    uv_async_init(&s->loop, &s->stop, on_stop);
    uv_async_init(&s->loop, &s->wake, on_wake);
    uv_async_init(&s->loop, &s->reconfigure, on_reconfigure);
    s->stop.data = s->wake.data = s->reconfigure.data = s;
    int rc = cc_http_start(&s->loop, &s->config, &routes, &s->http, s->err, sizeof(s->err));
    pthread_mutex_lock(&s->lock);
    s->start_rc = rc;
    s->port = rc == 0 ? cc_http_port(s->http) : 0;
    s->admin_port = rc == 0 ? cc_http_admin_port(s->http) : 0;
    s->ready = 1;
    pthread_cond_signal(&s->ready_cond);
    pthread_mutex_unlock(&s->lock);
    if (rc != 0) {
        uv_close((uv_handle_t *)&s->stop, NULL);
        uv_close((uv_handle_t *)&s->wake, NULL);
        uv_close((uv_handle_t *)&s->reconfigure, NULL);
    }
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    return NULL;
}

/* A server on listen, with /healthz and /metrics on admin_listen (NULL:
 * off). */
static server_t *server_start_admin(const char *listen, const char *admin_listen, int max_connections, int timeout,
                                    int request_timeout)
{
    server_t *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(cc_config_defaults(&s->config), 0);
    free(s->config.listen);
    s->config.listen = strdup(listen);
    free(s->config.admin_listen);
    s->config.admin_listen = admin_listen ? strdup(admin_listen) : NULL;
    s->config.http_max_connections = max_connections;
    s->config.http_timeout_seconds = timeout;
    s->config.http_request_seconds = request_timeout;
    cc_http_etag(BODY, strlen(BODY), s->etag);
    g_owned_live = &s->owned_live;
    g_owned_released = &s->released;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->ready_cond, NULL);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
    pthread_mutex_lock(&s->lock);
    while (!s->ready)
        pthread_cond_wait(&s->ready_cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    return s;
}

/* A server on listen, /healthz and /metrics on a second loopback port. */
static server_t *server_start(const char *listen, int max_connections, int timeout)
{
    return server_start_admin(listen, "127.0.0.1:0", max_connections, timeout, 10);
}

/* Stop the server, join its thread, check the release balance. */
static void server_stop(server_t *s)
{
    if (s->start_rc == 0)
        uv_async_send(&s->stop);
    pthread_join(s->thread, NULL);
    assert_null(s->http);
    assert_int_equal(atomic_load(&s->released), atomic_load(&s->handed_out));
    assert_int_equal(atomic_load(&s->owned_live), 0);
    assert_int_equal(atomic_load(&s->logged_url), 0);
    cc_config_free(&s->config);
    if (s->next.listen != NULL)
        cc_config_free(&s->next);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->ready_cond);
    free(s);
}

static int setup(void **state)
{
    server_t *s = server_start("127.0.0.1:0", 16, 2);
    if (s->start_rc != 0) {
        print_message("server did not start: %s\n", s->err);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    server_stop(*state);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- a client ---- */

typedef struct {
    long code;
    CURLcode curl;
    cc_buf_t headers, body;
} resp_t;

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    cc_buf_append(arg, data, size * n);
    return size * n;
}

/* method "HEAD" uses NOBODY; extra is a NULL-terminated list of headers. */
static void request_full(const server_t *s, const char *method, const char *path, const char *const *extra,
                         long timeout, resp_t *r)
{
    char url[70000];
    struct curl_slist *headers = NULL;
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    memset(r, 0, sizeof(*r));
    cc_buf_init(&r->headers);
    cc_buf_init(&r->body);
    /* /healthz and /metrics live on the admin listener. */
    int admin = strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", admin ? s->admin_port : s->port, path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r->headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "POST") == 0)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "x=1");
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    for (const char *const *h = extra; h != NULL && *h != NULL; h++)
        headers = curl_slist_append(headers, *h);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    r->curl = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
}

static void request(const server_t *s, const char *method, const char *path, const char *const *extra, resp_t *r)
{
    request_full(s, method, path, extra, 10L, r);
}

static void request_timeout(const server_t *s, const char *path, long timeout, resp_t *r)
{
    request_full(s, "GET", path, NULL, timeout, r);
}

static void resp_free(resp_t *r)
{
    cc_buf_free(&r->headers);
    cc_buf_free(&r->body);
}

/* The value of header name (case-insensitive), or NULL; in a static buffer. */
static const char *header(const resp_t *r, const char *name)
{
    static char value[512];
    size_t n = strlen(name);
    for (const char *line = cc_buf_str(&r->headers); *line;) {
        const char *end = strstr(line, "\r\n");
        if (end == NULL)
            break;
        if ((size_t)(end - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof(value), "%.*s", (int)(end - v), v);
            return value;
        }
        line = end + 2;
    }
    return NULL;
}

static void assert_header(const resp_t *r, const char *name, const char *want)
{
    const char *got = header(r, name);
    if (got == NULL)
        fail_msg("no %s header in:\n%s", name, cc_buf_str(&r->headers));
    assert_string_equal(got, want);
}

#define FEED "/feeds/" GOOD_TOKEN ".ics"
#define HEADERS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- tests ---- */

static void test_feed_200(void **state)
{
    server_t *s = *state;
    resp_t r;
    request(s, "GET", FEED, NULL, &r);
    assert_int_equal(r.curl, CURLE_OK);
    assert_int_equal(r.code, 200);
    assert_string_equal(cc_buf_str(&r.body), BODY);
    assert_header(&r, "Content-Type", "text/calendar; charset=utf-8");
    assert_header(&r, "ETag", s->etag);
    assert_header(&r, "Last-Modified", LAST_MODIFIED_TEXT);
    assert_header(&r, "Cache-Control", "private");
    assert_header(&r, "X-Content-Type-Options", "nosniff");
    assert_int_equal(strlen(s->etag), 66);
    resp_free(&r);
}

static void test_feed_304(void **state)
{
    server_t *s = *state;
    char inm[128], list[160], weak[128];
    resp_t r;
    snprintf(inm, sizeof(inm), "If-None-Match: %s", s->etag);
    snprintf(list, sizeof(list), "If-None-Match: \"nope\", W/%s", s->etag);
    snprintf(weak, sizeof(weak), "If-None-Match: W/%s", s->etag);
    const char *const *matching[] = {HEADERS(inm), HEADERS(list), HEADERS(weak), HEADERS("If-None-Match: *"),
                                     HEADERS("If-Modified-Since: " LAST_MODIFIED_TEXT),
                                     HEADERS("If-Modified-Since: Mon, 30 Nov 2026 10:00:00 GMT")};
    for (size_t i = 0; i < sizeof(matching) / sizeof(matching[0]); i++) {
        request(s, "GET", FEED, matching[i], &r);
        if (r.code != 304)
            fail_msg("%s: %ld", matching[i][0], r.code);
        assert_int_equal(r.body.len, 0);
        assert_header(&r, "ETag", s->etag);
        assert_header(&r, "Cache-Control", "private");
        assert_null(header(&r, "Content-Type"));
        /* issue 18: libmicrohttpd wrote "Content-Length: 0" on every 304 */
        assert_null(header(&r, "Content-Length"));
        assert_null(header(&r, "Transfer-Encoding"));
        resp_free(&r);
    }
    const char *const *changed[] = {
        HEADERS("If-None-Match: \"0000\""),
        HEADERS("If-Modified-Since: Sun, 29 Nov 2026 09:59:59 GMT"),
        HEADERS("If-Modified-Since: yesterday"),
        /* If-None-Match wins over If-Modified-Since */
        HEADERS("If-None-Match: \"0000\"", "If-Modified-Since: " LAST_MODIFIED_TEXT),
    };
    for (size_t i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
        request(s, "GET", FEED, changed[i], &r);
        if (r.code != 200)
            fail_msg("%s: %ld", changed[i][0], r.code);
        assert_string_equal(cc_buf_str(&r.body), BODY);
        resp_free(&r);
    }
}

static void test_head_same_headers_no_body(void **state)
{
    server_t *s = *state;
    resp_t get, head;
    char length[32];
    request(s, "GET", FEED, NULL, &get);
    request(s, "HEAD", FEED, NULL, &head);
    assert_int_equal(head.curl, CURLE_OK);
    assert_int_equal(head.code, 200);
    assert_int_equal(head.body.len, 0);
    snprintf(length, sizeof(length), "%zu", strlen(BODY));
    assert_header(&head, "Content-Length", length);
    assert_header(&get, "Content-Length", length);
    static const char *const same[] = {"Content-Type", "ETag", "Last-Modified", "Cache-Control"};
    for (size_t i = 0; i < 4; i++) {
        char want[512];
        snprintf(want, sizeof(want), "%s", header(&get, same[i]));
        assert_header(&head, same[i], want);
    }
    resp_free(&get);
    resp_free(&head);
    request(s, "HEAD", "/healthz", NULL, &head);
    assert_int_equal(head.code, 200);
    assert_int_equal(head.body.len, 0);
    resp_free(&head);
}

static void test_etag_computed_and_ownership(void **state)
{
    server_t *s = *state;
    const char *paths[] = {"/feeds/owned.ics", "/feeds/static.ics"};
    for (size_t i = 0; i < 2; i++) {
        resp_t r;
        request(s, "GET", paths[i], NULL, &r);
        assert_int_equal(r.code, 200);
        assert_string_equal(cc_buf_str(&r.body), BODY);
        assert_header(&r, "ETag", s->etag);
        assert_null(header(&r, "Last-Modified"));
        resp_free(&r);
        char inm[128];
        snprintf(inm, sizeof(inm), "If-None-Match: %s", s->etag);
        request(s, "GET", paths[i], HEADERS(inm), &r);
        assert_int_equal(r.code, 304);
        resp_free(&r);
        request(s, "HEAD", paths[i], NULL, &r);
        assert_int_equal(r.code, 200);
        resp_free(&r);
    }
}

static void test_not_found(void **state)
{
    server_t *s = *state;
    char longtoken[400];
    memset(longtoken, 'a', sizeof(longtoken));
    memcpy(longtoken, "/feeds/", 7);
    snprintf(longtoken + 300, sizeof(longtoken) - 300, ".ics");
    const char *paths[] = {"/feeds/unknown.ics",
                           "/feeds/" GOOD_TOKEN,
                           "/feeds/.ics",
                           "/feeds/a/" GOOD_TOKEN ".ics",
                           "/feeds/" GOOD_TOKEN ".ics.txt",
                           "/FEEDS/" GOOD_TOKEN ".ics",
                           "/children/",
                           "/healthz/",
                           "/feeds/%2e%2e%2f.ics",
                           longtoken};
    int calls = atomic_load(&s->feed_calls);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        resp_t r;
        request(s, "GET", paths[i], NULL, &r);
        if (r.code != 404)
            fail_msg("%s: %ld", paths[i], r.code);
        assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
        resp_free(&r);
    }
    /* only the well-shaped paths reached the route */
    assert_int_equal(atomic_load(&s->feed_calls) - calls, 1);
}

static void test_method_not_allowed(void **state)
{
    server_t *s = *state;
    const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        resp_t r;
        request(s, methods[i], FEED, NULL, &r);
        if (r.code != 405)
            fail_msg("%s: %ld", methods[i], r.code);
        assert_header(&r, "Allow", "GET, HEAD");
        resp_free(&r);
    }
}

static void test_healthz_metrics_errors(void **state)
{
    server_t *s = *state;
    resp_t r;
    request(s, "GET", "/healthz", NULL, &r);
    assert_int_equal(r.code, 200);
    assert_string_equal(cc_buf_str(&r.body), "ok\n");
    resp_free(&r);
    atomic_store(&s->unhealthy, 1);
    request(s, "GET", "/healthz", NULL, &r);
    assert_int_equal(r.code, 503);
    resp_free(&r);
    atomic_store(&s->unhealthy, 0);

    request(s, "GET", "/feeds/broken.ics", NULL, &r);
    assert_int_equal(r.code, 500);
    resp_free(&r);

    request(s, "GET", "/metrics", NULL, &r);
    assert_int_equal(r.code, 200);
    assert_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    const char *text = cc_buf_str(&r.body);
    assert_non_null(strstr(text, "careclock_test 1\n"));
    assert_non_null(strstr(text, "careclock_http_requests_total{code=\"200\"} 1\n"));
    assert_non_null(strstr(text, "careclock_http_requests_total{code=\"503\"} 1\n"));
    assert_non_null(strstr(text, "careclock_http_requests_total{code=\"500\"} 1\n"));
    assert_non_null(strstr(text, "careclock_http_connections 1\n"));
    assert_non_null(strstr(text, "careclock_http_closed_total{reason=\"deadline\"} 0\n"));
    resp_free(&r);
    atomic_store(&s->unhealthy, 1);
    request(s, "GET", "/healthz", NULL, &r);
    assert_string_equal(cc_buf_str(&r.body), "unavailable: the test says so\n");
    resp_free(&r);
    atomic_store(&s->unhealthy, 0);
}

static void test_oversized_request_refused(void **state)
{
    server_t *s = *state;
    char *path = malloc(65536);
    assert_non_null(path);
    memset(path, 'a', 65535);
    memcpy(path, "/feeds/", 7);
    memcpy(path + 65535 - 4, ".ics", 5);
    int calls = atomic_load(&s->feed_calls);
    resp_t r;
    request(s, "GET", path, NULL, &r);
    /* refused before routing: 414 or 431, or the connection closed */
    if (r.curl == CURLE_OK)
        assert_true(r.code == 414 || r.code == 431 || r.code == 400);
    assert_int_equal(atomic_load(&s->feed_calls), calls);
    resp_free(&r);
    free(path);
    /* the server still answers */
    request(s, "GET", FEED, NULL, &r);
    assert_int_equal(r.code, 200);
    resp_free(&r);
}

static int connect_raw(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* 1 if the server closed fd within seconds. */
static int closed_within(int fd, double seconds)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[512];
    double end = now_s() + seconds;
    while (now_s() < end) {
        if (poll(&p, 1, 50) > 0) {
            ssize_t n = recv(fd, buf, sizeof(buf), 0);
            if (n <= 0)
                return 1;
        }
    }
    return 0;
}

/* A slow client holding half a request neither blocks others nor stays
 * forever: it is closed after the configured timeout (2 s here). */
static void test_slow_client_timeout(void **state)
{
    server_t *s = *state;
    int fd = connect_raw(s->port);
    const char *half = "GET " FEED " HTTP/1.1\r\nHost: x\r\n";
    assert_int_equal(send(fd, half, strlen(half), 0), (ssize_t)strlen(half));
    double start = now_s();
    resp_t r;
    request(s, "GET", FEED, NULL, &r);
    assert_int_equal(r.code, 200);
    resp_free(&r);
    assert_true(closed_within(fd, 6.0));
    double took = now_s() - start;
    assert_true(took >= 1.5);
    close(fd);
}

/* Connections beyond max_connections wait in the kernel's accept queue
 * and are served as soon as one closes. */
static void test_connection_limit(void **state)
{
    (void)state;
    server_t *s = server_start("127.0.0.1:0", 2, 30);
    assert_int_equal(s->start_rc, 0);
    int a = connect_raw(s->port), b = connect_raw(s->port);
    usleep(100 * 1000);
    resp_t r;
    request_timeout(s, FEED, 1, &r);
    assert_int_equal(r.curl, CURLE_OPERATION_TIMEDOUT);
    resp_free(&r);
    close(a);
    double start = now_s();
    request_timeout(s, FEED, 5, &r);
    assert_int_equal(r.curl, CURLE_OK);
    assert_int_equal(r.code, 200);
    assert_true(now_s() - start < 1.0);
    resp_free(&r);
    close(b);
    server_stop(s);
}

/* Stopping with connections open (one mid-request, one idle after a
 * response) closes them and releases every body. */
static void test_stop_with_open_connections(void **state)
{
    (void)state;
    server_t *s = server_start("127.0.0.1:0", 8, 30);
    assert_int_equal(s->start_rc, 0);
    int idle = connect_raw(s->port), half = connect_raw(s->port);
    const char *req = "GET " FEED " HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(idle, req, strlen(req), 0), (ssize_t)strlen(req));
    assert_int_equal(send(half, "GET / HTTP/1.1\r\n", 16, 0), 16);
    char buf[4096];
    assert_true(recv(idle, buf, sizeof(buf), 0) > 0);
    server_stop(s); /* checks released == handed out */
    assert_true(closed_within(idle, 2.0));
    assert_true(closed_within(half, 2.0));
    close(idle);
    close(half);
}

/* /healthz and /metrics only on the admin listener, feeds only on the
 * public one (issue 19, item 4): a proxy that publishes the feeds does not
 * publish the counts. */
static void test_admin_endpoints_apart(void **state)
{
    server_t *s = *state;
    char path[64];
    resp_t r;
    assert_true(s->admin_port > 0 && s->admin_port != s->port);
    const char *const admin_only[] = {"/healthz", "/metrics"};
    for (size_t i = 0; i < 2; i++) {
        /* On the public port: 404, as for any unknown path. */
        snprintf(path, sizeof(path), "%s?", admin_only[i]);
        int fd = -1;
        char req[128], buf[512];
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", admin_only[i]);
        assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_WAITALL);
        assert_true(n > 12);
        buf[n] = '\0';
        assert_memory_equal(buf + 9, "404", 3);
        close(fd);
        request(s, "GET", admin_only[i], NULL, &r); /* on the admin port */
        assert_int_equal(r.code, 200);
        resp_free(&r);
    }
    /* A feed on the admin port: 404. */
    server_t admin_as_public = *s;
    admin_as_public.port = s->admin_port;
    request(&admin_as_public, "GET", FEED, NULL, &r);
    assert_int_equal(r.code, 404);
    resp_free(&r);
}

/* admin_listen off: no /healthz anywhere; equal to a fixed listen: one
 * listener serves everything (the operator's explicit choice). */
static void test_admin_off_and_shared(void **state)
{
    (void)state;
    server_t *s = server_start_admin("127.0.0.1:0", NULL, 8, 5, 10);
    assert_int_equal(s->start_rc, 0);
    assert_int_equal(s->admin_port, -1);
    server_stop(s);
    /* A fixed port, free now: take one from the kernel, let it go. */
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(probe, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(probe, (struct sockaddr *)&sa, &sl), 0);
    char listen_at[32];
    snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%d", ntohs(sa.sin_port));
    close(probe);
    s = server_start_admin(listen_at, listen_at, 8, 5, 10);
    assert_int_equal(s->start_rc, 0);
    assert_int_equal(s->admin_port, s->port);
    resp_t r;
    request(s, "GET", "/healthz", NULL, &r);
    assert_int_equal(r.code, 200);
    resp_free(&r);
    request(s, "GET", FEED, NULL, &r);
    assert_int_equal(r.code, 200);
    resp_free(&r);
    server_stop(s);
}

/* Label values are escaped as the text exposition format says. */
static void test_metric_label_escaped(void **state)
{
    (void)state;
    cc_buf_t b;
    cc_buf_init(&b);
    assert_int_equal(cc_http_metric_label(&b, "care\"plan\\x\n} 1\nforged 2"), 0);
    assert_string_equal(cc_buf_str(&b), "care\\\"plan\\\\x\\n} 1\\nforged 2");
    assert_null(strchr(cc_buf_str(&b), '\n'));
    cc_buf_free(&b);
}

/* A request that never arrives whole is closed after request_timeout even
 * though it is never idle for timeout (issue 19, item 1): a byte every
 * 0.3 s, timeout 30 s, request_timeout 2 s. */
static void test_request_deadline(void **state)
{
    (void)state;
    server_t *s = server_start_admin("127.0.0.1:0", "127.0.0.1:0", 8, 30, 2);
    assert_int_equal(s->start_rc, 0);
    int fd = connect_raw(s->port);
    const char *req = "GET " FEED " HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    double start = now_s(), closed_after = -1;
    char buf[64];
    for (size_t i = 0; i < strlen(req) && closed_after < 0; i++) {
        if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1) {
            closed_after = now_s() - start;
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 300) > 0 && recv(fd, buf, sizeof(buf), 0) <= 0)
            closed_after = now_s() - start;
    }
    assert_true(closed_after >= 1.5 && closed_after < 5.0);
    close(fd);
    resp_t r;
    request(s, "GET", "/metrics", NULL, &r);
    assert_non_null(strstr(cc_buf_str(&r.body), "careclock_http_closed_total{reason=\"deadline\"} 1\n"));
    resp_free(&r);
    server_stop(s);
}

/* Beyond 7/8 of max_connections, a new connection closes the one that has
 * waited longest for its request: 16 allowed, 14 before making room. */
static void test_make_room(void **state)
{
    (void)state;
    server_t *s = server_start_admin("127.0.0.1:0", "127.0.0.1:0", 16, 30, 30);
    assert_int_equal(s->start_rc, 0);
    int fds[20];
    for (int i = 0; i < 20; i++) {
        fds[i] = connect_raw(s->port);
        usleep(20 * 1000);
    }
    /* The six oldest were closed to make room, the newest are open. */
    for (int i = 0; i < 6; i++)
        assert_true(closed_within(fds[i], 2.0));
    double start = now_s();
    resp_t r;
    request_timeout(s, FEED, 5, &r);
    assert_int_equal(r.code, 200);
    assert_true(now_s() - start < 1.0);
    resp_free(&r);
    assert_false(closed_within(fds[19], 0.3));
    for (int i = 0; i < 20; i++)
        close(fds[i]);
    server_stop(s);
}

typedef struct {
    const server_t *s;
    resp_t r;
} later_t;

static void *fetch_later(void *arg)
{
    later_t *l = arg;
    request(l->s, "GET", "/feeds/later.ics", NULL, &l->r);
    return NULL;
}

/* A feed being prepared: the connection waits (suspended) while the server
 * goes on answering others, and is answered when woken (issue 19, item 8). */
static void test_pending_feed_waits_for_wake(void **state)
{
    server_t *s = *state;
    later_t l = {.s = s};
    pthread_t t;
    int calls = atomic_load(&s->feed_calls);
    assert_int_equal(pthread_create(&t, NULL, fetch_later, &l), 0);
    while (atomic_load(&s->feed_calls) == calls)
        usleep(1000);
    usleep(100 * 1000);
    resp_t r;
    double start = now_s();
    request(s, "GET", "/healthz", NULL, &r); /* meanwhile: at once */
    assert_int_equal(r.code, 200);
    resp_free(&r);
    request(s, "GET", FEED, NULL, &r);
    assert_int_equal(r.code, 200);
    resp_free(&r);
    assert_true(now_s() - start < 1.0);
    uv_async_send(&s->wake);
    pthread_join(t, NULL);
    assert_int_equal(l.r.code, 200);
    assert_string_equal(cc_buf_str(&l.r.body), BODY);
    resp_free(&l.r);
}

static void reconfigure(server_t *s, const char *listen, int max_connections)
{
    if (s->next.listen != NULL)
        cc_config_free(&s->next);
    assert_int_equal(cc_config_defaults(&s->next), 0);
    free(s->next.listen);
    s->next.listen = strdup(listen);
    free(s->next.admin_listen);
    s->next.admin_listen = strdup("127.0.0.1:0");
    s->next.http_max_connections = max_connections;
    s->next.http_timeout_seconds = 5;
    atomic_store(&s->reconfigured, 0);
    uv_async_send(&s->reconfigure);
    while (!atomic_load(&s->reconfigured))
        usleep(1000);
}

/* SIGHUP's [http] (issue 19, item 7): new limits on the same address keep
 * the port; a new address is listened on and the old one closed; an
 * address that cannot be bound changes nothing. */
static void test_reconfigure_rebinds(void **state)
{
    (void)state;
    server_t *s = server_start_admin("127.0.0.1:0", "127.0.0.1:0", 8, 5, 10);
    assert_int_equal(s->start_rc, 0);
    int first = s->port;
    char same[32];
    snprintf(same, sizeof(same), "127.0.0.1:%d", first);
    resp_t r;
    reconfigure(s, same, 8);
    assert_int_equal(s->reconf_rc, 0);
    reconfigure(s, same, 32); /* a limit changed: a new server on the same socket */
    assert_int_equal(s->reconf_rc, 0);
    assert_int_equal(s->rebound, 1);
    assert_int_equal(s->port, first);
    request(s, "GET", FEED, NULL, &r);
    assert_int_equal(r.code, 200);
    resp_free(&r);

    reconfigure(s, "127.0.0.1:0", 32); /* a new address */
    assert_int_equal(s->reconf_rc, 0);
    assert_int_equal(s->rebound, 1);
    assert_int_not_equal(s->port, first);
    request(s, "GET", FEED, NULL, &r);
    assert_int_equal(r.code, 200);
    resp_free(&r);
    server_t old = *s;
    old.port = first;
    request_full(&old, "GET", FEED, NULL, 2L, &r);
    assert_int_equal(r.curl, CURLE_COULDNT_CONNECT);
    resp_free(&r);

    /* An address another socket holds: refused, nothing changes. */
    int holder = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(holder, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(holder, 1), 0);
    assert_int_equal(getsockname(holder, (struct sockaddr *)&sa, &sl), 0);
    char taken[32];
    snprintf(taken, sizeof(taken), "127.0.0.1:%d", ntohs(sa.sin_port));
    int now_port = s->port;
    reconfigure(s, taken, 32);
    assert_int_equal(s->reconf_rc, CC_EIO);
    assert_non_null(strstr(s->err, "[http] listen"));
    assert_int_equal(s->port, now_port);
    request(s, "GET", FEED, NULL, &r);
    assert_int_equal(r.code, 200);
    resp_free(&r);
    close(holder);
    server_stop(s);
}

static void test_bad_listen(void **state)
{
    (void)state;
    server_t *s = server_start("nonsense", 4, 5);
    assert_int_equal(s->start_rc, CC_EINVAL);
    assert_non_null(strstr(s->err, "nonsense"));
    server_stop(s);

    server_t *first = server_start("127.0.0.1:0", 4, 5);
    assert_int_equal(first->start_rc, 0);
    char taken[32];
    snprintf(taken, sizeof(taken), "127.0.0.1:%d", first->port);
    s = server_start(taken, 4, 5);
    assert_int_equal(s->start_rc, CC_EIO);
    assert_non_null(strstr(s->err, "in use"));
    server_stop(s);
    server_stop(first);
}

static void test_http_date_and_etag(void **state)
{
    (void)state;
    char buf[40], etag[CC_HTTP_ETAG_SIZE];
    assert_string_equal(cc_http_date(784111777, buf, sizeof(buf)), "Sun, 06 Nov 1994 08:49:37 GMT");
    cc_http_etag("", 0, etag);
    assert_string_equal(etag, "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"");
}

/* Found by tests/fuzz/fuzz_http.c: an If-Modified-Since whose minutes
 * overflowed %d wrapped negative, passed the range checks and gave a time
 * in the year 816. Dates out of shape or range are now not dates. */
static void test_if_modified_since_parsing(void **state)
{
    (void)state;
    assert_int_equal(cc__http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    assert_int_equal(cc__http_parse_date("t,1Dec2199 2:999999999999:6GMT"), -1);
    assert_int_equal(cc__http_parse_date("Sun, 06 Nov 1994 08:-1:37 GMT"), -1);
    assert_int_equal(cc__http_parse_date("Sun, 06 Nov 1994 24:00:00 GMT"), -1);
    assert_int_equal(cc__http_parse_date("Sun, 06 Foo 1994 08:49:37 GMT"), -1);
    assert_int_equal(cc__http_parse_date("Sun, 06 Nov 1994 08:49:37 UTC"), -1);
    char token[CC__HTTP_TOKEN_MAX + 1];
    assert_int_equal(cc__http_route("GET", "/feeds/abc.ics", token), CC__HTTP_ROUTE_FEED);
    assert_string_equal(token, "abc");
    assert_int_equal(cc__http_route("GET", "/feeds/a/b.ics", token), CC__HTTP_ROUTE_NOT_FOUND);
    assert_int_equal(cc__http_route("POST", "/healthz", token), CC__HTTP_ROUTE_NOT_ALLOWED);
    assert_true(cc__http_etag_matches("W/\"x\", \"y\"", "\"y\""));
    assert_false(cc__http_etag_matches("\"x", "\"x\""));
    /* the pages a person opens: the root and a child's (issue 18) */
    assert_int_equal(cc__http_route("GET", "/", token), CC__HTTP_ROUTE_ROOT);
    assert_int_equal(cc__http_route("GET", "/children/C1", token), CC__HTTP_ROUTE_CHILD);
    assert_string_equal(token, "C1");
    assert_int_equal(cc__http_route("GET", "/children/a/b", token), CC__HTTP_ROUTE_NOT_FOUND);
    assert_int_equal(cc__http_route("GET", "/children/", token), CC__HTTP_ROUTE_NOT_FOUND);
    /* Accept-Encoding (RFC 9110 12.5.3) */
    assert_true(cc__http_accepts_gzip("gzip"));
    assert_true(cc__http_accepts_gzip("deflate, gzip;q=0.5, br"));
    assert_true(cc__http_accepts_gzip("x-gzip"));
    assert_false(cc__http_accepts_gzip("gzip;q=0"));
    assert_false(cc__http_accepts_gzip("gzip; q=0.0, identity"));
    assert_false(cc__http_accepts_gzip("identity, *"));
    assert_false(cc__http_accepts_gzip("gzipped"));
    assert_false(cc__http_accepts_gzip(""));
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_feed_200, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feed_304, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_same_headers_no_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_etag_computed_and_ownership, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_healthz_metrics_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_request_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_client_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_endpoints_apart, setup, teardown),
        cmocka_unit_test(test_admin_off_and_shared),
        cmocka_unit_test(test_metric_label_escaped),
        cmocka_unit_test(test_request_deadline),
        cmocka_unit_test(test_make_room),
        cmocka_unit_test_setup_teardown(test_pending_feed_waits_for_wake, setup, teardown),
        cmocka_unit_test(test_reconfigure_rebinds),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_stop_with_open_connections),
        cmocka_unit_test(test_bad_listen),
        cmocka_unit_test(test_http_date_and_etag),
        cmocka_unit_test(test_if_modified_since_parsing),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
