/* The dashboard on careclockd's loop. See include/careclock/web.h.
 *
 * Design notes:
 *  - The loop never reads the database for a page: it routes, hands the
 *    request to libuv's thread pool with a connection from a small pool
 *    (POOL; one on a machine of two CPUs or fewer, so that one CPU is left
 *    for the loop), and answers when the work is done (after_page). Requests find
 *    the connections busy queue in order. The figures are built by their
 *    own job on their own connection, so a long build never takes a
 *    request's connection.
 *  - What a job reads that the loop may replace (the environment after a
 *    reload, the figures after a build) is reference counted, and the
 *    counts are touched only on the loop: a job takes its references when
 *    it is queued and gives them back in its after-work callback.
 *  - The figures are built again after cc_web_invalidate, but no sooner
 *    than BUILD_SHARE times the last build's duration after its end (and
 *    no sooner than BUILD_COALESCE_MS after the change, so a burst of
 *    writes is one build): a council of 2,000 children rebuilds within a
 *    second of a change, one of 100,000 spends at most a tenth of a core.
 *    Pages say when a build is owed ("being updated").
 *  - Requests for the figures' pages before the first build has finished
 *    wait for it (held), rather than show empty figures.
 *  - Static files (the GOV.UK Frontend styles, careclock.css, the licence,
 *    the images, and the fonts only where [web] transport_font says so)
 *    are read once at start (and at a reload) into memory and answered on
 *    the loop. Without transport_font the stylesheet goes out without its
 *    GDS Transport @font-face rules (strip_transport_font).
 *  - Sign-in mail: a job renders it; the loop hands it to a sender of the
 *    module's own (careclock's mail channel: [smtp], or the file channel).
 */
#include "careclock/web.h"
#include "careclock/error.h"
#include "careclock/log.h"
#include "careclock/paths.h"
#include "careclock/sender.h"
#include "careclock/sessions.h"
#include "careclock/time.h"
#include "http/web_internal.h"
#include "util/readfile.h"

#include <dirent.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOL 2 /* connections for page jobs at most; fewer on a machine of two CPUs or fewer */
#define BUILD_SHARE 10
#define BUILD_COALESCE_MS 200
#define MAX_ASSET (4 * 1024 * 1024)
#define PRUNE_DAYS 30

typedef struct {
    int refs;
    cc__webcache_t *cache;
    uint64_t generation; /* of the data it was built from */
} figures_t;

typedef struct {
    char *path;          /* "/assets/..." */
    char *body;
    size_t len;
    const char *type;
    char etag[CC_HTTP_ETAG_SIZE];
} asset_t;

enum { JOB_PAGE, JOB_BUILD };

typedef struct job job_t;
struct job {
    cc_web_t *web;
    uv_work_t work;
    int kind;
    int conn;            /* the pool slot (pages) */
    cc__web_snap_t *snap;
    figures_t *figures;
    cc__web_ctx_t ctx;
    /* a build */
    cc__webcache_t *built;
    uint64_t generation;
    uint64_t started_ms;
    time_t prune_before;  /* also delete sign-in links and sessions ended before this (0: not now) */
    job_t *next;
};

typedef struct {
    cc_send_job_t job;
    cc_web_t *web;
    char *rcpt, *body, *file_name;
} mail_t;

struct cc_web {
    uv_loop_t *loop;
    char *db_path, *config_path, *listen;
    time_t offset;
    cc__web_snap_t *snap;
    unsigned char key[32];
    cc_store_t *pool[POOL];
    int busy[POOL];
    int npool;                      /* page jobs at once: one CPU is always left for the loop */
    job_t *queue_head, *queue_tail; /* waiting for a connection */
    job_t *held_head, *held_tail;   /* waiting for the first figures */
    size_t in_flight;               /* jobs queued to the pool, mail being sent */
    /* the figures */
    figures_t *figures;
    cc_store_t *build_store;
    int building, build_owed;
    uint64_t generation;            /* raised by every invalidation */
    uint64_t last_build_ms, last_build_end;
    uv_timer_t build_timer;
    int timer_open;
    cc_date_t today;
    cc_date_t pruned_on;            /* the day sessions were last pruned */
    /* static files */
    asset_t *assets;
    size_t nassets;
    int assets_ok;
    /* sign-in mail */
    cc_sender_t *sender;
    int closing;
    void (*closed)(void *);
    void *closed_arg;
    cc_web_stats_t stats;
};

