/* Fuzz target: the feed server's token handling: the text a request puts
 * between /feeds/ and .ics, through the shape check and hash
 * (cc_feeds_token_hash) and the lookup against a real plan database
 * holding one live feed and one revoked (cc_feeds_lookup).
 * Invariants: only 64 lower-case hex digits hash; the hash is 64 hex
 * digits; a lookup finds the live feed for its own token only, never the
 * revoked one, and everything else is the same CC_ENOTFOUND. */
#include "fuzz_common.h"

#include "careclock/error.h"
#include "careclock/feeds.h"
#include "careclock/people.h"
#include "careclock/store.h"

#include <ftw.h>

static cc_store_t *store;
static char live[CC_FEED_TOKEN_LEN + 1], revoked[CC_FEED_TOKEN_LEN + 1];
static int64_t live_id;
static char dir[64] = "/tmp/careclock-fuzz-XXXXXX";

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    cc_store_close(store);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char path[128], err[512];
    int64_t revoked_id;
    (void)argc;
    (void)argv;
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof(path), "%s/plan.db", dir);
    cc_store_team_t team = {.id = "T1", .name = "East"};
    if (cc_store_open(path, &store, err, sizeof(err)) != 0 || cc_store_team_add(store, &team, err, sizeof(err)) != 0 ||
        cc_feeds_add(store, CC_FEED_TEAM, "T1", live, &live_id, err, sizeof(err)) != 0 ||
        cc_feeds_add(store, CC_FEED_TEAM, "T1", revoked, &revoked_id, err, sizeof(err)) != 0 ||
        cc_feeds_revoke(store, revoked_id, "2026-11-30T00:00:00Z", err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_feed_token: %s\n", err);
        abort();
    }
    atexit(cleanup);
    return 0;
}

static int token_shaped(const char *t)
{
    if (strlen(t) != CC_FEED_TOKEN_LEN)
        return 0;
    for (; *t; t++)
        if (!((*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'f')))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    const char *token = fz_str(&f);
    unsigned mode = fz_num(&f);
    char hash[CC_FEED_HASH_LEN + 1];
    /* Mostly the fuzzer's text; sometimes a real token with one byte
     * changed, so that near misses are tried against the index. */
    char near[CC_FEED_TOKEN_LEN + 1];
    if (mode & 1) {
        memcpy(near, (mode & 2) ? revoked : live, sizeof(near));
        near[(mode >> 2) % CC_FEED_TOKEN_LEN] = token[0] ? token[0] : 'x';
        token = near;
    }
    int rc = cc_feeds_token_hash(token, hash);
    FZ_CHECK((rc == 0) == token_shaped(token), "hash rc %d for a token of %zu bytes", rc, strlen(token));
    if (rc == 0) {
        FZ_CHECK(strlen(hash) == CC_FEED_HASH_LEN && strspn(hash, "0123456789abcdef") == CC_FEED_HASH_LEN,
                 "hash %s", hash);
        FZ_CHECK(strcmp(hash, token) != 0, "the hash is the token");
    }
    cc_feed_t feed;
    rc = cc_feeds_lookup(store, token, &feed);
    if (strcmp(token, live) == 0)
        FZ_CHECK(rc == 0 && feed.id == live_id, "the live token is not found (rc %d)", rc);
    else
        FZ_CHECK(rc == CC_ENOTFOUND, "token \"%s\" gives rc %d", token, rc);
    fz_free(&f);
    return 0;
}
