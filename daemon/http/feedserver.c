/* The daemon's side of the feed server: the routes http.c calls, a cache of
 * rendered feeds, rendering off the loop, and batched access records. See
 * include/careclock/feedserver.h.
 *
 * Design notes:
 *  - Cache: one entry per feed id holding the current body, its ETag and
 *    Last-Modified, and the generation and database version it was
 *    rendered at. The daemon bumps the generation when its own writes
 *    change clocks (a recompute that wrote rows), on a reload and on a new
 *    day; any write by another process (a child given another worker or
 *    team, a name, a team, staff, an event, a decision) moves PRAGMA
 *    data_version. A request for an entry of an older generation or version
 *    has it rendered again, so every change to what a feed shows is served
 *    at once; a render that gives the same bytes keeps the body, its ETag
 *    and its Last-Modified.
 *  - Last-Modified is when the body last changed, on this machine's clock:
 *    set when a render's bytes differ from the previous body's, and always
 *    at least a second after the previous Last-Modified (HTTP dates have
 *    whole seconds: a client that fetched within the second of a change
 *    must not be told 304 for the next one). After a start every body
 *    counts as changed at its first render.
 *  - Each body is kept plain and gzip-compressed (deterministically: no
 *    name, no time), each with its own ETag; the server picks one by
 *    Accept-Encoding. Bodies are reference counted: a body handed to the
 *    server stays alive until the server releases it, even if a newer one
 *    replaced it meanwhile. Tokens are looked up in the database on every
 *    request (or matched against the last lookup while data_version has not
 *    moved), so a revoked token answers its empty calendar at once.
 *  - Rendering is off the loop (issue 19, item 8: a 9.7 MB feed rendered on
 *    the loop pushed /healthz to half a second): a uv_work_t on libuv's
 *    thread pool, on its own connection (render_store, opened by
 *    cc_feedserver_new, used by that thread only), one render at a time;
 *    further feeds to render wait in a queue. The request is answered later
 *    (cc_http_body_t.pending with the feed id as key) and woken with
 *    cc_http_wake when the render is done. A woken request takes the body
 *    just rendered even if the generation moved on meanwhile (resumed), so
 *    a feed rendered more slowly than the database changes is still served.
 *  - The render thread gets copies of what it reads (the feed's kind and
 *    target, the four configuration values cc_feeds_render uses, today, the
 *    previous body's ETag) and the calendar by pointer: a reload must not
 *    free a calendar a render may read, so the daemon hands the old one to
 *    cc_feedserver_when_idle. The thread also compresses the body and
 *    computes both ETags (a 25 MB feed's gzip takes a good part of a
 *    second). Results, errors included, are handled and logged on the loop.
 */
#include "careclock/feedserver.h"
#include "careclock/error.h"
#include "careclock/feeds.h"
#include "util/grow.h"
#include "careclock/log.h"
#include "careclock/time.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct body {
    int refs;            /* the cache's reference + one per response in flight */
    char *data;
    size_t len;
    char etag[CC_HTTP_ETAG_SIZE];
    char *gz;            /* the same, gzip-compressed; NULL when compression failed */
    size_t gz_len;
    char gz_etag[CC_HTTP_ETAG_SIZE];
    time_t last_modified;
} body_t;

typedef struct {
    int64_t feed_id;
    uint64_t generation;
    int64_t rendered_version; /* the database's data_version (the loop's connection) when its render was asked */
    body_t *body;
    int64_t pending_hits; /* accesses not yet written */
    cc_feed_t feed;       /* as last looked up */
    char hash[CC_FEED_HASH_LEN + 1]; /* its token's SHA-256; "" until looked up */
    int64_t db_version;   /* the database's data_version when it was */
    int rendering;        /* a render is queued or running */
    int64_t rendered_version_wanted; /* the version the last request asked at, for the render it queues */
    int gone;             /* the last render found no team or person: 404 */
} entry_t;