static time_t web_now(const cc_web_t *w)
{
    return time(NULL) + w->offset;
}

/* ---- reference counts (the loop's) --------------------------------------- */

static void snap_unref(cc__web_snap_t *s)
{
    if (s == NULL || --s->refs > 0)
        return;
    cc_env_free(&s->env);
    free(s->listen);
    free(s);
}

static void figures_unref(figures_t *f)
{
    if (f == NULL || --f->refs > 0)
        return;
    cc__webcache_free(f->cache);
    free(f);
}

static int snap_new(cc_web_t *w, cc__web_snap_t **out, char *err, size_t errlen)
{
    cc__web_snap_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return CC_ENOMEM;
    int rc = cc_env_load(&s->env, w->config_path, err, errlen);
    if (rc != 0) {
        free(s);
        return rc;
    }
    s->refs = 1;
    if (w->listen != NULL && (s->listen = strdup(w->listen)) == NULL) {
        cc_env_free(&s->env);
        free(s);
        return CC_ENOMEM;
    }
    *out = s;
    return 0;
}

/* ---- static files -------------------------------------------------------- */

/* careclock is not a GOV.UK service, so by default it does not use the GDS
 * Transport font, which is for GOV.UK only (docs/dashboard.md): the
 * stylesheet is served without its @font-face rules for it, so browsers
 * never ask for the font files and use the next family GOV.UK names
 * (Arial, else the system's sans-serif). Returns the new length. */
static size_t strip_transport_font(char *css, size_t len)
{
    static const char rule[] = "@font-face{";
    char *out = css, *p = css, *end = css + len;
    while (p < end) {
        char *at = strstr(p, rule);
        if (at == NULL) {
            memmove(out, p, (size_t)(end - p));
            out += end - p;
            break;
        }
        char *close = strchr(at, '}');
        if (close == NULL) {
            memmove(out, p, (size_t)(end - p));
            out += end - p;
            break;
        }
        size_t keep = (size_t)(at - p);
        memmove(out, p, keep);
        out += keep;
        /* The rule is dropped only when it declares GDS Transport. */
        if (memmem(at, (size_t)(close - at), "GDS Transport", 13) == NULL) {
            memmove(out, at, (size_t)(close + 1 - at));
            out += close + 1 - at;
        }
        p = close + 1;
    }
    *out = '\0';
    return (size_t)(out - css);
}

static const char *type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".css", "text/css; charset=utf-8"}, {".woff2", "font/woff2"}, {".woff", "font/woff"},
                 {".svg", "image/svg+xml"},           {".png", "image/png"},   {".ico", "image/x-icon"},
                 {".txt", "text/plain; charset=utf-8"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

static int add_asset(cc_web_t *w, const char *url, const char *file, int strip_font)
{
    char *body = NULL;
    size_t len = 0;
    const char *type = type_of(file);
    if (type == NULL || cc__read_file(file, &body, &len) != 0)
        return -1;
    if (len > MAX_ASSET) {
        free(body);
        return -1;
    }
    if (strip_font)
        len = strip_transport_font(body, len);
    asset_t *grown = realloc(w->assets, (w->nassets + 1) * sizeof(*w->assets));
    char *path = strdup(url);
    if (grown == NULL || path == NULL) {
        free(body);
        free(path);
        if (grown != NULL)
            w->assets = grown;
        return -1;
    }
    w->assets = grown;
    asset_t *a = &w->assets[w->nassets++];
    a->path = path;
    a->body = body;
    a->len = len;
    a->type = type;
    cc_http_etag(body, len, a->etag);
    return 0;
}

static void add_dir(cc_web_t *w, const char *dir, const char *sub)
{
    char path[PATH_MAX + 64], file[PATH_MAX + 384], url[512];
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    DIR *d = opendir(path);
    struct dirent *e;
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
        snprintf(url, sizeof(url), "/assets/%s/%s", sub, e->d_name);
        add_asset(w, url, file, 0);
    }
    closedir(d);
}

