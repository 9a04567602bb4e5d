/* Evaluation: database in, engine, database out. See evaluate.h.
 *
 * This file is the incremental evaluation: the context every evaluation
 * runs in, the digests, the write-back, the children named (the change
 * queue's) one at a time, and refresh. reader.c reads every child for a
 * full recompute; first.c runs one, and the first computation into an
 * empty clocks table (evaluation.h holds what the three share).
 *
 * Write-back compares the new instances of a child with the rows it has
 * and touches only what differs, so updated_at means "last changed" and a
 * recompute of an unchanged child writes nothing.
 *
 * What keeps a full recompute of a large council quick (bench/RESULTS.md,
 * "Scale"):
 *  - Every child and every event come from two ordered reads merged in C
 *    (children by id; events by child from the covering events_by_child
 *    index), not a query per child; a reader thread on its own connection
 *    does that while this thread runs the engine (reader.c, first.c's
 *    evaluate_stream).
 *  - clock_digests holds a 64-bit digest of each child's rows as last
 *    written; a child whose fresh clocks have the same digest is neither
 *    read back nor written. Only the children whose clocks changed (a new
 *    day moves some statuses) cost a read and a write.
 *  - Filling an empty clocks table drops its secondary index and makes it
 *    again at the end, committing every 250,000 rows on the way (first.c:
 *    bulk_begin, commit_and_go_on, indexes_repair).
 *  - Statements are prepared once per call; buffers are reused from child
 *    to child; a full recompute runs with a 64 MiB page cache.
 */
#include "store/evaluation.h"
#include "careclock/changes.h"
#include "careclock/error.h"
#include "careclock/time.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- loading ---- */

void cc_evaluate_child_free(cc_eval_child_t *child)
{
    free(child->events);
    free(child->strings);
    cc_decisions_free(&child->decisions);
    memset(child, 0, sizeof(*child));
}

static size_t col_len(sqlite3_stmt *st, int col)
{
    return (size_t)sqlite3_column_bytes(st, col) + 1;
}