/* One render, handed to the thread pool. */
typedef struct {
    uv_work_t req;
    cc_feedserver_t *fs;
    int64_t feed_id;
    uint64_t generation;
    int64_t db_version;
    cc_feed_kind_t kind;
    char target[CC_STORE_ID_MAX + 1];
    cc_config_t config;   /* privacy, timezone (owned), feed_ttl_minutes, feed_retention_days only */
    const cc_calendar_t *cal; /* kept alive by the daemon until the render is done (cc_feedserver_when_idle) */
    cc_date_t today;
    char previous_etag[CC_HTTP_ETAG_SIZE]; /* the body's now: the same bytes need no compressing */
    /* results */
    int rc;
    body_t *body;
    size_t names_not_shown;
    char err[256];
} render_t;

struct cc_feedserver {
    uv_loop_t *loop;
    cc_store_t *store;        /* the loop's: token lookups, access records */
    cc_store_t *render_store; /* the render thread's */
    cc_http_t *http;          /* to wake requests; NULL: none attached */
    const cc_config_t *config;
    const cc_calendar_t *cal;
    cc_date_t today;
    uint64_t generation;
    entry_t *entries;
    size_t n, cap;
    int64_t *queue;           /* feed ids waiting for the render thread */
    size_t nqueue, capqueue;
    render_t *running;        /* the render in flight, or NULL */
    struct idle_cb {          /* cc_feedserver_when_idle: called once the render in flight is done */
        void (*fn)(void *);
        void *arg;
    } *idle;
    size_t nidle, capidle;
    int closing;
    uint64_t renders, hits;
};

static void body_unref(body_t *b)
{
    if (b != NULL && --b->refs == 0) {
        free(b->data);
        free(b->gz);
        free(b);
    }
}

static void release(void *arg)
{
    body_unref(arg);
}

int cc_feedserver_new(uv_loop_t *loop, cc_store_t *store, const char *db_path, const cc_config_t *config,
                      cc_feedserver_t **out, char *err, size_t errlen)
{
    *out = NULL;
    cc_feedserver_t *fs = calloc(1, sizeof(*fs));
    if (fs == NULL) {
        cc_set_err(err, errlen, "out of memory");
        return CC_ENOMEM;
    }
    int rc = cc_store_open_existing(db_path, &fs->render_store, err, errlen);
    if (rc != 0) {
        free(fs);
        return rc;
    }
    fs->loop = loop;
    fs->store = store;
    fs->config = config;
    fs->generation = 1;
    *out = fs;
    return 0;
}

void cc_feedserver_attach(cc_feedserver_t *fs, cc_http_t *http)
{
    fs->http = http;
}

static void run_idle(cc_feedserver_t *fs);

static void render_free(render_t *r)
{
    if (r == NULL)
        return;
    body_unref(r->body);
    free(r->config.timezone);
    free(r);
}

void cc_feedserver_free(cc_feedserver_t *fs)
{
    if (fs == NULL)
        return;
    /* The loop has run to its end: no render is in flight (a uv_work_t
     * keeps the loop alive until its after-work callback has run). */
    for (size_t i = 0; i < fs->n; i++)
        body_unref(fs->entries[i].body);
    free(fs->entries);
    free(fs->queue);
    run_idle(fs);
    free(fs->idle);
    cc_store_close(fs->render_store);
    free(fs);
}

void cc_feedserver_close(cc_feedserver_t *fs)
{
    fs->closing = 1;
    fs->http = NULL;
    fs->nqueue = 0;
}

void cc_feedserver_invalidate(cc_feedserver_t *fs, const cc_config_t *config, const cc_calendar_t *cal,
                              cc_date_t today)
{
    fs->config = config;
    fs->cal = cal;
    fs->today = today;
    fs->generation++;
}

static void run_idle(cc_feedserver_t *fs)
{
    size_t n = fs->nidle;
    fs->nidle = 0;
    for (size_t i = 0; i < n; i++)
        fs->idle[i].fn(fs->idle[i].arg);
}