static void load_assets(cc_web_t *w, const cc_config_t *config)
{
    char dir[PATH_MAX + 8], file[PATH_MAX + 64];
    if (config->web_assets != NULL) {
        snprintf(dir, sizeof(dir), "%s", config->web_assets);
    } else {
        char data[PATH_MAX];
        cc_paths_datadir(data, sizeof(data));
        snprintf(dir, sizeof(dir), "%s/web", data);
    }
    snprintf(file, sizeof(file), "%.*s/govuk-frontend.min.css", PATH_MAX, dir);
    w->assets_ok = add_asset(w, "/assets/govuk-frontend.min.css", file, !config->web_transport_font) == 0;
    snprintf(file, sizeof(file), "%.*s/careclock.css", PATH_MAX, dir);
    add_asset(w, "/assets/careclock.css", file, 0);
    snprintf(file, sizeof(file), "%.*s/LICENSE-govuk-frontend.txt", PATH_MAX, dir);
    add_asset(w, "/assets/LICENSE-govuk-frontend.txt", file, 0);
    add_dir(w, dir, "images");
    if (config->web_transport_font)
        add_dir(w, dir, "fonts");
    if (!w->assets_ok)
        cc_log(CC_LOG_WARNING,
               "dashboard: no GOV.UK Frontend styles in %s (make deps fetches them; make install installs them): "
               "pages are served unstyled",
               dir);
}

static void free_assets(cc_web_t *w)
{
    for (size_t i = 0; i < w->nassets; i++) {
        free(w->assets[i].path);
        free(w->assets[i].body);
    }
    free(w->assets);
    w->assets = NULL;
    w->nassets = 0;
}

static void respond_plain(cc_http_request_t *req, unsigned status, const char *text)
{
    cc_http_response_t r = {.status = status, .content_type = "text/plain; charset=utf-8",
                            .body = strdup(text)};
    r.len = r.body ? strlen(r.body) : 0;
    cc_http_respond(req, &r);
}

static int serve_asset(cc_web_t *w, cc_http_request_t *req, const char *path)
{
    for (size_t i = 0; i < w->nassets; i++) {
        const asset_t *a = &w->assets[i];
        if (strcmp(a->path, path) != 0)
            continue;
        const char *inm = cc_http_request_header(req, "If-None-Match");
        cc_http_response_t r = {.status = 200, .content_type = a->type};
        char headers[256];
        snprintf(headers, sizeof(headers), "ETag: %s\nCache-Control: public, max-age=3600\n", a->etag);
        r.headers = strdup(headers);
        if (inm != NULL && cc__http_etag_matches(inm, a->etag)) {
            r.status = 304;
            r.content_type = NULL;
        } else if ((r.body = malloc(a->len ? a->len : 1)) != NULL) {
            memcpy(r.body, a->body, a->len);
            r.len = a->len;
        } else {
            r.status = 500;
        }
        cc_http_respond(req, &r);
        return 1;
    }
    return 0;
}

/* ---- the pool and the jobs ----------------------------------------------- */

static void maybe_closed(cc_web_t *w);
static void start_jobs(cc_web_t *w);

static void job_free(job_t *j)
{
    snap_unref(j->snap);
    figures_unref(j->figures);
    cc_buf_free(&j->ctx.headers);
    cc_buf_free(&j->ctx.mail);
    free(j->ctx.mail_to);
    free(j->ctx.resp.body);
    free(j->ctx.resp.headers);
    free(j);
}

static void on_page(uv_work_t *work)
{
    job_t *j = work->data;
    cc_web_t *w = j->web;
    char err[400];
    if (w->pool[j->conn] == NULL) {
        if (cc_store_open_existing(w->db_path, &w->pool[j->conn], err, sizeof(err)) != 0) {
            snprintf(j->ctx.log, sizeof(j->ctx.log), "dashboard: cannot open the database: %s", err);
            j->ctx.log_level = CC_LOG_ERR;
            j->ctx.resp.status = 503;
            return;
        }
    }
    j->ctx.store = w->pool[j->conn];
    cc__webapp_handle(&j->ctx);
}