static char *put(char **cursor, sqlite3_stmt *st, int col)
{
    const unsigned char *text = sqlite3_column_text(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    char *dst = *cursor;
    if (text != NULL)
        memcpy(dst, text, len);
    dst[len] = '\0';
    *cursor += len + 1;
    return dst;
}

int cc_evaluate_load_child(cc_store_t *store, const cc_ruleset_t *rs, const char *child_id, cc_eval_child_t *out)
{
    assert(store != NULL && rs != NULL && child_id != NULL && out != NULL);
    sqlite3 *db = cc_store_db(store);
    sqlite3_stmt *cst = NULL, *est = NULL;
    int rc = CC_EDB;
    size_t bytes = 0, n = 0;
    memset(out, 0, sizeof(*out));
    if (sqlite3_prepare_v2(db, "SELECT id, dob FROM children WHERE id = ?1", -1, &cst, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT id, type, date, attributes FROM events WHERE child_id = ?1 ORDER BY date, id",
                           -1, &est, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(cst, 1, child_id, -1, SQLITE_STATIC);
    int step = cc__store_step(cst);
    if (step == SQLITE_DONE) {
        rc = CC_ENOTFOUND;
        goto out;
    }
    if (step != SQLITE_ROW)
        goto out;
    bytes += col_len(cst, 0) + col_len(cst, 1);
    /* First pass sizes the block; second fills it. */
    sqlite3_bind_text(est, 1, child_id, -1, SQLITE_STATIC);
    while ((step = cc__store_step(est)) == SQLITE_ROW) {
        n++;
        bytes += col_len(est, 1) + col_len(est, 2) + col_len(est, 3);
    }
    if (step != SQLITE_DONE)
        goto out;
    out->strings = malloc(bytes);
    out->events = calloc(n ? n : 1, sizeof(cc_event_t));
    if (out->strings == NULL || out->events == NULL) {
        rc = CC_ENOMEM;
        goto out;
    }
    char *cursor = out->strings;
    out->child.id = put(&cursor, cst, 0);
    out->child.raw_dob = put(&cursor, cst, 1);
    if (cc_date_parse(out->child.raw_dob, &out->child.dob) != 0)
        out->child.dob = CC_DATE_NONE;
    sqlite3_reset(est);
    size_t i = 0;
    while (i < n && (step = cc__store_step(est)) == SQLITE_ROW) {
        cc_event_t *e = &out->events[i++];
        e->id = sqlite3_column_int64(est, 0);
        e->raw_type = put(&cursor, est, 1);
        e->raw_date = put(&cursor, est, 2);
        e->attrs = put(&cursor, est, 3);
        e->type = cc_ruleset_type_index(rs, e->raw_type);
        if (cc_date_parse(e->raw_date, &e->date) != 0)
            e->date = CC_DATE_NONE;
    }
    out->nevents = i;
    cc_decisions_init(&out->decisions);
    if ((rc = cc_decisions_of_child(store, out->child.id, &out->decisions)) != 0)
        goto out;
    out->child.decisions = out->decisions.items;
    out->child.ndecisions = out->decisions.n;
out:
    sqlite3_finalize(cst);
    sqlite3_finalize(est);
    if (rc != 0)
        cc_evaluate_child_free(out);
    return rc;
}

/* ---- the evaluation context ---- */

void cc__eval_free(cc__eval_t *x)
{
    sqlite3_finalize(x->existing);
    sqlite3_finalize(x->upsert);
    sqlite3_finalize(x->insert);
    sqlite3_finalize(x->remove);
    sqlite3_finalize(x->remove_child);
    sqlite3_finalize(x->child_get);
    sqlite3_finalize(x->events_get);
    sqlite3_finalize(x->digest_get);
    sqlite3_finalize(x->digest_set);
    sqlite3_finalize(x->digest_del);
    sqlite3_finalize(x->rekey);
    free(x->prov);
    cc__batch_free(&x->one);
    free(x->rows);
    free(x->rule_hash);
    free(x->rule_code);
    cc_clocks_free(&x->clocks);
    cc_decisions_free(&x->decisions);
    memset(x, 0, sizeof(*x));
}

/* ---- digests ---- */

/* Bump when the digest's inputs or the way a clock becomes a row change, so
 * that every stored digest stops matching and each child is compared row by
 * row once. */
#define DIGEST_VERSION 3

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v * 0x9e3779b97f4a7c15ULL;
    h = (h << 27) | (h >> 37);
    return h * 0xc2b2ae3d27d4eb4fULL + 0x165667b19e3779f9ULL;
}

static uint64_t mix_text(uint64_t h, const char *s)
{
    uint64_t f = 1469598103934665603ULL;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++, n++)
        f = (f ^ *p) * 1099511628211ULL;
    return mix(mix(h, f), n);
}

static uint64_t finish(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h == DIGEST_UNKNOWN ? 1 : h;
}

static const char DATA_ERROR_TITLE[] = "Child's data cannot be evaluated";

static int rule_hashes(cc__eval_t *x)
{
    size_t n = cc_ruleset_count(x->rs);
    x->rule_hash = malloc((n + 1) * sizeof(uint64_t));
    if (x->rule_hash == NULL)
        return CC_ENOMEM;
    x->rule_hash[0] = mix_text(mix_text(mix_text(DIGEST_VERSION, CC_DATA_ERROR_RULE), DATA_ERROR_TITLE), "");
    for (size_t i = 0; i < n; i++) {
        const cc_rule_t *r = cc_ruleset_rule(x->rs, i);
        x->rule_hash[i + 1] = mix_text(mix_text(mix_text(DIGEST_VERSION, r->id), r->title), r->source);
    }
    return 0;
}

/* A digest of every column the engine writes for a child's clocks: equal
 * digests mean equal rows (to the odds of a 64-bit collision). */
static uint64_t clocks_digest(const cc__eval_t *x, const cc_clocks_t *clocks)
{
    uint64_t h = mix(DIGEST_VERSION, clocks->len);
    for (size_t i = 0; i < clocks->len; i++) {
        const cc_clock_t *c = &clocks->items[i];
        h = mix(h, x->rule_hash[c->rule + 1]);
        h = mix(h, (uint64_t)(uint32_t)c->seq | (uint64_t)c->status << 32);
        h = mix(h, (uint64_t)(uint32_t)c->start | (uint64_t)(uint32_t)c->due << 32);
        h = mix(h, (uint64_t)(uint32_t)c->met_on | (uint64_t)c->flags << 32);
        h = mix(h, (uint64_t)c->start_event);
        h = mix(h, (uint64_t)c->met_event);
        h = mix(h, (uint64_t)c->key_event);
        h = mix(h, (uint64_t)(uint32_t)c->chain_index | (uint64_t)(uint32_t)c->left_care << 32);
        h = mix(h, (uint64_t)(uint32_t)(c->agreed_decision ? c->agreed : CC_DATE_NONE));
        if (c->reason[0] != '\0')
            h = mix_text(h, c->reason);
    }
    return finish(h);
}

/* ---- statements ---- */

int cc__eval_init(cc__eval_t *x, cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal,
                  cc_date_t today, const char *now_utc, cc_eval_stats_t *stats)
{
    assert(x != NULL && store != NULL && rs != NULL && cal != NULL && now_utc != NULL && stats != NULL);
    memset(x, 0, sizeof(*x));
    x->store = store;
    x->db = cc_store_db(store);
    x->rs = rs;
    x->cal = cal;
    x->today = today;
    x->now_utc = now_utc;
    x->stats = stats;
    x->types.rs = rs;
    cc_clocks_init(&x->clocks);
    /* In the order the engine gives them (by rule, then seq) as far as it
     * can: find_row's hint then finds each at once. Columns 0, 1, 3, 7 and
     * 12 are those note_provisional reads. */
    const char *existing =
        "SELECT r.rule_id, c.seq, c.rule, c.start_day, c.due_day, c.status, c.met_day, c.start_event_id, "
        "c.met_event_id, c.reason, c.flags, c.title IS NULL AND c.source IS NULL, c.instance, c.left_care_day, "
        "c.agreed_day "
        "FROM clock_rows c CROSS JOIN clock_rules r ON r.code = c.rule WHERE c.child_id = ?1 ORDER BY c.rule, c.seq";
    /* A row is its instance (child, rule, instance): a new seq (history
     * recorded before it) updates the row, keeping its sequence. A row's
     * own title and source (a hand's edit) go: the engine's rows have their
     * rule's. */
#define ROW_INSERT                                                                                                \
    "INSERT INTO clock_rows (child_id, rule, instance, seq, status, start_day, due_day, met_day, start_event_id, " \
    "met_event_id, flags, reason, left_care_day, updated, agreed_day) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, " \
    "?10, ?11, ?12, ?13, ?14, ?15)"
    const char *upsert =
        ROW_INSERT " ON CONFLICT (child_id, rule, instance) DO UPDATE SET seq = excluded.seq, status = "
        "excluded.status, start_day = excluded.start_day, due_day = excluded.due_day, met_day = excluded.met_day, "
        "start_event_id = excluded.start_event_id, met_event_id = excluded.met_event_id, flags = excluded.flags, "
        "reason = excluded.reason, left_care_day = excluded.left_care_day, agreed_day = excluded.agreed_day, "
        "updated = excluded.updated, "
        "title = NULL, source = NULL, sequence = clock_rows.sequence + (clock_rows.due_day IS NOT excluded.due_day OR "
        "clock_rows.status IS NOT excluded.status OR "
        "clock_rows.agreed_day IS NOT excluded.agreed_day)";
    const char *insert = ROW_INSERT;
#undef ROW_INSERT
    const char *remove = "DELETE FROM clock_rows WHERE child_id = ?1 AND rule = ?2 AND instance = ?3";
    const char *remove_child = "DELETE FROM clock_rows WHERE child_id = ?1";
    const char *child_get = "SELECT id, dob FROM children WHERE id = ?1";
    /* No ORDER BY: the engine sorts; the index gives them by date anyway. */
    const char *events_get = "SELECT id, type, date, attributes FROM events WHERE child_id = ?1";
    const char *digest_get = "SELECT digest, valid_from, valid_until FROM clock_digests WHERE child_id = ?1";
    const char *digest_set = "INSERT INTO clock_digests (child_id, digest, valid_from, valid_until) "
                             "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (child_id) DO UPDATE SET digest = excluded.digest, "
                             "valid_from = excluded.valid_from, valid_until = excluded.valid_until";
    const char *digest_del = "DELETE FROM clock_digests WHERE child_id = ?1";
    const char *rekey = cc__outbox_rekey_sql();
    struct {
        const char *sql;
        sqlite3_stmt **st;
    } all[] = {{existing, &x->existing},     {upsert, &x->upsert},         {insert, &x->insert},
               {remove, &x->remove},
               {remove_child, &x->remove_child}, {child_get, &x->child_get}, {events_get, &x->events_get},
               {digest_get, &x->digest_get}, {digest_set, &x->digest_set}, {digest_del, &x->digest_del},
               {rekey, &x->rekey}};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (sqlite3_prepare_v3(x->db, all[i].sql, -1, SQLITE_PREPARE_PERSISTENT, all[i].st, NULL) != SQLITE_OK) {
            cc__eval_free(x);
            return CC_EDB;
        }
    }
    if (rule_hashes(x) != 0) {
        cc__eval_free(x);
        return CC_ENOMEM;
    }
    /* Most councils' days have no decision in them at all: then no child
     * is looked up for one. */
    if ((x->any_decisions = cc_decisions_any(store)) < 0) {
        cc__eval_free(x);
        return CC_EDB;
    }
    x->now_seconds = (int64_t)cc_time_parse_utc(now_utc);
    return 0;
}

