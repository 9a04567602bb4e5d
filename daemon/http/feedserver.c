/* The daemon's side of the feed server: the routes http.c calls, a cache of
 * rendered feeds, and batched access records. See include/careclock/feedserver.h.
 *
 * Cache: one entry per feed id holding the current body, its ETag and
 * Last-Modified, and the generation and database version it was rendered
 * at. The daemon bumps the generation when its own writes change clocks
 * (a recompute that wrote rows), on a reload and on a new day; any write
 * by another process (a child given another worker or team, a name, a
 * team, staff, an event, a decision) moves PRAGMA data_version. A request
 * for an entry of an older generation or version renders again, so every
 * change to what a feed shows is served at once; a render that gives the
 * same bytes keeps the body, its ETag and its Last-Modified.
 *
 * Last-Modified is when the body last changed, on this machine's clock:
 * set when a render's bytes differ from the previous body's, and always
 * at least a second after the previous Last-Modified (HTTP dates have
 * whole seconds: a client that fetched within the second of a change must
 * not be told 304 for the next one). After a start every body counts as
 * changed at its first render.
 *
 * Each body is kept plain and gzip-compressed (deterministically: no name,
 * no time), each with its own ETag; the server picks one by
 * Accept-Encoding. Bodies are reference counted: a body handed to the server
 * stays alive until the server releases it, even if a newer one replaced
 * it meanwhile. Tokens are looked up in the database on every request, so
 * a revoked token fails at once.
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
    int64_t rendered_version; /* the database's data_version at the render */
    body_t *body;
    int64_t pending_hits; /* accesses not yet written */
    cc_feed_t feed;       /* as last looked up */
    char hash[CC_FEED_HASH_LEN + 1]; /* its token's SHA-256; "" until looked up */
    int64_t db_version;   /* the database's data_version when it was */
} entry_t;

struct cc_feedserver {
    cc_store_t *store;
    const cc_config_t *config;
    const cc_calendar_t *cal;
    cc_date_t today;
    uint64_t generation;
    entry_t *entries;
    size_t n, cap;
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

int cc_feedserver_new(cc_store_t *store, const cc_config_t *config, cc_feedserver_t **out)
{
    cc_feedserver_t *fs = calloc(1, sizeof(*fs));
    if (fs == NULL)
        return CC_ENOMEM;
    fs->store = store;
    fs->config = config;
    fs->generation = 1;
    *out = fs;
    return 0;
}

void cc_feedserver_free(cc_feedserver_t *fs)
{
    if (fs == NULL)
        return;
    for (size_t i = 0; i < fs->n; i++)
        body_unref(fs->entries[i].body);
    free(fs->entries);
    free(fs);
}

void cc_feedserver_invalidate(cc_feedserver_t *fs, const cc_config_t *config, const cc_calendar_t *cal,
                              cc_date_t today)
{
    fs->config = config;
    fs->cal = cal;
    fs->today = today;
    fs->generation++;
}

static entry_t *entry_for(cc_feedserver_t *fs, int64_t feed_id)
{
    for (size_t i = 0; i < fs->n; i++)
        if (fs->entries[i].feed_id == feed_id)
            return &fs->entries[i];
    if (cc__grow(&fs->entries, &fs->cap, fs->n + 1, sizeof(entry_t), 16) != 0)
        return NULL;
    entry_t *e = &fs->entries[fs->n++];
    memset(e, 0, sizeof(*e));
    e->feed_id = feed_id;
    return e;
}

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

static int render(cc_feedserver_t *fs, const cc_feed_t *feed, entry_t *e, int64_t db_version)
{
    cc_buf_t text;
    cc_ics_info_t info;
    char err[256];
    cc_buf_init(&text);
    int rc = cc_feeds_render(fs->store, feed->kind, feed->target_id, fs->config, fs->cal, fs->today, &text, &info,
                             err, sizeof(err));
    if (rc != 0) {
        cc_buf_free(&text);
        if (rc != CC_ENOTFOUND)
            cc_log(CC_LOG_ERR, "feed %lld: rendering failed: %s", (long long)feed->id, err);
        return rc;
    }
    body_t *b = calloc(1, sizeof(*b));
    if (b == NULL) {
        cc_buf_free(&text);
        return CC_ENOMEM;
    }
    b->refs = 1;
    b->len = text.len;
    b->data = text.data; /* ownership moves from the buffer */
    if (b->data == NULL && (b->data = strdup("")) == NULL) {
        free(b);
        return CC_ENOMEM;
    }
    cc_http_etag(b->data, b->len, b->etag);
    if (e->body != NULL && strcmp(e->body->etag, b->etag) == 0) {
        /* Same bytes: keep the old body (and its Last-Modified). */
        body_unref(b);
    } else {
        time_t now = time(NULL);
        if (e->body != NULL && now <= e->body->last_modified)
            now = e->body->last_modified + 1;
        b->last_modified = now;
        compress_body(b);
        body_unref(e->body);
        e->body = b;
    }
    e->generation = fs->generation;
    e->rendered_version = db_version;
    fs->renders++;
    return 0;
}

/* The answer to a revoked feed's URL: a valid calendar with no events, so
 * that every subscribed device drops the events it holds at its next
 * refresh (docs/feeds.md, "Revoking": clients keep what they last had when
 * a subscription answers an error). One-off: the body is freed after the
 * response. */
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
    feed = e->feed;
    int rc;
    if (e->body == NULL || e->generation != fs->generation || e->rendered_version != db_version) {
        rc = render(fs, &feed, e, db_version);
        if (rc != 0)
            return rc;
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
