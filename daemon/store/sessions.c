/* The dashboard's sign-in links, sessions and audit. See
 * include/careclock/sessions.h.
 *
 * Design notes:
 *  - A token reaches this module only to be hashed: the tables hold the
 *    SHA-256, found through their unique index and compared again with
 *    CRYPTO_memcmp, as feeds.c does for feed tokens.
 *  - A link is used up in the transaction that starts its session: two
 *    requests with one link cannot both get a session (the second finds it
 *    used: the UPDATE's WHERE used_at IS NULL and its change count decide).
 *  - A session idle for too long is ended when next presented, so the
 *    table says why it ended; one past its absolute expiry is simply not
 *    found (and pruned later).
 */
#include "careclock/sessions.h"
#include "careclock/error.h"
#include "careclock/time.h"
#include "store/internal.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

enum {
    ST_AUDIT,
    ST_SIGNIN_COUNT,
    ST_SIGNIN_INSERT,
    ST_SIGNIN_GET,
    ST_SIGNIN_USE,
    ST_SESSION_INSERT,
    ST_SESSION_GET,
    ST_SESSION_SEEN,
    ST_SESSION_END,
    ST_PRUNE_SIGNIN,
    ST_PRUNE_SESSIONS,
    ST_COUNT
};

static const char *const SQL[] = {
    [ST_AUDIT] = "INSERT INTO web_audit (at, staff_id, action, target, outcome, detail, client, via) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, coalesce(?8, ''))",
    [ST_SIGNIN_COUNT] = "SELECT count(*) FROM web_signin WHERE staff_id = ?1 AND created_at >= ?2",
    [ST_SIGNIN_INSERT] = "INSERT INTO web_signin (token_hash, staff_id, created_at, expires_at, next_path, client) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_SIGNIN_GET] = "SELECT id, token_hash, staff_id, expires_at, used_at, coalesce(next_path, '') FROM web_signin "
                      "WHERE token_hash = ?1",
    [ST_SIGNIN_USE] = "UPDATE web_signin SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL",
    [ST_SESSION_INSERT] = "INSERT INTO web_sessions (token_hash, staff_id, created_at, last_seen_at, expires_at, "
                          "client) VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
    [ST_SESSION_GET] = "SELECT id, token_hash, staff_id, created_at, last_seen_at, expires_at FROM web_sessions "
                       "WHERE token_hash = ?1 AND ended_at IS NULL",
    [ST_SESSION_SEEN] = "UPDATE web_sessions SET last_seen_at = ?2 WHERE id = ?1",
    [ST_SESSION_END] = "UPDATE web_sessions SET ended_at = ?2, ended_why = ?3 WHERE id = ?1 AND ended_at IS NULL",
    [ST_PRUNE_SIGNIN] = "DELETE FROM web_signin WHERE expires_at < ?1",
    [ST_PRUNE_SESSIONS] = "DELETE FROM web_sessions WHERE coalesce(ended_at, expires_at) < ?1",
};

_Static_assert(sizeof(SQL) / sizeof(SQL[0]) == ST_COUNT, "one SQL text per statement of the enum");

static sqlite3_stmt *stmt(cc_store_t *s, int which)
{
    assert(which >= 0 && which < ST_COUNT && SQL[which] != NULL);
    return cc__store_stmt(s, SQL[which]);
}

static const char *utc(time_t t, char buf[32])
{
    return cc_time_format_utc(t, buf, 32);
}

static int audit_row(cc_store_t *s, const cc_web_audit_t *a, time_t now)
{
    char at[32];
    sqlite3_stmt *st = stmt(s, ST_AUDIT);
    if (st == NULL || cc__store_bind_text(st, 1, utc(now, at)) || cc__store_bind_text(st, 2, a->staff_id) ||
        cc__store_bind_text(st, 3, a->action) || cc__store_bind_text(st, 4, a->target) ||
        cc__store_bind_text(st, 5, a->outcome) || cc__store_bind_text(st, 6, a->detail) ||
        cc__store_bind_text(st, 7, a->client) || cc__store_bind_text(st, 8, a->via))
        return CC_EDB;
    return cc__store_run(st);
}