static void mail_done(cc_send_job_t *sj)
{
    mail_t *m = sj->data;
    cc_web_t *w = m->web;
    if (sj->result == CC_SEND_OK)
        cc_log(CC_LOG_INFO, "dashboard: a sign-in link was sent");
    else
        cc_log(CC_LOG_WARNING, "dashboard: a sign-in link could not be sent: %s", sj->error);
    OPENSSL_cleanse(m->body, strlen(m->body));
    free(m->rcpt);
    free(m->body);
    free(m->file_name);
    free(m);
    w->in_flight--;
    maybe_closed(w);
}

static void send_mail(cc_web_t *w, job_t *j)
{
    mail_t *m = calloc(1, sizeof(*m));
    char name[64];
    unsigned char r[6];
    if (m == NULL || RAND_bytes(r, sizeof(r)) != 1) {
        free(m);
        cc_log(CC_LOG_ERR, "dashboard: a sign-in link could not be sent: out of memory");
        return;
    }
    snprintf(name, sizeof(name), "signin-%lld-%02x%02x%02x%02x%02x%02x.eml", (long long)web_now(w), r[0], r[1], r[2],
             r[3], r[4], r[5]);
    m->web = w;
    m->rcpt = j->ctx.mail_to;
    j->ctx.mail_to = NULL;
    m->body = strdup(cc_buf_str(&j->ctx.mail));
    m->file_name = strdup(name);
    if (m->body == NULL || m->file_name == NULL || w->sender == NULL) {
        cc_log(CC_LOG_ERR, "dashboard: a sign-in link could not be sent: %s",
               w->sender == NULL ? "no mail channel" : "out of memory");
        free(m->rcpt);
        free(m->body);
        free(m->file_name);
        free(m);
        return;
    }
    m->job.channel = CC_CHANNEL_EMAIL;
    m->job.rcpt = m->rcpt;
    m->job.body = m->body;
    m->job.len = strlen(m->body);
    m->job.file_name = m->file_name;
    m->job.done = mail_done;
    m->job.data = m;
    w->in_flight++;
    if (cc_sender_send(w->sender, &m->job) != 0) {
        m->job.result = CC_SEND_RETRY;
        snprintf(m->job.error, sizeof(m->job.error), "the mail channel is closing");
        mail_done(&m->job);
    }
}

static void after_page(uv_work_t *work, int status)
{
    job_t *j = work->data;
    cc_web_t *w = j->web;
    (void)status;
    w->busy[j->conn] = 0;
    w->in_flight--;
    w->stats.pages++;
    if (j->ctx.log[0] != '\0')
        cc_log(j->ctx.log_level ? j->ctx.log_level : CC_LOG_INFO, "%s", j->ctx.log);
    if (j->ctx.mail_to != NULL && !w->closing)
        send_mail(w, j);
    /* The answer: headers the app made, then the response itself. */
    if (j->ctx.resp.status == 0)
        j->ctx.resp.status = 500;
    if (j->ctx.headers.len > 0 && !j->ctx.headers.failed) {
        free(j->ctx.resp.headers);
        j->ctx.resp.headers = strdup(cc_buf_str(&j->ctx.headers));
    }
    cc_http_respond(j->ctx.req, &j->ctx.resp);
    job_free(j);
    start_jobs(w);
    maybe_closed(w);
}

/* Start queued page jobs while connections are free. */
static void start_jobs(cc_web_t *w)
{
    while (w->queue_head != NULL) {
        int slot = -1;
        for (int i = 0; i < w->npool && slot < 0; i++)
            if (!w->busy[i])
                slot = i;
        if (slot < 0)
            return;
        job_t *j = w->queue_head;
        w->queue_head = j->next;
        if (w->queue_head == NULL)
            w->queue_tail = NULL;
        j->next = NULL;
        j->conn = slot;
        w->busy[slot] = 1;
        /* The latest figures at the time it starts. */
        figures_unref(j->figures);
        j->figures = w->figures;
        if (j->figures != NULL)
            j->figures->refs++;
        j->ctx.cache = j->figures ? j->figures->cache : NULL;
        j->ctx.cache_stale = j->figures != NULL && (j->figures->generation != w->generation || w->building);
        j->ctx.now = web_now(w);
        j->ctx.today = cc_time_local(j->ctx.now).date;
        w->in_flight++;
        if (uv_queue_work(w->loop, &j->work, on_page, after_page) != 0) {
            w->busy[slot] = 0;
            w->in_flight--;
            respond_plain(j->ctx.req, 503, "busy, try again\n");
            job_free(j);
        }
    }
}

