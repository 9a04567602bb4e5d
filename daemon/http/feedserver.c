/* The daemon's side of the feed server: the routes http.c calls, a cache of
 * rendered feeds, and batched access records. See include/careclock/feedserver.h.
 *
 * Cache: one entry per feed id holding the current body, its ETag and
 * Last-Modified, and the generation it was rendered at. The daemon bumps
 * the generation whenever clocks change (a recompute that wrote rows, a
 * reload, a new day); a request for an entry of an older generation
 * renders again. Bodies are reference counted: a body handed to the server
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
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct body {
    int refs;            /* the cache's reference + one per response in flight */
    char *data;
    size_t len;
    char etag[CC_HTTP_ETAG_SIZE];
    time_t last_modified;
} body_t;

typedef struct {
    int64_t feed_id;
    uint64_t generation;
    body_t *body;
    int64_t pending_hits; /* accesses not yet written */
    cc_feed_t feed;       /* as last looked up */
    char hash[CC_FEED_HASH_LEN + 1]; /* its token's SHA-256; "" until looked up */
    int64_t db_version;   /* the database's data_version when it was */
} entry_t;

struct cc_feedserver {
    cc_store_t *store;
    const cc_config_t *config;
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

void cc_feedserver_invalidate(cc_feedserver_t *fs, const cc_config_t *config, cc_date_t today)
{
    fs->config = config;
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

static int render(cc_feedserver_t *fs, const cc_feed_t *feed, entry_t *e)
{
    cc_buf_t text;
    cc_ics_info_t info;
    char err[256];
    cc_buf_init(&text);
    int rc = cc_feeds_render(fs->store, feed->kind, feed->target_id, fs->config, fs->today, &text, &info, err,
                             sizeof(err));
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
    time_t modified = cc_time_parse_utc(info.last_modified); /* -1 when empty or malformed: none */
    b->last_modified = modified == (time_t)-1 ? 0 : modified;
    if (e->body != NULL && strcmp(e->body->etag, b->etag) == 0) {
        /* Same bytes: keep the old body (and its Last-Modified). */
        body_unref(b);
    } else {
        body_unref(e->body);
        e->body = b;
    }
    e->generation = fs->generation;
    fs->renders++;
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
    if (e->body == NULL || e->generation != fs->generation) {
        rc = render(fs, &feed, e);
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