/* ---- the rules' numbers and text (clock_rules) ---- */

/* Rule k's id, title and source (k = index + 1; 0 is the data error's). */
static void rule_text(const cc__eval_t *x, size_t k, const char **id, const char **title, const char **source)
{
    const cc_rule_t *r = k > 0 ? cc_ruleset_rule(x->rs, k - 1) : NULL;
    *id = r ? r->id : CC_DATA_ERROR_RULE;
    *title = r ? r->title : DATA_ERROR_TITLE;
    *source = r && r->source && r->source[0] ? r->source : NULL;
}

static int by_rule_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cc__eval_rules_sync(cc__eval_t *x)
{
    assert(cc__store_in_transaction(x->store));
    size_t n = cc_ruleset_count(x->rs) + 1, nmissing = 0;
    const char **missing = NULL;
    sqlite3_stmt *get = NULL, *set = NULL, *touch = NULL, *add = NULL;
    int rc = CC_EDB, step;
    free(x->rule_code);
    if ((x->rule_code = calloc(n, sizeof(*x->rule_code))) == NULL || (missing = calloc(n, sizeof(*missing))) == NULL) {
        rc = CC_ENOMEM;
        goto out;
    }
    if ((get = cc__store_prepare(x->db, "SELECT code, rule_id, title, source FROM clock_rules")) == NULL ||
        (set = cc__store_prepare(x->db, "UPDATE clock_rules SET title = ?2, source = ?3 WHERE code = ?1")) == NULL ||
        (touch = cc__store_prepare(x->db, "UPDATE clock_rows SET updated = ?2 WHERE rule = ?1")) == NULL ||
        (add = cc__store_prepare(x->db, "INSERT INTO clock_rules (rule_id, title, source) VALUES (?1, ?2, ?3)")) ==
            NULL)
        goto out;
    while ((step = cc__store_step(get)) == SQLITE_ROW) {
        const char *have_id = (const char *)sqlite3_column_text(get, 1);
        const char *have_title = (const char *)sqlite3_column_text(get, 2);
        const char *have_source = (const char *)sqlite3_column_text(get, 3);
        for (size_t k = 0; have_id != NULL && k < n; k++) {
            const char *id, *title, *source;
            rule_text(x, k, &id, &title, &source);
            if (strcmp(id, have_id) != 0)
                continue;
            x->rule_code[k] = sqlite3_column_int64(get, 0);
            if (strcmp(title, have_title ? have_title : "") == 0 &&
                strcmp(source ? source : "", have_source ? have_source : "") == 0)
                break;
            /* Another title or source: the rows show it from now, changed
             * now (as when each row carried its own: feeds see the change). */
            sqlite3_bind_int64(set, 1, x->rule_code[k]);
            sqlite3_bind_text(set, 2, title, -1, SQLITE_STATIC);
            if (source)
                sqlite3_bind_text(set, 3, source, -1, SQLITE_STATIC);
            sqlite3_bind_int64(touch, 1, x->rule_code[k]);
            sqlite3_bind_int64(touch, 2, x->now_seconds);
            if (cc__store_step_done(set) != 0 || cc__store_step_done(touch) != 0)
                goto out;
            sqlite3_clear_bindings(set);
            break;
        }
    }
    if (step != SQLITE_DONE)
        goto out;
    /* Rules not numbered yet, in order of id (the listing's order of old). */
    for (size_t k = 0; k < n; k++)
        if (x->rule_code[k] == 0) {
            const char *title, *source;
            rule_text(x, k, &missing[nmissing++], &title, &source);
        }
    qsort(missing, nmissing, sizeof(*missing), by_rule_id);
    for (size_t i = 0; i < nmissing; i++) {
        for (size_t k = 0; k < n; k++) {
            const char *id, *title, *source;
            rule_text(x, k, &id, &title, &source);
            if (x->rule_code[k] != 0 || strcmp(id, missing[i]) != 0)
                continue;
            sqlite3_reset(add);
            sqlite3_clear_bindings(add);
            sqlite3_bind_text(add, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(add, 2, title, -1, SQLITE_STATIC);
            if (source)
                sqlite3_bind_text(add, 3, source, -1, SQLITE_STATIC);
            if (cc__store_step_done(add) != 0)
                goto out;
            x->rule_code[k] = sqlite3_last_insert_rowid(x->db);
        }
    }
    rc = 0;
out:
    sqlite3_finalize(get);
    sqlite3_finalize(set);
    sqlite3_finalize(touch);
    sqlite3_finalize(add);
    free(missing);
    return rc;
}

/* ---- loading one child by id ---- */

/* Load one child into x->one with the prepared statements. CC_ENOTFOUND
 * when the child does not exist. */
static int load_by_id(cc__eval_t *x, const char *child_id)
{
    int step, rc = 0;
    cc__batch_t *b = &x->one;
    cc__batch_reset(b);
    sqlite3_reset(x->child_get);
    sqlite3_bind_text(x->child_get, 1, child_id, -1, SQLITE_TRANSIENT);
    step = cc__store_step(x->child_get);
    if (step == SQLITE_DONE)
        rc = CC_ENOTFOUND;
    else if (step != SQLITE_ROW)
        rc = CC_EDB;
    else
        rc = cc__batch_add_child(b, x->child_get, 0);
    sqlite3_reset(x->child_get);
    if (rc != 0)
        return rc;
    sqlite3_reset(x->events_get);
    sqlite3_bind_text(x->events_get, 1, child_id, -1, SQLITE_TRANSIENT);
    while (rc == 0 && (step = cc__store_step(x->events_get)) == SQLITE_ROW)
        rc = cc__batch_add_event(b, x->events_get, 0);
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_reset(x->events_get);
    if (rc == 0)
        cc__batch_decode(b, &x->types);
    return rc;
}

/* ---- writing back ---- */

/* The row a clock instance becomes (clock_rows), for comparison and
 * binding. */
typedef struct row {
    const char *rule_id;
    int64_t rule;         /* clock_rules.code */
    int status;           /* its stored code */
    cc_date_t start, due, met, left; /* CC_DATE_NONE for NULL */
    cc_date_t agreed;     /* an extension in force: the agreed date; CC_DATE_NONE when none */
    const char *reason;
    char instance[CC_CLOCK_KEY_MAX];
    int seq;
    int64_t start_event, met_event;
    unsigned flags;
    int seen;  /* matched an existing row */
    int taken; /* an existing row of schema 7 (a provisional instance) was mapped to it */
} row_t;

static void to_row(const cc__eval_t *x, const cc_clock_t *c, row_t *row)
{
    size_t k = c->rule >= 0 ? (size_t)c->rule + 1 : 0;
    const cc_rule_t *rule = k > 0 ? cc_ruleset_rule(x->rs, k - 1) : NULL;
    row->rule_id = rule ? rule->id : CC_DATA_ERROR_RULE;
    row->rule = x->rule_code[k];
    row->status = cc__status_code(c->status);
    row->reason = c->reason;
    row->seq = c->seq;
    row->agreed = c->agreed_decision != 0 && c->agreed != CC_DATE_NONE ? c->agreed : CC_DATE_NONE;
    cc_clock_key(c, row->instance, sizeof(row->instance));
    row->start = c->start;
    row->due = c->due;
    row->met = c->met_on;
    row->left = c->left_care;
    row->start_event = c->start_event;
    row->met_event = c->met_event;
    row->flags = c->flags;
    row->seen = row->taken = 0;
}

static int same_text(sqlite3_stmt *st, int col, const char *value)
{
    const char *have = (const char *)sqlite3_column_text(st, col);
    if (value == NULL || value[0] == '\0')
        return have == NULL || have[0] == '\0';
    return have != NULL && strcmp(have, value) == 0;
}

static int same_int(sqlite3_stmt *st, int col, int64_t value)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return value == 0;
    return sqlite3_column_int64(st, col) == value;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *text)
{
    if (text == NULL || text[0] == '\0')
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
}