static void enqueue(job_t **head, job_t **tail, job_t *j)
{
    j->next = NULL;
    if (*tail != NULL)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

/* ---- the figures ---------------------------------------------------------- */

static void schedule_build(cc_web_t *w);

static void on_build(uv_work_t *work)
{
    job_t *j = work->data;
    cc_web_t *w = j->web;
    char err[400];
    if (w->build_store == NULL && cc_store_open_existing(w->db_path, &w->build_store, err, sizeof(err)) != 0) {
        snprintf(j->ctx.log, sizeof(j->ctx.log), "dashboard: the figures cannot be built: %s", err);
        return;
    }
    time_t now = time(NULL) + w->offset;
    if (j->prune_before != 0 && cc_sessions_prune(w->build_store, j->prune_before, NULL) != 0)
        snprintf(j->ctx.log, sizeof(j->ctx.log), "dashboard: old sessions could not be deleted: %s",
                 cc_store_errmsg(w->build_store, NULL));
    int rc = cc__webcache_build(w->build_store, j->snap->env.rules, j->ctx.today, now, &j->built);
    if (rc != 0)
        snprintf(j->ctx.log, sizeof(j->ctx.log), "dashboard: building the figures failed: %s (%s)", cc_strerror(rc),
                 cc_store_errmsg(w->build_store, NULL));
}

static void release_held(cc_web_t *w)
{
    while (w->held_head != NULL) {
        job_t *j = w->held_head;
        w->held_head = j->next;
        if (w->held_head == NULL)
            w->held_tail = NULL;
        enqueue(&w->queue_head, &w->queue_tail, j);
    }
    start_jobs(w);
}

static void after_build(uv_work_t *work, int status)
{
    job_t *j = work->data;
    cc_web_t *w = j->web;
    (void)status;
    w->building = 0;
    w->in_flight--;
    uv_update_time(w->loop);
    w->last_build_end = uv_now(w->loop);
    w->last_build_ms = w->last_build_end - j->started_ms;
    if (j->ctx.log[0] != '\0')
        cc_log(CC_LOG_ERR, "%s", j->ctx.log);
    if (j->built != NULL) {
        figures_t *f = calloc(1, sizeof(*f));
        if (f != NULL) {
            f->refs = 1;
            f->cache = j->built;
            f->generation = j->generation;
            j->built = NULL;
            figures_unref(w->figures);
            w->figures = f;
            w->stats.builds++;
            w->stats.last_build_seconds = cc__webcache_build_seconds(f->cache);
        }
    }
    cc__webcache_free(j->built);
    j->built = NULL;
    job_free(j);
    if (w->figures != NULL)
        release_held(w);
    if (!w->closing && (w->build_owed || w->figures == NULL || w->figures->generation != w->generation))
        schedule_build(w);
    maybe_closed(w);
}

static void on_build_timer(uv_timer_t *t)
{
    cc_web_t *w = t->data;
    if (w->closing || w->building)
        return;
    job_t *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return;
    j->web = w;
    j->kind = JOB_BUILD;
    j->work.data = j;
    j->snap = w->snap;
    w->snap->refs++;
    j->generation = w->generation;
    j->ctx.today = w->today;
    /* Once a day, with the build: sign-in links and sessions that ended
     * more than PRUNE_DAYS ago go (their audit rows stay). */
    if (w->pruned_on != w->today) {
        w->pruned_on = w->today;
        j->prune_before = web_now(w) - (time_t)PRUNE_DAYS * 86400;
    }
    cc_buf_init(&j->ctx.headers);
    cc_buf_init(&j->ctx.mail);
    uv_update_time(w->loop);
    j->started_ms = uv_now(w->loop);
    w->building = 1;
    w->build_owed = 0;
    w->in_flight++;
    if (uv_queue_work(w->loop, &j->work, on_build, after_build) != 0) {
        w->building = 0;
        w->in_flight--;
        job_free(j);
    }
}

/* Build soon: after BUILD_COALESCE_MS, and not before BUILD_SHARE times
 * the last build's duration has passed since it ended. */
static void schedule_build(cc_web_t *w)
{
    if (w->closing)
        return;
    if (w->building) {
        w->build_owed = 1;
        return;
    }
    uv_update_time(w->loop);
    uint64_t now = uv_now(w->loop), delay = w->figures == NULL ? 0 : BUILD_COALESCE_MS;
    uint64_t gap = w->last_build_ms * BUILD_SHARE;
    if (w->last_build_end != 0 && now < w->last_build_end + gap && w->last_build_end + gap - now > delay)
        delay = w->last_build_end + gap - now;
    if (uv_is_active((uv_handle_t *)&w->build_timer) && uv_timer_get_due_in(&w->build_timer) <= delay)
        return;
    uv_timer_start(&w->build_timer, on_build_timer, delay, 0);
}

void cc_web_invalidate(cc_web_t *w, cc_date_t today)
{
    if (w == NULL)
        return;
    w->today = today;
    w->generation++;
    schedule_build(w);
}

/* ---- the route ------------------------------------------------------------ */

void cc_web_route(void *data, cc_http_request_t *req)
{
    cc_web_t *w = data;
    const char *path = cc_http_request_path(req);
    if (w->closing) {
        respond_plain(req, 503, "stopping\n");
        return;
    }
    if (w->snap->env.config.web_auth == CC_WEB_AUTH_OFF) {
        /* The links in messages still answer something useful. */
        if (strcmp(path, "/") == 0 || strncmp(path, "/children/", 10) == 0)
            respond_plain(req, 200, "careclock's dashboard is turned off here ([web] auth = off). Ask careclock on "
                                    "the server: careclock clocks --child REF, careclock explain REF CLOCK.\n");
        else
            respond_plain(req, 404, "not found\n");
        return;
    }
    if (strncmp(path, "/assets/", 8) == 0) {
        if (strcmp(cc_http_request_method(req), "GET") != 0 && strcmp(cc_http_request_method(req), "HEAD") != 0)
            respond_plain(req, 405, "method not allowed\n");
        else if (!serve_asset(w, req, path))
            respond_plain(req, 404, "not found\n");
        return;
    }
    job_t *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        respond_plain(req, 503, "out of memory\n");
        return;
    }
    j->web = w;
    j->kind = JOB_PAGE;
    j->work.data = j;
    j->snap = w->snap;
    w->snap->refs++;
    j->ctx.snap = j->snap;
    j->ctx.config = &j->snap->env.config;
    j->ctx.req = req;
    j->ctx.key = w->key;
    j->ctx.assets_ok = w->assets_ok;
    cc_buf_init(&j->ctx.headers);
    cc_buf_init(&j->ctx.mail);
    if (w->figures == NULL && cc__webapp_needs_figures(path))
        enqueue(&w->held_head, &w->held_tail, j);
    else
        enqueue(&w->queue_head, &w->queue_tail, j);
    start_jobs(w);
}