void cc_feedserver_when_idle(cc_feedserver_t *fs, void (*fn)(void *), void *arg)
{
    if (fs->running == NULL) {
        fn(arg);
        return;
    }
    if (cc__grow(&fs->idle, &fs->capidle, fs->nidle + 1, sizeof(*fs->idle), 4) != 0)
        return; /* no memory to wait with: arg is leaked rather than freed under the render */
    fs->idle[fs->nidle].fn = fn;
    fs->idle[fs->nidle].arg = arg;
    fs->nidle++;
}

static entry_t *find(cc_feedserver_t *fs, int64_t feed_id)
{
    for (size_t i = 0; i < fs->n; i++)
        if (fs->entries[i].feed_id == feed_id)
            return &fs->entries[i];
    return NULL;
}

static entry_t *entry_for(cc_feedserver_t *fs, int64_t feed_id)
{
    entry_t *e = find(fs, feed_id);
    if (e != NULL)
        return e;
    if (cc__grow(&fs->entries, &fs->cap, fs->n + 1, sizeof(entry_t), 16) != 0)
        return NULL;
    e = &fs->entries[fs->n++];
    memset(e, 0, sizeof(*e));
    e->feed_id = feed_id;
    return e;
}

/* ---- the render thread ---- */

/* gzip of b's body into b->gz (deterministic: no file name, no time, OS
 * "unknown"); on failure b->gz stays NULL and the plain body is served. */
static void compress_body(body_t *b)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return;
    gz_header h;
    memset(&h, 0, sizeof(h));
    h.os = 255;
    deflateSetHeader(&z, &h);
    uLong cap = deflateBound(&z, (uLong)b->len);
    char *out = malloc(cap ? cap : 1);
    if (out != NULL) {
        z.next_in = (Bytef *)b->data;
        z.avail_in = (uInt)b->len;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
            b->gz = out;
            b->gz_len = cap - z.avail_out;
            cc_http_etag(b->gz, b->gz_len, b->gz_etag);
            out = NULL;
        }
        free(out);
    }
    deflateEnd(&z);
}

static void render_work(uv_work_t *req)
{
    render_t *r = req->data;
    cc_buf_t text;
    cc_ics_info_t info;
    cc_buf_init(&text);
    r->rc = cc_feeds_render(r->fs->render_store, r->kind, r->target, &r->config, r->cal, r->today, &text, &info,
                            r->err, sizeof(r->err));
    if (r->rc != 0) {
        cc_buf_free(&text);
        return;
    }
    body_t *b = calloc(1, sizeof(*b));
    if (b == NULL || (text.data == NULL && (text.data = strdup("")) == NULL)) {
        free(b);
        cc_buf_free(&text);
        r->rc = CC_ENOMEM;
        return;
    }
    b->refs = 1;
    b->len = text.len;
    b->data = text.data; /* ownership moves from the buffer */
    cc_http_etag(b->data, b->len, b->etag);
    if (strcmp(b->etag, r->previous_etag) != 0)
        compress_body(b); /* new bytes: the cached body is kept otherwise */
    r->body = b;
    r->names_not_shown = info.names_not_shown;
}

static void start_next(cc_feedserver_t *fs);