static void bind_opt_id(sqlite3_stmt *st, int i, int64_t id)
{
    if (id == 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, id);
}

/* The row among rows[0..n) with this rule and instance, searching from
 * *hint (existing rows come in the engine's order as far as they can, so
 * the next match is usually the next row); NULL when there is none. */
static row_t *find_row(row_t *rows, size_t n, int64_t rule, const char *instance, size_t *hint)
{
    for (size_t k = 0; k < n; k++) {
        size_t i = (*hint + k) % n;
        if (rows[i].rule == rule && strcmp(rows[i].instance, instance) == 0) {
            *hint = i + 1;
            return &rows[i];
        }
    }
    return NULL;
}

/* ---- rows of schema 7: their outbox rows carried over ---- */

/* Migration 8 gave the rows it found (keyed by seq until then) the
 * provisional instance "#SEQ", and their deliveries the same, so that
 * the two still join as they did. The first write-back of each child
 * after it maps each such row to the instance it is now (cc__eval_t.prov)
 * and re-keys its deliveries to that instance, in the same transaction as
 * the rows, before any plan can see the new instances. */
#define PROVISIONAL_MARK '#'

/* Note an existing provisional row (ex's current row: rule_id, seq, ...,
 * start_date 3, start_event_id 7, instance 12) for mapping. */