/* ---- life ------------------------------------------------------------------ */

static int make_sender(cc_web_t *w, const cc_config_t *config, cc_sender_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (config->web_auth != CC_WEB_AUTH_EMAIL || cc_config_email_unavailable(config) != NULL)
        return 0;
    return cc_sender_new(w->loop, config, NULL, out, err, errlen);
}

int cc_web_new(uv_loop_t *loop, const cc_env_t *env, const cc_web_options_t *options, cc_web_t **out, char *err,
               size_t errlen)
{
    assert(loop != NULL && env != NULL && options != NULL && options->db_path != NULL && out != NULL);
    *out = NULL;
    cc_web_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return CC_ENOMEM;
    w->loop = loop;
    w->offset = options->clock_offset;
    /* Pages are CPU work: never as many at once as there are CPUs, so the
     * loop (feeds, /healthz, the timers) always finds one. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    w->npool = cpus > 2 ? POOL : 1;
    w->db_path = strdup(options->db_path);
    w->config_path = options->config_path ? strdup(options->config_path) : NULL;
    w->listen = options->listen ? strdup(options->listen) : NULL;
    int rc = CC_ENOMEM;
    if (w->db_path == NULL || (options->config_path && w->config_path == NULL) ||
        (options->listen && w->listen == NULL))
        goto fail;
    if (RAND_bytes(w->key, sizeof(w->key)) != 1) {
        rc = CC_EIO;
        snprintf(err, errlen, "no random bytes for the dashboard's form tokens");
        goto fail;
    }
    if ((rc = snap_new(w, &w->snap, err, errlen)) != 0)
        goto fail;
    (void)env; /* the snapshot is the module's own load of the same configuration */
    if ((rc = make_sender(w, &w->snap->env.config, &w->sender, err, errlen)) != 0)
        goto fail;
    load_assets(w, &w->snap->env.config);
    uv_timer_init(loop, &w->build_timer);
    w->build_timer.data = w;
    w->timer_open = 1;
    w->today = cc_time_local(web_now(w)).date;
    if (w->snap->env.config.web_auth != CC_WEB_AUTH_OFF)
        schedule_build(w);
    *out = w;
    return 0;
fail:
    snap_unref(w->snap);
    free(w->db_path);
    free(w->config_path);
    free(w->listen);
    free(w);
    if (rc == CC_ENOMEM && err[0] == '\0')
        snprintf(err, errlen, "out of memory");
    return rc;
}