static void render_done(uv_work_t *req, int status)
{
    render_t *r = req->data;
    cc_feedserver_t *fs = r->fs;
    entry_t *e = find(fs, r->feed_id);
    fs->running = NULL;
    if (e != NULL) {
        e->rendering = 0;
        e->gone = r->rc == CC_ENOTFOUND;
    }
    if (status != 0 || (r->rc != 0 && r->rc != CC_ENOTFOUND))
        cc_log(CC_LOG_ERR, "feed %lld: rendering failed: %s", (long long)r->feed_id,
               status != 0 ? uv_strerror(status) : r->err[0] ? r->err : cc_strerror(r->rc));
    if (r->names_not_shown > 0)
        cc_log(CC_LOG_WARNING, "feed %lld: %zu name%s longer than %d characters left out (a data error: another "
                               "system wrote them; the feed shows ids instead)",
               (long long)r->feed_id, r->names_not_shown, r->names_not_shown == 1 ? "" : "s", CC_NAME_MAX);
    if (e != NULL && r->rc == 0 && r->body != NULL) {
        if (e->body != NULL && strcmp(e->body->etag, r->body->etag) == 0) {
            /* Same bytes: keep the old body (and its Last-Modified). */
        } else {
            time_t now = time(NULL);
            if (e->body != NULL && now <= e->body->last_modified)
                now = e->body->last_modified + 1;
            r->body->last_modified = now;
            if (r->body->gz == NULL)
                compress_body(r->body); /* the bytes the thread took for unchanged changed meanwhile */
            body_unref(e->body);
            e->body = r->body;
            r->body = NULL;
        }
        e->generation = r->generation;
        e->rendered_version = r->db_version;
        fs->renders++;
    }
    int64_t id = r->feed_id;
    render_free(r);
    run_idle(fs); /* what waited for this render's configuration and calendar */
    /* Every request waiting on this feed is asked again (failed: it gets
     * its 404 or 500 now). */
    if (fs->http != NULL)
        cc_http_wake(fs->http, id);
    start_next(fs);
}

/* Hand the next queued feed to the thread pool, if none is running. */
static void start_next(cc_feedserver_t *fs)
{
    while (fs->running == NULL && fs->nqueue > 0 && !fs->closing) {
        int64_t id = fs->queue[0];
        memmove(fs->queue, fs->queue + 1, (fs->nqueue - 1) * sizeof(*fs->queue));
        fs->nqueue--;
        entry_t *e = find(fs, id);
        render_t *r = calloc(1, sizeof(*r));
        if (e == NULL || r == NULL || (r->config.timezone = strdup(fs->config->timezone)) == NULL) {
            free(r);
            if (e != NULL)
                e->rendering = 0;
            if (fs->http != NULL)
                cc_http_wake(fs->http, id); /* answered from what there is, or 500 */
            continue;
        }
        r->req.data = r;
        r->fs = fs;
        r->feed_id = id;
        r->generation = fs->generation;
        r->db_version = e->rendered_version_wanted;
        r->cal = fs->cal;
        if (e->body != NULL)
            memcpy(r->previous_etag, e->body->etag, sizeof(r->previous_etag));
        r->kind = e->feed.kind;
        snprintf(r->target, sizeof(r->target), "%s", e->feed.target_id);
        r->config.privacy = fs->config->privacy;
        r->config.feed_ttl_minutes = fs->config->feed_ttl_minutes;
        r->config.feed_retention_days = fs->config->feed_retention_days;
        r->today = fs->today;
        if (uv_queue_work(fs->loop, &r->req, render_work, render_done) != 0) {
            render_free(r);
            e->rendering = 0;
            if (fs->http != NULL)
                cc_http_wake(fs->http, id);
            continue;
        }
        fs->running = r;
    }
}

static int queue_render(cc_feedserver_t *fs, entry_t *e, int64_t db_version)
{
    e->rendered_version_wanted = db_version;
    if (e->rendering)
        return 0;
    if (cc__grow(&fs->queue, &fs->capqueue, fs->nqueue + 1, sizeof(*fs->queue), 8) != 0)
        return CC_ENOMEM;
    fs->queue[fs->nqueue++] = e->feed_id;
    e->rendering = 1;
    start_next(fs);
    return 0;
}

/* ---- requests ---- */

/* The answer to a revoked feed's URL: a valid calendar with no events, so
 * that every subscribed device drops the events it holds at its next
 * refresh (docs/feeds.md, "Revoking": clients keep what they last had when
 * a subscription answers an error). One-off and tiny: rendered here, the
 * body freed after the response. */