static int note_provisional(cc__eval_t *x, sqlite3_stmt *ex)
{
    const char *rule_id = (const char *)sqlite3_column_text(ex, 0);
    const char *instance = (const char *)sqlite3_column_text(ex, 12);
    if (cc__grow(&x->prov, &x->capprov, x->nprov + 1, sizeof(*x->prov), 8) != 0)
        return CC_ENOMEM;
    cc__provisional_t *p = &x->prov[x->nprov];
    /* The engine writes rule ids of at most CC_RULE_ID_MAX bytes; a longer
     * one (written by hand) matches nothing. */
    if (rule_id == NULL || instance == NULL || strlen(rule_id) >= sizeof(p->rule_id) ||
        strlen(instance) >= sizeof(p->instance))
        return 0;
    snprintf(p->rule_id, sizeof(p->rule_id), "%s", rule_id);
    snprintf(p->instance, sizeof(p->instance), "%s", instance);
    p->start = cc__col_day(ex, 3);
    p->seq = sqlite3_column_int(ex, 1);
    p->start_event = sqlite3_column_type(ex, 7) == SQLITE_NULL ? 0 : sqlite3_column_int64(ex, 7);
    p->done = 0;
    x->nprov++;
    return 0;
}

/* The new row a provisional one is now: of its rule, not taken by another,
 * with the same starting event (history recorded since cannot change
 * which event started an instance: that is what moved its seq) and, in
 * the first pass (same_day), the same start date; among several (a rule
 * met by the type that starts it), the one with its seq. Never by seq
 * alone: a renumbered seq names another instance, which must not inherit
 * this one's escalations ("now met" for a clock still overdue). */