int cc_web_reload(cc_web_t *w, const cc_env_t *env, char *err, size_t errlen)
{
    cc__web_snap_t *fresh = NULL;
    cc_sender_t *sender = NULL;
    (void)env;
    int rc = snap_new(w, &fresh, err, errlen);
    if (rc == 0 && (rc = make_sender(w, &fresh->env.config, &sender, err, errlen)) != 0)
        snap_unref(fresh);
    if (rc != 0)
        return rc;
    snap_unref(w->snap);
    w->snap = fresh;
    /* Mail in flight on the old sender completes (as interrupted) now. */
    cc_sender_close(w->sender, NULL, NULL);
    w->sender = sender;
    free_assets(w);
    load_assets(w, &fresh->env.config);
    cc_web_invalidate(w, w->today);
    return 0;
}

void cc_web_stats(const cc_web_t *w, cc_web_stats_t *out)
{
    *out = w->stats;
    out->in_flight = w->in_flight;
}

static void on_timer_closed(uv_handle_t *h)
{
    cc_web_t *w = h->data;
    w->timer_open = 0;
    maybe_closed(w);
}

static void maybe_closed(cc_web_t *w)
{
    if (!w->closing || w->in_flight > 0 || w->queue_head != NULL || w->held_head != NULL)
        return;
    if (w->timer_open) {
        if (!uv_is_closing((uv_handle_t *)&w->build_timer))
            uv_close((uv_handle_t *)&w->build_timer, on_timer_closed);
        return;
    }
    void (*closed)(void *) = w->closed;
    void *arg = w->closed_arg;
    for (int i = 0; i < POOL; i++)
        cc_store_close(w->pool[i]);
    cc_store_close(w->build_store);
    figures_unref(w->figures);
    snap_unref(w->snap);
    free_assets(w);
    OPENSSL_cleanse(w->key, sizeof(w->key));
    free(w->db_path);
    free(w->config_path);
    free(w->listen);
    free(w);
    if (closed != NULL)
        closed(arg);
}

void cc_web_close(cc_web_t *w, void (*closed)(void *arg), void *arg)
{
    if (w == NULL) {
        if (closed != NULL)
            closed(arg);
        return;
    }
    w->closing = 1;
    w->closed = closed;
    w->closed_arg = arg;
    uv_timer_stop(&w->build_timer);
    /* Requests not started: answered now. */
    job_t *lists[2] = {w->queue_head, w->held_head};
    w->queue_head = w->queue_tail = w->held_head = w->held_tail = NULL;
    for (int i = 0; i < 2; i++)
        while (lists[i] != NULL) {
            job_t *j = lists[i];
            lists[i] = j->next;
            respond_plain(j->ctx.req, 503, "stopping\n");
            job_free(j);
        }
    /* Mail being sent completes (as interrupted) from inside the close. */
    cc_sender_t *sender = w->sender;
    w->sender = NULL;
    cc_sender_close(sender, NULL, NULL);
    maybe_closed(w);
}