static int revoked_calendar(cc_feedserver_t *fs, cc_http_body_t *out)
{
    cc_buf_t text;
    char err[128];
    cc_ics_feed_t feed = {.name = "careclock: this subscription was revoked; remove it",
                          .timezone = fs->config ? fs->config->timezone : NULL,
                          .ttl_minutes = fs->config ? fs->config->feed_ttl_minutes : 60,
                          .today = fs->today};
    cc_buf_init(&text);
    int rc = cc_ics_render(&feed, NULL, 0, &text, NULL, err, sizeof(err));
    if (rc != 0 || text.data == NULL) {
        cc_buf_free(&text);
        return rc != 0 ? rc : CC_ENOMEM;
    }
    out->body = text.data;
    out->len = text.len;
    cc_http_etag(text.data, text.len, out->etag);
    out->last_modified = 0;
    out->release = free;
    out->release_arg = text.data;
    return 0;
}

/* A token seen before, while nothing else has written to the database since
 * (another process revoking it moves data_version), needs no query. The
 * comparison is constant-time over the full hash. */
static entry_t *known_token(cc_feedserver_t *fs, const char *hash, int64_t db_version)
{
    entry_t *found = NULL;
    for (size_t i = 0; i < fs->n; i++) {
        entry_t *e = &fs->entries[i];
        if (e->hash[0] != '\0' && e->db_version == db_version &&
            CRYPTO_memcmp(e->hash, hash, CC_FEED_HASH_LEN) == 0)
            found = e;
    }
    return found;
}

int cc_feedserver_feed(cc_feedserver_t *fs, const char *token, int64_t db_version, cc_http_body_t *out)
{
    cc_feed_t feed;
    char hash[CC_FEED_HASH_LEN + 1];
    int resumed = out->resumed;
    if (cc_feeds_token_hash(token, hash) != 0)
        return CC_ENOTFOUND;
    entry_t *e = known_token(fs, hash, db_version);
    if (e == NULL) {
        int rc = cc_feeds_lookup_hash(fs->store, hash, &feed);
        if (rc == CC_ESTATE)
            return revoked_calendar(fs, out);
        if (rc != 0)
            return rc == CC_ENOTFOUND ? CC_ENOTFOUND : CC_EDB;
        e = entry_for(fs, feed.id);
        if (e == NULL)
            return CC_ENOMEM;
        e->feed = feed;
        memcpy(e->hash, hash, sizeof(e->hash));
        e->db_version = db_version;
    }
    if (resumed && !e->rendering) {
        /* Woken after its render: take what it made, fresh or not. */
        if (e->gone)
            return CC_ENOTFOUND;
        if (e->body == NULL)
            return CC_EIO; /* the render failed (logged): 500 */
    } else if (e->body == NULL || e->generation != fs->generation || e->rendered_version != db_version) {
        if (fs->closing || fs->http == NULL)
            return CC_ESTATE;
        int rc = queue_render(fs, e, db_version);
        if (rc != 0)
            return rc;
        out->pending = 1;
        out->wait_key = e->feed_id;
        return 0;
    }
    e->pending_hits++;
    fs->hits++;
    e->body->refs++;
    out->body = e->body->data;
    out->len = e->body->len;
    memcpy(out->etag, e->body->etag, sizeof(out->etag));
    out->last_modified = e->body->last_modified;
    if (e->body->gz != NULL) {
        out->gz = e->body->gz;
        out->gz_len = e->body->gz_len;
        memcpy(out->gz_etag, e->body->gz_etag, sizeof(out->gz_etag));
    }
    out->release = release;
    out->release_arg = e->body;
    return 0;
}

int cc_feedserver_flush_access(cc_feedserver_t *fs, const char *now_utc)
{
    int rc = 0;
    for (size_t i = 0; i < fs->n; i++) {
        entry_t *e = &fs->entries[i];
        if (e->pending_hits == 0)
            continue;
        int r = cc_feeds_record_access(fs->store, e->feed_id, now_utc, e->pending_hits);
        if (r == 0)
            e->pending_hits = 0;
        else
            rc = r;
    }
    return rc;
}

void cc_feedserver_counts(const cc_feedserver_t *fs, uint64_t *renders, uint64_t *hits)
{
    *renders = fs->renders;
    *hits = fs->hits;
}