static row_t *provisional_match(const cc__provisional_t *p, row_t *rows, size_t n, int same_day)
{
    row_t *found = NULL;
    for (size_t i = 0; i < n; i++) {
        row_t *r = &rows[i];
        if (r->taken || r->start_event != p->start_event || strcmp(r->rule_id, p->rule_id) != 0 ||
            (same_day && r->start != p->start))
            continue;
        if (found == NULL || r->seq == p->seq)
            found = r;
    }
    return found;
}

/* Map the child's provisional rows to its new ones and re-key their
 * deliveries: same event and day first, then same event. A provisional row that
 * matches nothing (its instance is gone) keeps its deliveries as they are:
 * those of a clock that no longer exists. */
static int rekey_provisional(cc__eval_t *x, const char *child_id, row_t *rows, size_t n)
{
    for (int same_day = 1; same_day >= 0; same_day--) {
        for (size_t i = 0; i < x->nprov; i++) {
            cc__provisional_t *p = &x->prov[i];
            if (p->done)
                continue;
            row_t *r = provisional_match(p, rows, n, same_day);
            if (r == NULL)
                continue;
            r->taken = p->done = 1;
            /* No delivery has the new instance yet: only this write gives
             * the child's clocks their instances. */
            sqlite3_stmt *st = x->rekey;
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, child_id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, p->rule_id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, p->instance, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 4, r->instance, -1, SQLITE_TRANSIENT);
            if (cc__store_step_done(st) != 0)
                return CC_EDB;
        }
    }
    return 0;
}

/* Make the child's rows in the clocks table equal rows[0..n): unchanged
 * rows are left alone (their updated_at and sequence stay), vanished ones
 * deleted, new or different ones upserted. Rows of schema 7 hand their
 * deliveries on first (rekey_provisional). */
