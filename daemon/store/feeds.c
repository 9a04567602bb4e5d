/* Calendar feeds: subscriptions and the rows each feed shows. See feeds.h.
 *
 * Design note: the token never touches the database or a log. It is made
 * here, handed to the caller once, and from then on only its SHA-256 is
 * used: to store, to look up (an index on the hash), to compare
 * (CRYPTO_memcmp on the hash). A token that is malformed, unknown or
 * revoked gives the same CC_ENOTFOUND.
 */
#include "careclock/feeds.h"
#include "careclock/clocks.h"
#include "careclock/error.h"
#include "careclock/people.h"
#include "store/internal.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HEX[] = "0123456789abcdef";

const char *cc_feed_kind_name(cc_feed_kind_t kind)
{
    return kind == CC_FEED_TEAM ? "team" : "staff";
}

static void to_hex(const unsigned char *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[bytes[i] >> 4];
        out[2 * i + 1] = HEX[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

int cc_feeds_token_new(char token[CC_FEED_TOKEN_LEN + 1])
{
    unsigned char bytes[CC_FEED_TOKEN_BYTES];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1)
        return CC_EIO;
    to_hex(bytes, sizeof(bytes), token);
    OPENSSL_cleanse(bytes, sizeof(bytes));
    return 0;
}

int cc_feeds_token_hash(const char *token, char hash[CC_FEED_HASH_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (token == NULL || strlen(token) != CC_FEED_TOKEN_LEN)
        return CC_EINVAL;
    for (const char *p = token; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return CC_EINVAL;
    if (EVP_Digest(token, CC_FEED_TOKEN_LEN, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return CC_ENOMEM;
    to_hex(md, mdlen, hash);
    return 0;
}

static int prepare(cc_store_t *s, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(cc_store_db(s), sql, -1, st, NULL) == SQLITE_OK ? 0 : CC_EDB;
}

/* ---- the feeds table ---- */

#define FEED_COLUMNS "id, kind, target_id, created_at, revoked_at, last_access_at, access_count, token_hash"

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t len)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    snprintf(out, len, "%s", t ? t : "");
}

static void read_feed(sqlite3_stmt *st, cc_feed_t *f)
{
    memset(f, 0, sizeof(*f));
    f->id = sqlite3_column_int64(st, 0);
    const char *kind = (const char *)sqlite3_column_text(st, 1);
    f->kind = kind != NULL && strcmp(kind, "team") == 0 ? CC_FEED_TEAM : CC_FEED_STAFF;
    copy_col(st, 2, f->target_id, sizeof(f->target_id));
    copy_col(st, 3, f->created_at, sizeof(f->created_at));
    copy_col(st, 4, f->revoked_at, sizeof(f->revoked_at));
    copy_col(st, 5, f->last_access_at, sizeof(f->last_access_at));
    f->access_count = sqlite3_column_int64(st, 6);
}

int cc_feeds_add(cc_store_t *s, cc_feed_kind_t kind, const char *target_id, char token[CC_FEED_TOKEN_LEN + 1],
                 int64_t *id, char *err, size_t errlen)
{
    assert(s != NULL && token != NULL);
    char hash[CC_FEED_HASH_LEN + 1];
    sqlite3_stmt *st = NULL;
    const char *what = kind == CC_FEED_TEAM ? "team" : "staff member";
    if (target_id == NULL || target_id[0] == '\0') {
        cc_set_err(err, errlen, "no %s given", what);
        return CC_EINVAL;
    }
    int exists = kind == CC_FEED_TEAM ? cc_store_team_exists(s, target_id) : cc_store_staff_exists(s, target_id);
    if (exists < 0) {
        cc_set_err(err, errlen, "database error: %s", cc_store_errmsg(s, NULL));
        return CC_EDB;
    }
    if (exists == 0) {
        cc_set_err(err, errlen, "%s \"%s\" does not exist", what, target_id);
        return CC_ENOTFOUND;
    }
    int rc = cc_feeds_token_new(token);
    if (rc != 0) {
        cc_set_err(err, errlen, "no randomness available for a token");
        return rc;
    }
    if ((rc = cc_feeds_token_hash(token, hash)) != 0)
        goto out;
    if ((rc = prepare(s, "INSERT INTO feeds (kind, target_id, token_hash) VALUES (?1, ?2, ?3)", &st)) != 0)
        goto out;
    sqlite3_bind_text(st, 1, cc_feed_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, target_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
    rc = cc__store_step(st) == SQLITE_DONE ? 0 : CC_EDB;
    if (rc == 0 && id != NULL)
        *id = sqlite3_last_insert_rowid(cc_store_db(s));
out:
    if (rc != 0) {
        cc_set_err(err, errlen, "could not create the feed: %s", cc_store_errmsg(s, NULL));
        OPENSSL_cleanse(token, CC_FEED_TOKEN_LEN + 1);
    }
    sqlite3_finalize(st);
    return rc;
}

int cc_feeds_list(cc_store_t *s, cc_feed_t **feeds, size_t *n)
{
    assert(s != NULL && feeds != NULL && n != NULL);
    sqlite3_stmt *st = NULL;
    cc_feed_t *items = NULL;
    size_t len = 0, cap = 0;
    int step, rc;
    *feeds = NULL;
    *n = 0;
    if ((rc = prepare(s, "SELECT " FEED_COLUMNS " FROM feeds ORDER BY id", &st)) != 0)
        return rc;
    while ((step = cc__store_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            size_t grown_cap = cap ? 2 * cap : 16;
            cc_feed_t *grown = realloc(items, grown_cap * sizeof(*items));
            if (grown == NULL) {
                rc = CC_ENOMEM;
                break;
            }
            items = grown;
            cap = grown_cap;
        }
        read_feed(st, &items[len++]);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    if (rc != 0) {
        free(items);
        return rc;
    }
    *feeds = items;
    *n = len;
    return 0;
}

int cc_feeds_get(cc_store_t *s, int64_t id, cc_feed_t *out)
{
    assert(s != NULL && out != NULL);
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, "SELECT " FEED_COLUMNS " FROM feeds WHERE id = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    int step = cc__store_step(st);
    if (step == SQLITE_ROW)
        read_feed(st, out);
    rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? CC_ENOTFOUND : CC_EDB;
    sqlite3_finalize(st);
    return rc;
}

int cc_feeds_revoke(cc_store_t *s, int64_t id, const char *now_utc, char *err, size_t errlen)
{
    assert(s != NULL && now_utc != NULL);
    sqlite3_stmt *st = NULL;
    char idtext[32];
    snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
    int rc = prepare(s, "UPDATE feeds SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, now_utc, -1, SQLITE_STATIC);
    rc = cc__store_step(st) == SQLITE_DONE ? 0 : CC_EDB;
    sqlite3_finalize(st);
    if (rc != 0) {
        cc_set_err(err, errlen, "database error: %s", cc_store_errmsg(s, NULL));
        return rc;
    }
    if (sqlite3_changes(cc_store_db(s)) == 1)
        return 0;
    cc_feed_t f;
    rc = cc_feeds_get(s, id, &f);
    if (rc == CC_ENOTFOUND)
        cc_set_err(err, errlen, "feed %s does not exist", idtext);
    else if (rc == 0) {
        cc_set_err(err, errlen, "feed %s was revoked already, at %s", idtext, f.revoked_at);
        rc = CC_ESTATE;
    }
    return rc;
}

int cc_feeds_lookup_hash(cc_store_t *s, const char *hash, cc_feed_t *out)
{
    assert(s != NULL && out != NULL);
    sqlite3_stmt *st = NULL;
    if (hash == NULL || strlen(hash) != CC_FEED_HASH_LEN)
        return CC_ENOTFOUND;
    int rc = prepare(s, "SELECT " FEED_COLUMNS " FROM feeds WHERE token_hash = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, hash, CC_FEED_HASH_LEN, SQLITE_STATIC);
    int step = cc__store_step(st);
    rc = CC_ENOTFOUND;
    if (step == SQLITE_ROW) {
        const char *stored = (const char *)sqlite3_column_text(st, 7);
        int same = stored != NULL && sqlite3_column_bytes(st, 7) == CC_FEED_HASH_LEN &&
                   CRYPTO_memcmp(stored, hash, CC_FEED_HASH_LEN) == 0;
        if (same) {
            read_feed(st, out);
            rc = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : CC_ESTATE;
        }
    } else if (step != SQLITE_DONE) {
        rc = CC_EDB;
    }
    sqlite3_finalize(st);
    return rc;
}

int cc_feeds_lookup(cc_store_t *s, const char *token, cc_feed_t *out)
{
    char hash[CC_FEED_HASH_LEN + 1];
    int rc = cc_feeds_token_hash(token, hash);
    if (rc == CC_EINVAL)
        return CC_ENOTFOUND;
    rc = rc != 0 ? rc : cc_feeds_lookup_hash(s, hash, out);
    return rc == CC_ESTATE ? CC_ENOTFOUND : rc;
}

int cc_feeds_record_access(cc_store_t *s, int64_t id, const char *at_utc, int64_t count)
{
    assert(s != NULL && at_utc != NULL && count > 0);
    sqlite3_stmt *st = NULL;
    int rc = prepare(s,
                     "UPDATE feeds SET last_access_at = ?2, access_count = access_count + ?3 WHERE id = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, at_utc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, count);
    rc = cc__store_step(st) == SQLITE_DONE ? 0 : CC_EDB;
    sqlite3_finalize(st);
    if (rc == 0 && sqlite3_changes(cc_store_db(s)) != 1)
        rc = CC_ENOTFOUND;
    return rc;
}

int cc_feeds_url(const cc_config_t *config, const char *token, char *buf, size_t len)
{
    if (config->public_url != NULL && config->public_url[0] != '\0') {
        size_t n = strlen(config->public_url);
        while (n > 0 && config->public_url[n - 1] == '/')
            n--;
        return snprintf(buf, len, "%.*s/feeds/%s.ics", (int)n, config->public_url, token);
    }
    return snprintf(buf, len, "http://%s/feeds/%s.ics", config->listen ? config->listen : "127.0.0.1:8787", token);
}

/* ---- a feed's clocks ---- */

/* String fields of a row kept while loading, as offsets into one block
 * (pointers are set once the block stops moving). */
enum { S_CHILD, S_INITIALS, S_NAME, S_RULE, S_TITLE, S_SOURCE, S_START_EVENT, S_REASON, S_WORKER, S_UPDATED,
       S_INSTANCE, NSTR };
#define NO_STRING ((size_t)-1)

void cc_feeds_clocks_free(cc_feed_clocks_t *clocks)
{
    if (clocks == NULL)
        return;
    free(clocks->name);
    free(clocks->items);
    free(clocks->strings);
    memset(clocks, 0, sizeof(*clocks));
}

/* Characters of UTF-8 text, counting no further than max + 1. */
static size_t chars_upto(const char *text, size_t max)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0' && n <= max; p++)
        n += (*p & 0xc0) != 0x80;
    return n;
}

/* The calendar's name: "careclock: " and the team's or person's name, or
 * their id when the name is over CC_NAME_MAX characters (*over counts it). */
static int load_name(cc_store_t *s, cc_feed_kind_t kind, const char *target_id, char **name, size_t *over,
                     char *err, size_t errlen)
{
    char *n = NULL;
    int found = kind == CC_FEED_TEAM ? cc_store_team_name(s, target_id, &n) : cc_store_staff_name(s, target_id, &n);
    int rc = found < 0 ? found : 0;
    if (n != NULL && chars_upto(n, CC_NAME_MAX) > CC_NAME_MAX) {
        free(n);
        n = NULL;
        (*over)++;
    }
    if (found == 1) {
        size_t len = strlen("careclock: ") + strlen(n ? n : target_id) + 1;
        *name = malloc(len);
        if (*name == NULL)
            rc = CC_ENOMEM;
        else
            snprintf(*name, len, "careclock: %s", n ? n : target_id);
    } else if (found == 0) {
        cc_set_err(err, errlen, "%s \"%s\" does not exist", kind == CC_FEED_TEAM ? "team" : "staff member", target_id);
        rc = CC_ENOTFOUND;
    }
    free(n);
    return rc;
}

/* The feed's rows as they stream in: the items, and their strings in one
 * block by offset. */
typedef struct {
    cc_feed_clocks_t *out;
    cc_buf_t block;
    size_t (*offsets)[NSTR];
    size_t cap;
} loading_t;

static int load_row(void *arg, const cc_clock_row_t *row)
{
    loading_t *l = arg;
    cc_feed_clocks_t *out = l->out;
    int parsed = row->status ? cc_status_parse(row->status) : -1;
    if (parsed < 0)
        return 0; /* a status this build does not know: nothing sensible to show */
    if (out->len == l->cap) {
        size_t grown_cap = l->cap ? 2 * l->cap : 64;
        cc_ics_clock_t *items = realloc(out->items, grown_cap * sizeof(*items));
        if (items != NULL)
            out->items = items;
        size_t(*offs)[NSTR] = items ? realloc(l->offsets, grown_cap * sizeof(*offs)) : NULL;
        if (items == NULL || offs == NULL)
            return CC_ENOMEM;
        l->offsets = offs;
        l->cap = grown_cap;
    }
    const char *const strings[NSTR] = {row->child_id, row->initials, row->full_name,        row->rule_id,
                                       row->title,    row->source,   row->start_event_type, row->reason,
                                       row->worker_name, row->updated_at, row->instance};
    cc_ics_clock_t *c = &out->items[out->len];
    memset(c, 0, sizeof(*c));
    for (int k = 0; k < NSTR; k++) {
        l->offsets[out->len][k] = strings[k] ? l->block.len : NO_STRING;
        if (strings[k] != NULL)
            cc_buf_append(&l->block, strings[k], strlen(strings[k]) + 1);
    }
    c->seq = row->seq;
    c->start = cc__store_date(row->start_date);
    c->due = cc__store_date(row->due_date);
    c->met_on = cc__store_date(row->met_on);
    c->agreed = cc__store_date(row->agreed_due);
    c->status = (cc_status_t)parsed;
    c->sequence = row->sequence;
    out->names_not_shown += (size_t)row->names_not_shown;
    out->len++;
    return 0;
}

int cc_feeds_load(cc_store_t *s, cc_feed_kind_t kind, const char *target_id, cc_date_t done_since, int with_names,
                  cc_feed_clocks_t *out, char *err, size_t errlen)
{
    loading_t l = {.out = out};
    int rc;
    assert(s != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    cc_buf_init(&l.block);
    if ((unsigned)kind > CC_FEED_STAFF || target_id == NULL)
        return CC_EINVAL;
    if ((rc = load_name(s, kind, target_id, &out->name, &out->names_not_shown, err, errlen)) != 0)
        goto out;
    rc = cc_clocks_feed_rows(s, kind == CC_FEED_TEAM ? CC_CLOCKS_OF_TEAM : CC_CLOCKS_OF_STAFF, target_id, done_since,
                             with_names, load_row, &l);
    if (rc != 0)
        goto out;
    if (l.block.failed) {
        rc = CC_ENOMEM;
        goto out;
    }
    /* The block no longer moves: turn offsets into pointers. */
    out->strings = l.block.data;
    cc_buf_init(&l.block);
    for (size_t i = 0; i < out->len; i++) {
        const char **fields[NSTR] = {&out->items[i].child_id,    &out->items[i].initials, &out->items[i].full_name,
                                     &out->items[i].rule_id,     &out->items[i].title,    &out->items[i].source,
                                     &out->items[i].start_event, &out->items[i].reason,   &out->items[i].worker_name,
                                     &out->items[i].updated_at, &out->items[i].instance};
        for (int k = 0; k < NSTR; k++)
            *fields[k] = l.offsets[i][k] == NO_STRING ? NULL : out->strings + l.offsets[i][k];
    }
    rc = 0;
out:
    if (rc == CC_EDB)
        cc_set_err(err, errlen, "database error: %s", cc_store_errmsg(s, NULL));
    else if (rc == CC_ENOMEM)
        cc_set_err(err, errlen, "out of memory");
    free(l.offsets);
    cc_buf_free(&l.block);
    if (rc != 0)
        cc_feeds_clocks_free(out);
    return rc;
}

int cc_feeds_render(cc_store_t *s, cc_feed_kind_t kind, const char *target_id, const cc_config_t *config,
                    const cc_calendar_t *cal, cc_date_t today, cc_buf_t *out, cc_ics_info_t *info, char *err,
                    size_t errlen)
{
    assert(s != NULL && config != NULL && out != NULL);
    cc_feed_clocks_t clocks;
    int retention = config->feed_retention_days > 0 ? config->feed_retention_days : 0;
    int rc = cc_feeds_load(s, kind, target_id, today - retention, config->privacy == CC_PRIVACY_FULL, &clocks, err,
                           errlen);
    if (rc != 0)
        return rc;
    cc_ics_feed_t feed = {.name = clocks.name,
                          .timezone = config->timezone,
                          .ttl_minutes = config->feed_ttl_minutes,
                          .privacy = config->privacy,
                          .url = NULL,
                          .today = today,
                          .retention_days = retention,
                          .overdue_today = 1,
                          .cal = cal,
                          .public_url = config->public_url};
    rc = cc_ics_render(&feed, clocks.items, clocks.len, out, info, err, errlen);
    if (info != NULL)
        info->names_not_shown = clocks.names_not_shown;
    cc_feeds_clocks_free(&clocks);
    return rc;
}
