/* Calendar feeds: the shell around the ICS renderer. Subscriptions (the
 * feeds table, schema v2) and the clock rows each feed shows, read from the
 * plan database. docs/feeds.md describes the design.
 *
 * Tokens. A feed is reached by a secret URL, /feeds/<token>.ics. The token
 * is 32 random bytes from OpenSSL's RAND_bytes, written as 64 lower-case
 * hex digits (URL-safe, easy to check). It is shown once, when the feed is
 * created; the database keeps only the SHA-256 of the token text, as hex,
 * in feeds.token_hash. A token is looked up by hashing what was presented
 * and finding that hash through the table's unique index; the row found is
 * then compared with CRYPTO_memcmp. Comparing hashes rather than tokens
 * means that how long a comparison takes says nothing about any real token.
 *
 * What a feed shows. A team feed: the clocks of the children of the team.
 * A staff feed: the clocks of every child the person is allocated to
 * (worker), reviews (IRO), or whose team they manage (team manager or
 * service manager), whatever their role says, so that someone with two
 * hats sees both. Data errors are never shown (they have no date); met and
 * cancelled clocks stay config->feed_retention_days (ics.h).
 *
 * Every function takes an open store (one connection) and uses prepared
 * statements only. Return values: 0, or CC_EINVAL, CC_ENOTFOUND, CC_ESTATE,
 * CC_EIO (no randomness), CC_ENOMEM, CC_EDB.
 */
#ifndef CARECLOCK_FEEDS_H
#define CARECLOCK_FEEDS_H

#include "careclock/buf.h"
#include "careclock/config.h"
#include "careclock/date.h"
#include "careclock/ics.h"
#include "careclock/store.h"

#include <stddef.h>
#include <stdint.h>

#define CC_FEED_TOKEN_BYTES 32
#define CC_FEED_TOKEN_LEN 64 /* hex digits */
#define CC_FEED_HASH_LEN 64  /* hex digits of SHA-256 */

typedef enum { CC_FEED_TEAM, CC_FEED_STAFF } cc_feed_kind_t;

/* A feed as stored (never its token). Timestamps are UTC
 * "YYYY-MM-DDTHH:MM:SSZ"; "" when NULL. */
typedef struct {
    int64_t id;
    cc_feed_kind_t kind;
    char target_id[CC_STORE_ID_MAX + 1];
    char created_at[32];
    char revoked_at[32];     /* "" while the feed is live */
    char last_access_at[32]; /* "" when never fetched */
    int64_t access_count;
} cc_feed_t;

/* "team" or "staff". */
const char *cc_feed_kind_name(cc_feed_kind_t kind);

/* A new random token into token (64 hex digits and a NUL). Returns 0, or
 * CC_EIO when OpenSSL cannot supply randomness. */
int cc_feeds_token_new(char token[CC_FEED_TOKEN_LEN + 1]);

/* The SHA-256 of token's text, as 64 lower-case hex digits, into hash.
 * Returns CC_EINVAL (hash untouched) unless token is exactly 64 lower-case
 * hex digits: the shape check reveals nothing about which tokens exist. */
int cc_feeds_token_hash(const char *token, char hash[CC_FEED_HASH_LEN + 1]);

/* Create a feed of a team or a staff member (which must exist: else
 * CC_ENOTFOUND with err naming it). Writes the new token into token and the
 * feed's id into *id (may be NULL). The token exists nowhere else: the
 * caller shows it once and forgets it. */
int cc_feeds_add(cc_store_t *s, cc_feed_kind_t kind, const char *target_id, char token[CC_FEED_TOKEN_LEN + 1],
                 int64_t *id, char *err, size_t errlen);

/* Every feed, by id, into a new array (free with free()); *n its length. */
int cc_feeds_list(cc_store_t *s, cc_feed_t **feeds, size_t *n);

/* One feed by id; CC_ENOTFOUND if none. */
int cc_feeds_get(cc_store_t *s, int64_t id, cc_feed_t *out);

/* Revoke a feed at now_utc: its token stops working at once (every lookup
 * reads the database). CC_ENOTFOUND for no such feed, CC_ESTATE if it was
 * revoked already; err says which. */
int cc_feeds_revoke(cc_store_t *s, int64_t id, const char *now_utc, char *err, size_t errlen);

/* The live feed whose token is token. CC_ENOTFOUND, alike, for a malformed,
 * unknown or revoked token. */
int cc_feeds_lookup(cc_store_t *s, const char *token, cc_feed_t *out);

/* The same from the token's hash (cc_feeds_token_hash), for a caller that
 * keys a cache by hash; except that a revoked feed's token gives CC_ESTATE
 * (with *out set, revoked_at filled), so that the server can answer it with
 * an empty calendar (docs/feeds.md, "Revoking"): only the holder of the
 * URL can ask, and a revoked token is worth nothing. */
int cc_feeds_lookup_hash(cc_store_t *s, const char *hash, cc_feed_t *out);

/* Record count fetches of feed id, the last at at_utc (count > 1 lets a
 * server batch them). CC_ENOTFOUND if there is no such feed. */
int cc_feeds_record_access(cc_store_t *s, int64_t id, const char *at_utc, int64_t count);

/* The subscription URL of token: config->public_url (without a trailing
 * slash) if set, else "http://" + config->listen; then "/feeds/<token>.ics".
 * Returns the length needed (as snprintf), or -1. */
int cc_feeds_url(const cc_config_t *config, const char *token, char *buf, size_t len);

/* The clock rows of one feed, owning their strings. */
typedef struct {
    char *name;              /* the calendar's name: "careclock: East team" */
    cc_ics_clock_t *items;
    size_t len;
    char *strings;           /* one block holding every string of items */
    size_t names_not_shown;  /* names over CC_NAME_MAX characters left out (rows, and the calendar's name) */
} cc_feed_clocks_t;

/* Load what the feed of (kind, target_id) shows into out (free with
 * cc_feeds_clocks_free): clocks with a due date, not data_error, and, of
 * the met, met late and cancelled ones, only those done on or after
 * done_since (CC_DATE_NONE: all). Full names are loaded only when with_names.
 * A name over CC_NAME_MAX characters (another system wrote it) is left out
 * (NULL; the calendar is named after target_id) and counted in
 * out->names_not_shown.
 * CC_ENOTFOUND (err names it) when the team or staff member does not exist. */
int cc_feeds_load(cc_store_t *s, cc_feed_kind_t kind, const char *target_id, cc_date_t done_since, int with_names,
                  cc_feed_clocks_t *out, char *err, size_t errlen);
void cc_feeds_clocks_free(cc_feed_clocks_t *clocks);

/* Load and render the feed of (kind, target_id) as of today under config
 * (privacy, time zone, TTL, retention, public_url) with the overdue clocks
 * also on today (working days on cal; NULL: calendar days), appending the
 * calendar to out.
 * info may be NULL. The clocks table is read as it stands: refresh it first
 * (cc_evaluate_refresh) when it may be stale. */
int cc_feeds_render(cc_store_t *s, cc_feed_kind_t kind, const char *target_id, const cc_config_t *config,
                    const cc_calendar_t *cal, cc_date_t today, cc_buf_t *out, cc_ics_info_t *info, char *err,
                    size_t errlen);

#endif