static int write_child(cc__eval_t *x, const char *child_id, row_t *rows, size_t n)
{
    assert(cc__store_in_transaction(x->store));
    int step, rc;
    size_t hint = 0;
    sqlite3_stmt *ex = x->existing;
    x->nprov = 0;
    if (x->bulk)
        goto write; /* the table was empty when this transaction began */
    sqlite3_reset(ex);
    sqlite3_bind_text(ex, 1, child_id, -1, SQLITE_TRANSIENT);
    /* Existing rows: unchanged ones are marked seen; vanished ones deleted. */
    while ((step = cc__store_step(ex)) == SQLITE_ROW) {
        int64_t rule = sqlite3_column_int64(ex, 2);
        const char *instance = (const char *)sqlite3_column_text(ex, 12);
        row_t *match = n ? find_row(rows, n, rule, instance ? instance : "", &hint) : NULL;
        if (match != NULL) {
            match->seen = sqlite3_column_int(ex, 1) == match->seq && cc__col_day(ex, 3) == match->start &&
                          cc__col_day(ex, 4) == match->due && same_int(ex, 5, match->status) &&
                          cc__col_day(ex, 6) == match->met && same_int(ex, 7, match->start_event) &&
                          same_int(ex, 8, match->met_event) && same_text(ex, 9, match->reason) &&
                          same_int(ex, 10, match->flags) && sqlite3_column_int(ex, 11) != 0 &&
                          cc__col_day(ex, 13) == match->left &&
                          cc__col_day(ex, 14) == match->agreed;
            continue;
        }
        if (instance != NULL && instance[0] == PROVISIONAL_MARK && (rc = note_provisional(x, ex)) != 0) {
            sqlite3_reset(ex);
            return rc;
        }
        sqlite3_reset(x->remove);
        sqlite3_bind_text(x->remove, 1, child_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(x->remove, 2, rule);
        sqlite3_bind_text(x->remove, 3, instance ? instance : "", -1, SQLITE_TRANSIENT);
        if (cc__store_step(x->remove) != SQLITE_DONE) {
            sqlite3_reset(ex);
            return CC_EDB;
        }
        x->stats->deleted++;
    }
    sqlite3_reset(ex);
    if (step != SQLITE_DONE)
        return CC_EDB;
    if (x->nprov > 0 && (rc = rekey_provisional(x, child_id, rows, n)) != 0)
        return rc;
write:
    for (size_t i = 0; i < n; i++) {
        row_t *r = &rows[i];
        if (r->seen)
            continue;
        sqlite3_stmt *u = x->bulk ? x->insert : x->upsert;
        sqlite3_reset(u);
        sqlite3_bind_text(u, 1, child_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(u, 2, r->rule);
        sqlite3_bind_text(u, 3, r->instance, -1, SQLITE_STATIC);
        sqlite3_bind_int(u, 4, r->seq);
        sqlite3_bind_int(u, 5, r->status);
        cc__bind_day(u, 6, r->start);
        cc__bind_day(u, 7, r->due);
        cc__bind_day(u, 8, r->met);
        bind_opt_id(u, 9, r->start_event);
        bind_opt_id(u, 10, r->met_event);
        sqlite3_bind_int64(u, 11, r->flags);
        bind_opt(u, 12, r->reason);
        cc__bind_day(u, 13, r->left);
        sqlite3_bind_int64(u, 14, x->now_seconds);
        cc__bind_day(u, 15, r->agreed);
        if (cc__store_step(u) != SQLITE_DONE)
            return CC_EDB;
        x->stats->written++;
    }
    sqlite3_reset(x->upsert);
    sqlite3_reset(x->insert);
    return 0;
}

/* A child that no longer exists: its clocks and digest go. */
int cc__eval_forget(cc__eval_t *x, const char *child_id)
{
    sqlite3_reset(x->remove_child);
    sqlite3_bind_text(x->remove_child, 1, child_id, -1, SQLITE_TRANSIENT);
    if (cc__store_step_done(x->remove_child) != 0)
        return CC_EDB;
    x->stats->deleted += (size_t)sqlite3_changes(x->db);
    sqlite3_bind_text(x->digest_del, 1, child_id, -1, SQLITE_TRANSIENT);
    return cc__store_step_done(x->digest_del);
}

void cc__stored_read(sqlite3_stmt *st, int col, cc__stored_t *out)
{
    out->digest = (uint64_t)sqlite3_column_int64(st, col);
    out->from = cc__col_day(st, col + 1);
    out->until = cc__col_day(st, col + 2);
}

/* The stored digest and window of a child's clocks; unknown when none. */
static int digest_lookup(cc__eval_t *x, const char *child_id, cc__stored_t *out)
{
    *out = CC__STORED_UNKNOWN;
    sqlite3_bind_text(x->digest_get, 1, child_id, -1, SQLITE_TRANSIENT);
    int step = cc__store_step(x->digest_get);
    if (step == SQLITE_ROW)
        cc__stored_read(x->digest_get, 0, out);
    sqlite3_reset(x->digest_get);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : CC_EDB;
}

int cc__stored_holds(const cc__stored_t *st, cc_date_t today)
{
    return st->digest != DIGEST_UNKNOWN && st->from != CC_DATE_NONE && st->until != CC_DATE_NONE &&
           st->from <= today && today < st->until;
}

/* Evaluate the loaded child and bring its rows up to date. stored is the
 * digest of its rows as written last time (DIGEST_UNKNOWN: compare them)
 * and the days they hold for. */
int cc__eval_loaded(cc__eval_t *x, const cc__batch_t *b, size_t k, const cc__stored_t *stored)
{
    assert(k < b->nkids);
    cc_child_t child;
    cc__batch_child(b, k, &child);
    const char *child_id = child.id;
    cc_clocks_reset(&x->clocks);
    if (x->any_decisions) {
        int drc = cc_decisions_of_child(x->store, child_id, &x->decisions);
        if (drc != 0)
            return drc;
        child.decisions = x->decisions.items;
        child.ndecisions = x->decisions.n;
    }
    int rc = cc_engine_run(x->rs, x->cal, x->today, &child, b->events + b->kids[k].first, b->kids[k].n,
                           &x->clocks);
    if (rc != 0)
        return rc;
    size_t n = x->clocks.len;
    x->stats->children++;
    x->stats->clocks += n;
    x->stats->data_errors += n == 1 && x->clocks.items[0].status == CC_STATUS_DATA_ERROR;
    for (size_t j = 0; j < n; j++)
        x->stats->uncovered += (x->clocks.items[j].flags & CC_CLOCK_UNCOVERED) != 0;
    uint64_t digest = clocks_digest(x, &x->clocks);
    cc_date_t until = x->clocks.next_change;
    if (digest == stored->digest && stored->until == until && stored->from != CC_DATE_NONE &&
        stored->from <= x->today)
        return 0; /* the rows are already these, and hold for the same days */
    if (digest == stored->digest)
        goto digest; /* the rows are these; the days they hold for are new */
    if (n > x->caprows) {
        size_t cap = x->caprows ? x->caprows : 64;
        while (cap < n)
            cap *= 2;
        row_t *grown = realloc(x->rows, cap * sizeof(*grown));
        if (grown == NULL)
            return CC_ENOMEM;
        x->rows = grown;
        x->caprows = cap;
    }
    for (size_t j = 0; j < n; j++)
        to_row(x, &x->clocks.items[j], &x->rows[j]);
    if ((rc = write_child(x, child_id, x->rows, n)) != 0)
        return rc;
digest:
    sqlite3_bind_text(x->digest_set, 1, child_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(x->digest_set, 2, (sqlite3_int64)digest);
    cc__bind_day(x->digest_set, 3, x->today);
    sqlite3_bind_int64(x->digest_set, 4, until);
    return cc__store_step_done(x->digest_set);
}

/* Evaluate the children named in ids, one by one. */
int cc__eval_list(cc__eval_t *x, char *const *ids, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        cc__stored_t stored;
        rc = load_by_id(x, ids[i]);
        if (rc == CC_ENOTFOUND) {
            /* Deleted since it was queued: its clocks go too. */
            rc = cc__eval_forget(x, ids[i]);
            continue;
        }
        if (rc == 0)
            rc = digest_lookup(x, ids[i], &stored);
        if (rc == 0)
            rc = cc__eval_loaded(x, &x->one, 0, &stored);
    }
    return rc;
}

/* ---- transactions and entry points ---- */

/* Run inside a transaction: the caller's if one is open, else our own. */
int cc__eval_begin(cc_store_t *store, int *own)
{
    *own = sqlite3_get_autocommit(cc_store_db(store));
    return *own ? cc_store_begin(store) : 0;
}

int cc__eval_end(cc_store_t *store, int own, int rc)
{
    if (!own)
        return rc;
    if (rc == 0)
        return cc_store_commit(store);
    cc_store_rollback(store);
    return rc;
}

int cc_evaluate_children(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                         const char *now_utc, char *const *ids, size_t n, cc_eval_stats_t *stats)
{
    cc__eval_t x;
    int own, rc = cc__eval_init(&x, store, rs, cal, today, now_utc, stats);
    if (rc != 0)
        return rc;
    rc = cc__eval_begin(store, &own);
    if (rc == 0)
        rc = cc__eval_end(store, own, (rc = cc__eval_rules_sync(&x)) != 0 ? rc : cc__eval_list(&x, ids, n));
    cc__eval_free(&x);
    return rc;
}

/* Evaluate every child in the change queue and acknowledge it, in the
 * current transaction. */
int cc__eval_drain(cc__eval_t *x)
{
    assert(cc__store_in_transaction(x->store));
    char **ids = NULL;
    size_t n = 0;
    int64_t upto = 0;
    int rc = cc_store_changes_take(x->store, &upto, &ids, &n);
    if (rc == 0 && n > 0)
        rc = cc__eval_list(x, ids, n);
    if (rc == 0 && upto > 0)
        rc = cc_store_changes_ack(x->store, upto);
    cc_store_free_ids(ids, n);
    return rc;
}

int cc_evaluate_changes(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                        const char *now_utc, cc_eval_stats_t *stats)
{
    cc__eval_t x;
    int own, rc = cc__eval_init(&x, store, rs, cal, today, now_utc, stats);
    if (rc != 0)
        return rc;
    rc = cc__eval_begin(store, &own);
    if (rc == 0)
        rc = cc__eval_end(store, own, (rc = cc__eval_rules_sync(&x)) != 0 ? rc : cc__eval_drain(&x));
    cc__eval_free(&x);
    return rc;
}

int cc_evaluate_refresh(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                        const char *fingerprint, const char *now_utc, cc_eval_stats_t *stats)
{
    char as_of[32], fp[32], day[CC_DATE_STRLEN];
    assert(store != NULL && rs != NULL && cal != NULL && now_utc != NULL);
    sqlite3 *db = cc_store_db(store);
    int a = cc__meta_get(db, "clocks_as_of", as_of, sizeof(as_of));
    int f = cc__meta_get(db, "rules_fingerprint", fp, sizeof(fp));
    int owed = cc__eval_indexes_owed(db);
    if (a < 0 || f < 0 || owed < 0)
        return CC_EDB;
    /* An index still owed: a first computation was cut short. */
    if (owed || !a || strcmp(as_of, cc_date_format(today, day)) != 0 || (fingerprint && strcmp(fp, fingerprint) != 0))
        return cc_evaluate_all(store, rs, cal, today, fingerprint, now_utc, stats);
    return cc_evaluate_changes(store, rs, cal, today, now_utc, stats);
}