int cc_web_audit(cc_store_t *s, const cc_web_audit_t *a, time_t now)
{
    assert(s != NULL && a != NULL && a->action != NULL && a->outcome != NULL);
    char err[256];
    int own, rc = cc__store_write_begin(s, &own, err, sizeof(err));
    if (rc != 0)
        return rc;
    rc = audit_row(s, a, now);
    return cc__store_write_end(s, own, rc, err, sizeof(err));
}

int cc_signin_count_since(cc_store_t *s, const char *staff_id, time_t since, size_t *n)
{
    assert(s != NULL && staff_id != NULL && n != NULL);
    char at[32];
    *n = 0;
    sqlite3_stmt *st = stmt(s, ST_SIGNIN_COUNT);
    if (st == NULL || cc__store_bind_text(st, 1, staff_id) || cc__store_bind_text(st, 2, utc(since, at)))
        return CC_EDB;
    int step = cc__store_step(st);
    if (step == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 0 : CC_EDB;
}

int cc_signin_create(cc_store_t *s, const char *staff_id, time_t now, int minutes, const char *next_path,
                     const cc_web_audit_t *audit, char token[CC_SESSION_TOKEN_LEN + 1])
{
    assert(s != NULL && staff_id != NULL && audit != NULL && token != NULL && minutes > 0);
    char hash[CC_FEED_HASH_LEN + 1], created[32], expires[32], err[256];
    int rc = cc_feeds_token_new(token);
    if (rc == 0)
        rc = cc_feeds_token_hash(token, hash);
    if (rc != 0)
        return CC_EIO;
    int own;
    if ((rc = cc__store_write_begin(s, &own, err, sizeof(err))) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, ST_SIGNIN_INSERT);
    if (st == NULL || cc__store_bind_text(st, 1, hash) || cc__store_bind_text(st, 2, staff_id) ||
        cc__store_bind_text(st, 3, utc(now, created)) ||
        cc__store_bind_text(st, 4, utc(now + (time_t)minutes * 60, expires)) ||
        cc__store_bind_text(st, 5, next_path && next_path[0] ? next_path : NULL) ||
        cc__store_bind_text(st, 6, audit->client) || cc__store_run(st) != 0)
        rc = CC_EDB;
    if (rc == 0)
        rc = audit_row(s, audit, now);
    rc = cc__store_write_end(s, own, rc, err, sizeof(err));
    if (rc != 0)
        OPENSSL_cleanse(token, CC_SESSION_TOKEN_LEN + 1);
    return rc;
}

/* The hash of token, or CC_ENOTFOUND when it is not a token's shape. */
static int hash_of(const char *token, char hash[CC_FEED_HASH_LEN + 1])
{
    return cc_feeds_token_hash(token, hash) == 0 ? 0 : CC_ENOTFOUND;
}

int cc_signin_redeem(cc_store_t *s, const char *token, time_t now, int session_hours, const char *client,
                     cc_signin_result_t *result, char session[CC_SESSION_TOKEN_LEN + 1],
                     char staff_id[CC_ID_MAX + 1], char *next_path, size_t next_len)
{
    assert(s != NULL && result != NULL && session != NULL && staff_id != NULL && next_path != NULL &&
           next_len > 0 && session_hours > 0);
    char hash[CC_FEED_HASH_LEN + 1], at[32], expires[32], shash[CC_FEED_HASH_LEN + 1], err[256];
    int64_t id = 0;
    const char *outcome = "unknown";
    *result = CC_SIGNIN_UNKNOWN;
    session[0] = staff_id[0] = next_path[0] = '\0';
    int own, rc = cc__store_write_begin(s, &own, err, sizeof(err));
    if (rc != 0)
        return rc;
    if (hash_of(token, hash) == 0) {
        sqlite3_stmt *st = stmt(s, ST_SIGNIN_GET);
        if (st == NULL || cc__store_bind_text(st, 1, hash)) {
            rc = CC_EDB;
        } else {
            int step = cc__store_step(st);
            const char *stored = cc__store_col(st, 1);
            if (step == SQLITE_ROW && stored != NULL && strlen(stored) == CC_FEED_HASH_LEN &&
                CRYPTO_memcmp(stored, hash, CC_FEED_HASH_LEN) == 0) {
                id = sqlite3_column_int64(st, 0);
                snprintf(staff_id, CC_ID_MAX + 1, "%s", cc__store_col(st, 2) ? cc__store_col(st, 2) : "");
                snprintf(next_path, next_len, "%s", cc__store_col(st, 5));
                time_t exp = cc_time_parse_utc(cc__store_col(st, 3));
                if (cc__store_col(st, 4) != NULL) {
                    *result = CC_SIGNIN_USED;
                    outcome = "used";
                } else if (exp == (time_t)-1 || now >= exp) {
                    *result = CC_SIGNIN_EXPIRED;
                    outcome = "expired";
                } else {
                    *result = CC_SIGNIN_OK;
                    outcome = "ok";
                }
            } else if (step != SQLITE_ROW && step != SQLITE_DONE) {
                rc = CC_EDB;
            }
            sqlite3_reset(st);
        }
    }
    if (rc == 0 && *result == CC_SIGNIN_OK) {
        /* Used up here; a concurrent redeemer finds the row used. */
        sqlite3_stmt *st = stmt(s, ST_SIGNIN_USE);
        if (st == NULL || sqlite3_bind_int64(st, 1, id) || cc__store_bind_text(st, 2, utc(now, at)) ||
            cc__store_run(st) != 0)
            rc = CC_EDB;
        else if (sqlite3_changes(cc_store_db(s)) != 1)
            *result = CC_SIGNIN_USED, outcome = "used";
    }
    if (rc == 0 && *result == CC_SIGNIN_OK) {
        if (cc_feeds_token_new(session) != 0 || cc_feeds_token_hash(session, shash) != 0) {
            rc = CC_EIO;
        } else {
            sqlite3_stmt *st = stmt(s, ST_SESSION_INSERT);
            if (st == NULL || cc__store_bind_text(st, 1, shash) || cc__store_bind_text(st, 2, staff_id) ||
                cc__store_bind_text(st, 3, utc(now, at)) ||
                cc__store_bind_text(st, 4, utc(now + (time_t)session_hours * 3600, expires)) ||
                cc__store_bind_text(st, 5, client) || cc__store_run(st) != 0)
                rc = CC_EDB;
        }
    }
    if (rc == 0) {
        cc_web_audit_t a = {.staff_id = staff_id[0] ? staff_id : NULL, .action = "signin", .outcome = outcome,
                            .detail = *result == CC_SIGNIN_OK ? "a sign-in link was used: session started" : NULL,
                            .client = client, .via = "email"};
        rc = audit_row(s, &a, now);
    }
    rc = cc__store_write_end(s, own, rc, err, sizeof(err));
    if (rc != 0 || *result != CC_SIGNIN_OK) {
        OPENSSL_cleanse(session, CC_SESSION_TOKEN_LEN + 1);
        session[0] = '\0';
        if (*result != CC_SIGNIN_OK)
            next_path[0] = '\0';
    }
    return rc;
}

/* End session id (why), audited, inside the caller's write. */
static int end_session(cc_store_t *s, int64_t id, const char *staff_id, time_t now, const char *why,
                       const char *client)
{
    char at[32];
    sqlite3_stmt *st = stmt(s, ST_SESSION_END);
    if (st == NULL || sqlite3_bind_int64(st, 1, id) || cc__store_bind_text(st, 2, utc(now, at)) ||
        cc__store_bind_text(st, 3, why) || cc__store_run(st) != 0)
        return CC_EDB;
    cc_web_audit_t a = {.staff_id = staff_id, .action = "signout", .outcome = why, .client = client,
                        .via = "email"};
    return audit_row(s, &a, now);
}

/* The session row of hash into *out: 1, 0, CC_EDB. */
static int find_session(cc_store_t *s, const char *hash, cc_session_t *out)
{
    sqlite3_stmt *st = stmt(s, ST_SESSION_GET);
    if (st == NULL || cc__store_bind_text(st, 1, hash))
        return CC_EDB;
    int step = cc__store_step(st), rc = step == SQLITE_DONE ? 0 : step == SQLITE_ROW ? 1 : CC_EDB;
    const char *stored = rc == 1 ? cc__store_col(st, 1) : NULL;
    if (rc == 1 && (stored == NULL || strlen(stored) != CC_FEED_HASH_LEN ||
                    CRYPTO_memcmp(stored, hash, CC_FEED_HASH_LEN) != 0))
        rc = 0;
    if (rc == 1) {
        memset(out, 0, sizeof(*out));
        out->id = sqlite3_column_int64(st, 0);
        snprintf(out->staff_id, sizeof(out->staff_id), "%s", cc__store_col(st, 2) ? cc__store_col(st, 2) : "");
        out->created = cc_time_parse_utc(cc__store_col(st, 3));
        out->last_seen = cc_time_parse_utc(cc__store_col(st, 4));
        out->expires = cc_time_parse_utc(cc__store_col(st, 5));
    }
    sqlite3_reset(st);
    return rc;
}

int cc_session_get(cc_store_t *s, const char *token, time_t now, int idle_minutes, const char *client,
                   cc_session_t *out)
{
    assert(s != NULL && out != NULL && idle_minutes > 0);
    char hash[CC_FEED_HASH_LEN + 1], at[32], err[256];
    if (token == NULL || hash_of(token, hash) != 0)
        return 0;
    int rc = find_session(s, hash, out);
    if (rc != 1)
        return rc;
    if (out->expires == (time_t)-1 || now >= out->expires)
        return 0;
    int idle = out->last_seen == (time_t)-1 || now - out->last_seen >= (time_t)idle_minutes * 60;
    if (!idle && now - out->last_seen < 60)
        return 1;
    int own;
    if ((rc = cc__store_write_begin(s, &own, err, sizeof(err))) != 0)
        return rc;
    if (idle) {
        rc = end_session(s, out->id, out->staff_id, now, "idle", client);
    } else {
        sqlite3_stmt *st = stmt(s, ST_SESSION_SEEN);
        if (st == NULL || sqlite3_bind_int64(st, 1, out->id) || cc__store_bind_text(st, 2, utc(now, at)) ||
            cc__store_run(st) != 0)
            rc = CC_EDB;
        out->last_seen = now;
    }
    rc = cc__store_write_end(s, own, rc, err, sizeof(err));
    return rc != 0 ? rc : idle ? 0 : 1;
}

int cc_session_end(cc_store_t *s, const char *token, time_t now, const char *client)
{
    assert(s != NULL);
    char hash[CC_FEED_HASH_LEN + 1], err[256];
    cc_session_t found;
    if (token == NULL || hash_of(token, hash) != 0)
        return 0;
    int own, rc = cc__store_write_begin(s, &own, err, sizeof(err));
    if (rc != 0)
        return rc;
    rc = find_session(s, hash, &found);
    if (rc == 1)
        rc = end_session(s, found.id, found.staff_id, now, "signed out", client);
    return cc__store_write_end(s, own, rc < 0 ? rc : 0, err, sizeof(err));
}

int cc_sessions_prune(cc_store_t *s, time_t before, size_t *deleted)
{
    assert(s != NULL);
    char at[32], err[256];
    size_t n = 0;
    int own, rc = cc__store_write_begin(s, &own, err, sizeof(err));
    if (rc != 0)
        return rc;
    for (int which = ST_PRUNE_SIGNIN; rc == 0 && which <= ST_PRUNE_SESSIONS; which++) {
        sqlite3_stmt *st = stmt(s, which);
        if (st == NULL || cc__store_bind_text(st, 1, utc(before, at)) || cc__store_run(st) != 0)
            rc = CC_EDB;
        else
            n += (size_t)sqlite3_changes(cc_store_db(s));
    }
    rc = cc__store_write_end(s, own, rc, err, sizeof(err));
    if (deleted != NULL)
        *deleted = rc == 0 ? n : 0;
    return rc;
}
