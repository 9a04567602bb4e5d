/* Evaluation: database in, engine, database out. See evaluate.h.
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
 *    does that while this thread runs the engine (evaluate_stream).
 *  - clock_digests holds a 64-bit digest of each child's rows as last
 *    written; a child whose fresh clocks have the same digest is neither
 *    read back nor written. Only the children whose clocks changed (a new
 *    day moves some statuses) cost a read and a write.
 *  - Filling an empty clocks table drops its secondary index and makes it
 *    again at the end, committing every 250,000 rows on the way (bulk_begin,
 *    commit_and_go_on, indexes_repair).
 *  - Statements are prepared once per call; buffers are reused from child
 *    to child; a full recompute runs with a 64 MiB page cache.
 */
#include "careclock/evaluate.h"
#include "careclock/changes.h"
#include "careclock/error.h"
#include "util/grow.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- loading ---- */

void cc_evaluate_child_free(cc_eval_child_t *child)
{
    free(child->events);
    free(child->strings);
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
    int step = sqlite3_step(cst);
    if (step == SQLITE_DONE) {
        rc = CC_ENOTFOUND;
        goto out;
    }
    if (step != SQLITE_ROW)
        goto out;
    bytes += col_len(cst, 0) + col_len(cst, 1);
    /* First pass sizes the block; second fills it. */
    sqlite3_bind_text(est, 1, child_id, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(est)) == SQLITE_ROW) {
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
    while (i < n && (step = sqlite3_step(est)) == SQLITE_ROW) {
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
    rc = 0;
out:
    sqlite3_finalize(cst);
    sqlite3_finalize(est);
    if (rc != 0)
        cc_evaluate_child_free(out);
    return rc;
}

/* ---- batches of loaded children ---- */

#define TYPE_SLOTS 256
#define TYPE_NAME_MAX 48

typedef struct {
    char name[TYPE_NAME_MAX];
    size_t len;
    int index;
    int used;
} type_slot_t;

/* Event types by name, remembered: a council's events repeat a handful of
 * types. Owned by one thread. */
typedef struct {
    const cc_ruleset_t *rs;
    type_slot_t slot[TYPE_SLOTS];
} types_t;

/* Strings of one loaded event, as offsets into the batch's string block
 * (which may move while the batch fills). */
typedef struct {
    size_t type, date, attrs;
} ev_offsets_t;

typedef struct {
    size_t id, dob;       /* offsets of the child's id and date of birth text */
    size_t first, n;      /* its events: events[first .. first + n) */
} kid_t;

/* Children and their events as read from the database: the strings in one
 * block, the events in one array. Once the batch is full, batch_decode()
 * reads the events' types and dates and points them at their strings. */
typedef struct {
    char *strings;
    size_t used, capstrings;
    kid_t *kids;
    size_t nkids, capkids;
    cc_event_t *events;
    ev_offsets_t *offs;
    size_t nevents, capevents;
    int last;             /* no children come after this batch */
} batch_t;

static void batch_free(batch_t *b)
{
    free(b->strings);
    free(b->kids);
    free(b->events);
    free(b->offs);
    memset(b, 0, sizeof(*b));
}

static void batch_reset(batch_t *b)
{
    b->used = b->nkids = b->nevents = 0;
    b->last = 0;
}

/* The event type's index: the same answer as cc_ruleset_type_index(). */
static int type_index(types_t *t, const char *name)
{
    size_t len = strlen(name);
    if (len >= TYPE_NAME_MAX)
        return cc_ruleset_type_index(t->rs, name);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 16777619u;
    for (size_t probe = 0; probe < TYPE_SLOTS; probe++) {
        type_slot_t *s = &t->slot[(h + probe) % TYPE_SLOTS];
        if (!s->used) {
            s->used = 1;
            s->len = len;
            memcpy(s->name, name, len + 1);
            s->index = cc_ruleset_type_index(t->rs, name);
            return s->index;
        }
        if (s->len == len && memcmp(s->name, name, len) == 0)
            return s->index;
    }
    return cc_ruleset_type_index(t->rs, name);
}

/* Append a column's text (NULL as empty) and its NUL to the string block;
 * *off receives its offset. */
static int put_text(batch_t *b, sqlite3_stmt *st, int col, size_t *off)
{
    /* Kept as C strings, which end at a first NUL whatever the column's
     * length: strlen is the same answer as sqlite3_column_bytes for what is
     * read here, and one call fewer per column on the reader's hot path. */
    const char *text = (const char *)sqlite3_column_text(st, col);
    size_t len = text != NULL ? strlen(text) : 0;
    if (b->used + len + 1 > b->capstrings) {
        size_t cap = b->capstrings ? b->capstrings : 4096;
        while (cap < b->used + len + 1)
            cap *= 2;
        char *grown = realloc(b->strings, cap);
        if (grown == NULL)
            return CC_ENOMEM;
        b->strings = grown;
        b->capstrings = cap;
    }
    if (text != NULL)
        memcpy(b->strings + b->used, text, len);
    b->strings[b->used + len] = '\0';
    *off = b->used;
    b->used += len + 1;
    return 0;
}

/* A new child from st's columns id_col (id) and id_col + 1 (dob). */
static int batch_add_child(batch_t *b, sqlite3_stmt *st, int id_col)
{
    if (cc__grow(&b->kids, &b->capkids, b->nkids + 1, sizeof(kid_t), 64) != 0)
        return CC_ENOMEM;
    kid_t *k = &b->kids[b->nkids];
    k->first = b->nevents;
    k->n = 0;
    if (put_text(b, st, id_col, &k->id) != 0 || put_text(b, st, id_col + 1, &k->dob) != 0)
        return CC_ENOMEM;
    b->nkids++;
    return 0;
}

/* An event of the last child added, from st's columns first..first+3: id,
 * type, date, attributes, as text (batch_decode() reads them). */
static int batch_add_event(batch_t *b, sqlite3_stmt *st, int first)
{
    if (b->nevents == b->capevents) {
        size_t cap = b->capevents ? b->capevents * 2 : 1024;
        cc_event_t *ev = realloc(b->events, cap * sizeof(*ev));
        if (ev == NULL)
            return CC_ENOMEM;
        b->events = ev;
        ev_offsets_t *offs = realloc(b->offs, cap * sizeof(*offs));
        if (offs == NULL)
            return CC_ENOMEM;
        b->offs = offs;
        b->capevents = cap;
    }
    ev_offsets_t *o = &b->offs[b->nevents];
    b->events[b->nevents].id = sqlite3_column_int64(st, first);
    if (put_text(b, st, first + 1, &o->type) != 0 || put_text(b, st, first + 2, &o->date) != 0 ||
        put_text(b, st, first + 3, &o->attrs) != 0)
        return CC_ENOMEM;
    b->nevents++;
    b->kids[b->nkids - 1].n++;
    return 0;
}

/* The engine's view of the (now settled) events: type and date read, the
 * text pointed at. A known type's text is the rule set's own name for it
 * (the same characters). Done by the thread that evaluates, so that the
 * reader thread, the slower of the two, only reads. */
static void batch_decode(batch_t *b, types_t *types)
{
    for (size_t i = 0; i < b->nevents; i++) {
        cc_event_t *e = &b->events[i];
        const ev_offsets_t *o = &b->offs[i];
        const char *type = b->strings + o->type;
        e->type = type_index(types, type);
        e->raw_type = e->type >= 0 ? cc_ruleset_type_name(types->rs, (size_t)e->type) : type;
        e->raw_date = b->strings + o->date;
        if (cc_date_parse(e->raw_date, &e->date) != 0)
            e->date = CC_DATE_NONE;
        e->attrs = b->strings + o->attrs;
    }
}

/* The engine's view of the batch's k-th child. */
static void batch_child(const batch_t *b, size_t k, cc_child_t *child)
{
    child->id = b->strings + b->kids[k].id;
    child->raw_dob = b->strings + b->kids[k].dob;
    if (cc_date_parse(child->raw_dob, &child->dob) != 0)
        child->dob = CC_DATE_NONE;
}

/* ---- the evaluation context ---- */

typedef struct {
    cc_store_t *store;
    sqlite3 *db;
    const cc_ruleset_t *rs;
    const cc_calendar_t *cal;
    cc_date_t today;
    const char *now_utc;
    cc_eval_stats_t *stats;
    int bulk;             /* the clocks table was empty: insert without looking */
    size_t commit_rows;   /* commit after about this many rows written (0: one transaction) */
    long long data_version; /* PRAGMA data_version in our last transaction */
    /* statements, prepared once per call */
    sqlite3_stmt *existing, *upsert, *insert, *remove, *remove_child;
    sqlite3_stmt *child_get, *events_get, *digest_get, *digest_set, *digest_del;
    /* one child loaded by id (the change queue's children) */
    batch_t one;
    types_t types;
    /* engine output and its rows, reused from child to child */
    cc_clocks_t clocks;
    struct row *rows;
    size_t caprows;
    /* per rule (index + 1; 0 is the data_error row): hash of id, title, source */
    uint64_t *rule_hash;
} ctx_t;

static void ctx_free(ctx_t *x)
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
    batch_free(&x->one);
    free(x->rows);
    free(x->rule_hash);
    cc_clocks_free(&x->clocks);
    memset(x, 0, sizeof(*x));
}

/* ---- digests ---- */

/* Bump when the digest's inputs or the way a clock becomes a row change, so
 * that every stored digest stops matching and each child is compared row by
 * row once. */
#define DIGEST_VERSION 1

/* Digest 0 in clock_digests means "unknown": compare the rows. */
#define DIGEST_UNKNOWN 0

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

static int rule_hashes(ctx_t *x)
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
static uint64_t clocks_digest(const ctx_t *x, const cc_clocks_t *clocks)
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
        if (c->reason[0] != '\0')
            h = mix_text(h, c->reason);
    }
    return finish(h);
}

/* ---- statements ---- */

static int ctx_init(ctx_t *x, cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                    const char *now_utc, cc_eval_stats_t *stats)
{
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
    const char *existing = "SELECT rule_id, seq, title, start_date, due_date, status, met_on, start_event_id, "
                           "met_event_id, reason, flags, source FROM clocks WHERE child_id = ?1";
    const char *upsert =
        "INSERT INTO clocks (child_id, rule_id, seq, title, start_date, due_date, status, met_on, start_event_id, "
        "met_event_id, reason, flags, source, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
        "?13, ?14) ON CONFLICT (child_id, rule_id, seq) DO UPDATE SET title = excluded.title, start_date = "
        "excluded.start_date, due_date = excluded.due_date, status = excluded.status, met_on = excluded.met_on, "
        "start_event_id = excluded.start_event_id, met_event_id = excluded.met_event_id, reason = excluded.reason, "
        "flags = excluded.flags, source = excluded.source, updated_at = excluded.updated_at, "
        "sequence = clocks.sequence + (clocks.due_date IS NOT excluded.due_date OR clocks.status IS NOT "
        "excluded.status)";
    const char *insert =
        "INSERT INTO clocks (child_id, rule_id, seq, title, start_date, due_date, status, met_on, start_event_id, "
        "met_event_id, reason, flags, source, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
        "?13, ?14)";
    const char *remove = "DELETE FROM clocks WHERE child_id = ?1 AND rule_id = ?2 AND seq = ?3";
    const char *remove_child = "DELETE FROM clocks WHERE child_id = ?1";
    const char *child_get = "SELECT id, dob FROM children WHERE id = ?1";
    /* No ORDER BY: the engine sorts; the index gives them by date anyway. */
    const char *events_get = "SELECT id, type, date, attributes FROM events WHERE child_id = ?1";
    const char *digest_get = "SELECT digest FROM clock_digests WHERE child_id = ?1";
    const char *digest_set = "INSERT INTO clock_digests (child_id, digest) VALUES (?1, ?2) "
                             "ON CONFLICT (child_id) DO UPDATE SET digest = excluded.digest";
    const char *digest_del = "DELETE FROM clock_digests WHERE child_id = ?1";
    struct {
        const char *sql;
        sqlite3_stmt **st;
    } all[] = {{existing, &x->existing},     {upsert, &x->upsert},         {insert, &x->insert},
               {remove, &x->remove},
               {remove_child, &x->remove_child}, {child_get, &x->child_get}, {events_get, &x->events_get},
               {digest_get, &x->digest_get}, {digest_set, &x->digest_set}, {digest_del, &x->digest_del}};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (sqlite3_prepare_v3(x->db, all[i].sql, -1, SQLITE_PREPARE_PERSISTENT, all[i].st, NULL) != SQLITE_OK) {
            ctx_free(x);
            return CC_EDB;
        }
    }
    if (rule_hashes(x) != 0) {
        ctx_free(x);
        return CC_ENOMEM;
    }
    return 0;
}

/* ---- loading one child by id ---- */

/* Load one child into x->one with the prepared statements. CC_ENOTFOUND
 * when the child does not exist. */
static int load_by_id(ctx_t *x, const char *child_id)
{
    int step, rc = 0;
    batch_t *b = &x->one;
    batch_reset(b);
    sqlite3_reset(x->child_get);
    sqlite3_bind_text(x->child_get, 1, child_id, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(x->child_get);
    if (step == SQLITE_DONE)
        rc = CC_ENOTFOUND;
    else if (step != SQLITE_ROW)
        rc = CC_EDB;
    else
        rc = batch_add_child(b, x->child_get, 0);
    sqlite3_reset(x->child_get);
    if (rc != 0)
        return rc;
    sqlite3_reset(x->events_get);
    sqlite3_bind_text(x->events_get, 1, child_id, -1, SQLITE_TRANSIENT);
    while (rc == 0 && (step = sqlite3_step(x->events_get)) == SQLITE_ROW)
        rc = batch_add_event(b, x->events_get, 0);
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_reset(x->events_get);
    if (rc == 0)
        batch_decode(b, &x->types);
    return rc;
}

/* ---- writing back ---- */

/* The row a clock instance becomes, as text, for comparison and binding. */
typedef struct row {
    const char *rule_id, *title, *source, *status, *reason;
    char start[CC_DATE_STRLEN], due[CC_DATE_STRLEN], met[CC_DATE_STRLEN];
    int seq;
    int64_t start_event, met_event;
    unsigned flags;
    int seen; /* matched an existing row */
} row_t;

/* "YYYY-MM-DD", exactly as cc_date_format() writes it, without printf. */
static void format_date(cc_date_t date, char out[CC_DATE_STRLEN])
{
    int y, m, d;
    cc_date_to_ymd(date, &y, &m, &d);
    unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u, ud = (unsigned)d % 100u;
    out[0] = (char)('0' + uy / 1000);
    out[1] = (char)('0' + uy / 100 % 10);
    out[2] = (char)('0' + uy / 10 % 10);
    out[3] = (char)('0' + uy % 10);
    out[4] = '-';
    out[5] = (char)('0' + um / 10);
    out[6] = (char)('0' + um % 10);
    out[7] = '-';
    out[8] = (char)('0' + ud / 10);
    out[9] = (char)('0' + ud % 10);
    out[10] = '\0';
}

static void to_row(const cc_ruleset_t *rs, const cc_clock_t *c, row_t *row)
{
    const cc_rule_t *rule = c->rule >= 0 ? cc_ruleset_rule(rs, (size_t)c->rule) : NULL;
    row->rule_id = rule ? rule->id : CC_DATA_ERROR_RULE;
    row->title = rule ? rule->title : DATA_ERROR_TITLE;
    row->source = rule ? rule->source : "";
    row->status = cc_status_name(c->status);
    row->reason = c->reason;
    row->seq = c->seq;
    row->start[0] = row->due[0] = row->met[0] = '\0';
    if (c->start != CC_DATE_NONE)
        format_date(c->start, row->start);
    if (c->due != CC_DATE_NONE)
        format_date(c->due, row->due);
    if (c->met_on != CC_DATE_NONE)
        format_date(c->met_on, row->met);
    row->start_event = c->start_event;
    row->met_event = c->met_event;
    row->flags = c->flags;
    row->seen = 0;
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

/* The row among rows[0..n) with this rule id and seq, searching from *hint
 * (existing rows come in key order, so the next match is usually the next
 * row); NULL when there is none. */
static row_t *find_row(row_t *rows, size_t n, const char *rule_id, int seq, size_t *hint)
{
    for (size_t k = 0; k < n; k++) {
        size_t i = (*hint + k) % n;
        if (rows[i].seq == seq && strcmp(rows[i].rule_id, rule_id) == 0) {
            *hint = i + 1;
            return &rows[i];
        }
    }
    return NULL;
}

/* Make the child's rows in the clocks table equal rows[0..n): unchanged
 * rows are left alone (their updated_at and sequence stay), vanished ones
 * deleted, new or different ones upserted. */
static int write_child(ctx_t *x, const char *child_id, row_t *rows, size_t n)
{
    int step;
    size_t hint = 0;
    sqlite3_stmt *ex = x->existing;
    if (x->bulk)
        goto write; /* the table was empty when this transaction began */
    sqlite3_reset(ex);
    sqlite3_bind_text(ex, 1, child_id, -1, SQLITE_TRANSIENT);
    /* Existing rows: unchanged ones are marked seen; vanished ones deleted. */
    while ((step = sqlite3_step(ex)) == SQLITE_ROW) {
        const char *rule_id = (const char *)sqlite3_column_text(ex, 0);
        int seq = sqlite3_column_int(ex, 1);
        row_t *match = n ? find_row(rows, n, rule_id ? rule_id : "", seq, &hint) : NULL;
        if (match != NULL) {
            match->seen = same_text(ex, 2, match->title) && same_text(ex, 3, match->start) &&
                          same_text(ex, 4, match->due) && same_text(ex, 5, match->status) &&
                          same_text(ex, 6, match->met) && same_int(ex, 7, match->start_event) &&
                          same_int(ex, 8, match->met_event) && same_text(ex, 9, match->reason) &&
                          same_int(ex, 10, match->flags) && same_text(ex, 11, match->source);
            continue;
        }
        sqlite3_reset(x->remove);
        sqlite3_bind_text(x->remove, 1, child_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(x->remove, 2, rule_id ? rule_id : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(x->remove, 3, seq);
        if (sqlite3_step(x->remove) != SQLITE_DONE)
            return CC_EDB;
        x->stats->deleted++;
    }
    sqlite3_reset(ex);
    if (step != SQLITE_DONE)
        return CC_EDB;
write:
    for (size_t i = 0; i < n; i++) {
        row_t *r = &rows[i];
        if (r->seen)
            continue;
        sqlite3_stmt *u = x->bulk ? x->insert : x->upsert;
        sqlite3_reset(u);
        sqlite3_bind_text(u, 1, child_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(u, 2, r->rule_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(u, 3, r->seq);
        sqlite3_bind_text(u, 4, r->title, -1, SQLITE_STATIC);
        bind_opt(u, 5, r->start);
        bind_opt(u, 6, r->due);
        sqlite3_bind_text(u, 7, r->status, -1, SQLITE_STATIC);
        bind_opt(u, 8, r->met);
        bind_opt_id(u, 9, r->start_event);
        bind_opt_id(u, 10, r->met_event);
        bind_opt(u, 11, r->reason);
        sqlite3_bind_int64(u, 12, r->flags);
        bind_opt(u, 13, r->source);
        sqlite3_bind_text(u, 14, x->now_utc, -1, SQLITE_STATIC);
        if (sqlite3_step(u) != SQLITE_DONE)
            return CC_EDB;
        x->stats->written++;
    }
    sqlite3_reset(x->upsert);
    sqlite3_reset(x->insert);
    return 0;
}

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : CC_EDB;
    sqlite3_reset(st);
    return rc;
}

/* A child that no longer exists: its clocks and digest go. */
static int forget_child(ctx_t *x, const char *child_id)
{
    sqlite3_reset(x->remove_child);
    sqlite3_bind_text(x->remove_child, 1, child_id, -1, SQLITE_TRANSIENT);
    if (step_done(x->remove_child) != 0)
        return CC_EDB;
    x->stats->deleted += (size_t)sqlite3_changes(x->db);
    sqlite3_bind_text(x->digest_del, 1, child_id, -1, SQLITE_TRANSIENT);
    return step_done(x->digest_del);
}

/* The stored digest of a child's clocks; DIGEST_UNKNOWN when none. */
static int digest_lookup(ctx_t *x, const char *child_id, uint64_t *out)
{
    *out = DIGEST_UNKNOWN;
    sqlite3_bind_text(x->digest_get, 1, child_id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(x->digest_get);
    if (step == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(x->digest_get, 0);
    sqlite3_reset(x->digest_get);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : CC_EDB;
}

/* Evaluate the loaded child and bring its rows up to date. stored is the
 * digest of its rows as written last time (DIGEST_UNKNOWN: compare them). */
static int evaluate_loaded(ctx_t *x, const batch_t *b, size_t k, uint64_t stored)
{
    cc_child_t child;
    batch_child(b, k, &child);
    const char *child_id = child.id;
    cc_clocks_reset(&x->clocks);
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
    if (digest == stored)
        return 0; /* the rows are already these */
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
        to_row(x->rs, &x->clocks.items[j], &x->rows[j]);
    if ((rc = write_child(x, child_id, x->rows, n)) != 0)
        return rc;
    sqlite3_bind_text(x->digest_set, 1, child_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(x->digest_set, 2, (sqlite3_int64)digest);
    return step_done(x->digest_set);
}

/* Evaluate the children named in ids, one by one. */
static int evaluate_list(ctx_t *x, char *const *ids, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t stored;
        rc = load_by_id(x, ids[i]);
        if (rc == CC_ENOTFOUND) {
            /* Deleted since it was queued: its clocks go too. */
            rc = forget_child(x, ids[i]);
            continue;
        }
        if (rc == 0)
            rc = digest_lookup(x, ids[i], &stored);
        if (rc == 0)
            rc = evaluate_loaded(x, &x->one, 0, stored);
    }
    return rc;
}

/* ---- every child, streamed ---- */

/* A full recompute reads every child and every event in two ordered reads
 * (children by id; events by child through the covering events_by_child
 * index), merged in C into batches of children. When the database is a
 * file and the recompute runs in its own transaction, a reader thread does
 * that on its own read-only connection while this thread runs the engine
 * and writes: the two halves take about the same time, and the machine has
 * more than one core. The reader's snapshot is the writer's: this thread
 * holds the write lock (BEGIN IMMEDIATE) before the reader starts, so no
 * commit can come between, and the writer never writes children or events.
 * In the caller's transaction (which may hold uncommitted events) or on an
 * in-memory database, the same code reads on the caller's connection, in
 * turn with the engine. */

#define BATCH_CHILDREN 256
#define NBATCHES 4

typedef struct {
    sqlite3 *db;          /* the connection read from */
    int own_db;           /* db was opened here (and is closed here) */
    sqlite3_stmt *children, *events;
    int ev_step;
    batch_t batch[NBATCHES];
    int threaded;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int full[NBATCHES];   /* filled, not yet consumed */
    int rc[NBATCHES];     /* the fill's result */
    size_t produced, consumed;
    int stop;             /* the consumer gave up: the reader stops */
} reader_t;

static int compare_id(sqlite3_stmt *st, int col, const char *id)
{
    const char *have = (const char *)sqlite3_column_text(st, col);
    return strcmp(have ? have : "", id);
}

/* Fill b with the next children and their events. Events of children that
 * do not exist (written with foreign keys off) are skipped, as a lookup by
 * child would never see them. */
static int reader_fill(reader_t *r, batch_t *b)
{
    int step, cmp;
    batch_reset(b);
    while (b->nkids < BATCH_CHILDREN) {
        step = sqlite3_step(r->children);
        if (step == SQLITE_DONE) {
            b->last = 1;
            break;
        }
        if (step != SQLITE_ROW)
            return CC_EDB;
        const char *id = (const char *)sqlite3_column_text(r->children, 0);
        if (id == NULL)
            continue;
        if (batch_add_child(b, r->children, 0) != 0)
            return CC_ENOMEM;
        while (r->ev_step == SQLITE_ROW && (cmp = compare_id(r->events, 0, id)) <= 0) {
            if (cmp == 0 && batch_add_event(b, r->events, 1) != 0)
                return CC_ENOMEM;
            r->ev_step = sqlite3_step(r->events);
        }
        if (r->ev_step != SQLITE_ROW && r->ev_step != SQLITE_DONE)
            return CC_EDB;
    }
    return 0;
}

static void *reader_main(void *arg)
{
    reader_t *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t i = r->produced % NBATCHES;
        while (!r->stop && r->full[i])
            pthread_cond_wait(&r->cv, &r->mu);
        int stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        int rc = reader_fill(r, &r->batch[i]);
        int last = rc != 0 || r->batch[i].last;
        pthread_mutex_lock(&r->mu);
        r->rc[i] = rc;
        r->full[i] = 1;
        r->produced++;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (last)
            break;
    }
    return NULL;
}

static void reader_close(reader_t *r)
{
    if (r->threaded) {
        pthread_mutex_lock(&r->mu);
        r->stop = 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
    }
    sqlite3_finalize(r->children);
    sqlite3_finalize(r->events);
    if (r->own_db)
        sqlite3_close(r->db);
    for (size_t i = 0; i < NBATCHES; i++)
        batch_free(&r->batch[i]);
    memset(r, 0, sizeof(*r));
}

/* Start (or, after reader_pause, resume) the two ordered reads: from the
 * first child, or from the first child after the id `after`. The first
 * step starts the reads' snapshot, so the caller holds the write lock when
 * it calls this (the snapshot is then the writer's). */
static int reader_start(reader_t *r, const char *after)
{
    static const char *const sql[2][2] = {
        {"SELECT id, dob FROM children ORDER BY id",
         "SELECT child_id, id, type, date, attributes FROM events ORDER BY child_id"},
        {"SELECT id, dob FROM children WHERE id > ?1 ORDER BY id",
         "SELECT child_id, id, type, date, attributes FROM events WHERE child_id > ?1 ORDER BY child_id"}};
    int v = after != NULL;
    if (sqlite3_prepare_v2(r->db, sql[v][0], -1, &r->children, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(r->db, sql[v][1], -1, &r->events, NULL) != SQLITE_OK)
        return CC_EDB;
    if (after != NULL) {
        sqlite3_bind_text(r->children, 1, after, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(r->events, 1, after, -1, SQLITE_TRANSIENT);
    }
    r->ev_step = sqlite3_step(r->events);
    return r->ev_step == SQLITE_ROW || r->ev_step == SQLITE_DONE ? 0 : CC_EDB;
}

/* End the reads (and with them their snapshot) of a reader without a
 * thread, so that its connection can commit and the WAL be checkpointed;
 * reader_start(r, last child read) goes on from there. */
static void reader_pause(reader_t *r)
{
    sqlite3_finalize(r->children);
    sqlite3_finalize(r->events);
    r->children = r->events = NULL;
}

/* Open the reads; on a connection of its own, in a thread of its own, when
 * may_thread and the database is a file. */
static int reader_open(reader_t *r, sqlite3 *db, int may_thread)
{
    memset(r, 0, sizeof(*r));
    r->db = db;
    const char *path = sqlite3_db_filename(db, "main");
    if (may_thread && path != NULL && path[0] != '\0') {
        sqlite3 *own = NULL;
        if (sqlite3_open_v2(path, &own, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK &&
            sqlite3_busy_timeout(own, 5000) == SQLITE_OK) {
            r->db = own;
            r->own_db = 1;
        } else {
            sqlite3_close(own);
        }
    }
    if (reader_start(r, NULL) != 0) {
        reader_close(r);
        return CC_EDB;
    }
    if (r->own_db && pthread_mutex_init(&r->mu, NULL) == 0) {
        if (pthread_cond_init(&r->cv, NULL) != 0)
            pthread_mutex_destroy(&r->mu);
        else if (pthread_create(&r->thread, NULL, reader_main, r) != 0) {
            pthread_cond_destroy(&r->cv);
            pthread_mutex_destroy(&r->mu);
        } else
            r->threaded = 1;
    }
    return 0;
}

/* The next batch, in order. */
static int reader_next(reader_t *r, batch_t **out)
{
    if (!r->threaded) {
        *out = &r->batch[0];
        return reader_fill(r, &r->batch[0]);
    }
    size_t i = r->consumed % NBATCHES;
    pthread_mutex_lock(&r->mu);
    while (!r->full[i])
        pthread_cond_wait(&r->cv, &r->mu);
    int rc = r->rc[i];
    pthread_mutex_unlock(&r->mu);
    *out = &r->batch[i];
    return rc;
}

/* Hand the batch reader_next gave back to the reader. */
static void reader_release(reader_t *r)
{
    if (!r->threaded)
        return;
    pthread_mutex_lock(&r->mu);
    r->full[r->consumed % NBATCHES] = 0;
    r->consumed++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Digests of children that no longer exist, collected during the pass and
 * handled after it (never while the digest read is open ahead of them). */
typedef struct {
    char **ids;
    size_t n, cap;
} orphans_t;

static int add_orphan(orphans_t *o, const char *id)
{
    if (cc__grow(&o->ids, &o->cap, o->n + 1, sizeof(char *), 16) != 0)
        return CC_ENOMEM;
    if ((o->ids[o->n] = strdup(id ? id : "")) == NULL)
        return CC_ENOMEM;
    o->n++;
    return 0;
}

/* The integer a PRAGMA (or any one-row query) returns. */
static int pragma_int(sqlite3 *db, const char *sql, long long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = CC_EDB;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Start (or resume after the child `after`) the read of the stored
 * digests, in child order, on the writer's connection. */
static int digests_start(sqlite3 *db, const char *after, sqlite3_stmt **st, int *step)
{
    const char *sql = after != NULL ? "SELECT child_id, digest FROM clock_digests WHERE child_id > ?1 ORDER BY child_id"
                                    : "SELECT child_id, digest FROM clock_digests ORDER BY child_id";
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return CC_EDB;
    if (after != NULL)
        sqlite3_bind_text(*st, 1, after, -1, SQLITE_TRANSIENT);
    *step = sqlite3_step(*st);
    return *step == SQLITE_ROW || *step == SQLITE_DONE ? 0 : CC_EDB;
}

/* Commit what the first computation has written so far and go on in a new
 * transaction, from the child after `last` (a copy: the batch it points
 * into is refilled), the reads (children, events, digests) ended and begun
 * again so that no snapshot is held across the commit and the WAL can be
 * checkpointed and reused. Between the two transactions other connections
 * may commit: if one did (its events are in the change queue, which
 * drain_changes() reads at the end; it may have written clocks), the rest
 * is written by comparing rows instead of inserting blind. */
static int commit_and_go_on(ctx_t *x, reader_t *r, const char *last, sqlite3_stmt **digests, int *dg_step)
{
    char *after = strdup(last);
    long long version = 0;
    int rc = after != NULL ? 0 : CC_ENOMEM;
    reader_pause(r);
    sqlite3_finalize(*digests);
    *digests = NULL;
    if (rc == 0)
        rc = cc_store_commit(x->store);
    if (rc == 0)
        rc = cc_store_begin(x->store);
    if (rc == 0)
        rc = pragma_int(x->db, "PRAGMA data_version", &version);
    if (rc == 0) {
        x->stats->commits++;
        if (version != x->data_version)
            x->bulk = 0;
        x->data_version = version;
        rc = reader_start(r, after);
    }
    if (rc == 0)
        rc = digests_start(x->db, after, digests, dg_step);
    free(after);
    return rc;
}

/* Every child through the engine. The stored digests are read in the same
 * order (on this connection: this thread writes them) and merged in. With
 * x->commit_rows set (a first computation, in its own transactions), the
 * reads are on this connection and the work is committed every
 * x->commit_rows rows (commit_and_go_on). */
static int evaluate_stream(ctx_t *x, int may_thread)
{
    reader_t r;
    orphans_t orphans = {0};
    sqlite3_stmt *digests = NULL;
    int rc, dg_step = SQLITE_DONE, last = 0;
    size_t committed = x->stats->written;
    if ((rc = reader_open(&r, x->db, may_thread && x->commit_rows == 0)) != 0)
        return rc;
    if (x->commit_rows > 0 && (rc = pragma_int(x->db, "PRAGMA data_version", &x->data_version)) != 0)
        goto out;
    if ((rc = digests_start(x->db, NULL, &digests, &dg_step)) != 0)
        goto out;
    while (rc == 0 && !last) {
        batch_t *b;
        rc = reader_next(&r, &b);
        if (rc == 0)
            batch_decode(b, &x->types);
        for (size_t k = 0; rc == 0 && k < b->nkids; k++) {
            const char *id = b->strings + b->kids[k].id;
            uint64_t stored = DIGEST_UNKNOWN;
            int cmp;
            while (rc == 0 && dg_step == SQLITE_ROW && (cmp = compare_id(digests, 0, id)) <= 0) {
                if (cmp == 0)
                    stored = (uint64_t)sqlite3_column_int64(digests, 1);
                else
                    rc = add_orphan(&orphans, (const char *)sqlite3_column_text(digests, 0));
                dg_step = sqlite3_step(digests);
            }
            if (rc == 0 && dg_step != SQLITE_ROW && dg_step != SQLITE_DONE)
                rc = CC_EDB;
            if (rc == 0)
                rc = evaluate_loaded(x, b, k, stored);
        }
        last = b->last;
        reader_release(&r);
        if (rc == 0 && !last && x->commit_rows > 0 && x->stats->written - committed >= x->commit_rows &&
            b->nkids > 0) {
            rc = commit_and_go_on(x, &r, b->strings + b->kids[b->nkids - 1].id, &digests, &dg_step);
            committed = x->stats->written;
        }
    }
    while (rc == 0 && dg_step == SQLITE_ROW) {
        rc = add_orphan(&orphans, (const char *)sqlite3_column_text(digests, 0));
        dg_step = sqlite3_step(digests);
    }
    if (rc == 0 && dg_step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(digests);
    digests = NULL;
    for (size_t i = 0; rc == 0 && i < orphans.n; i++)
        rc = forget_child(x, orphans.ids[i]);
out:
    sqlite3_finalize(digests);
    reader_close(&r);
    cc_store_free_ids(orphans.ids, orphans.n);
    return rc;
}

/* ---- transactions and entry points ---- */

/* Run inside a transaction: the caller's if one is open, else our own. */
static int in_transaction(cc_store_t *store, int *own)
{
    *own = sqlite3_get_autocommit(cc_store_db(store));
    return *own ? cc_store_begin(store) : 0;
}

static int finish_transaction(cc_store_t *store, int own, int rc)
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
    ctx_t x;
    int own, rc = ctx_init(&x, store, rs, cal, today, now_utc, stats);
    if (rc != 0)
        return rc;
    rc = in_transaction(store, &own);
    if (rc == 0)
        rc = finish_transaction(store, own, evaluate_list(&x, ids, n));
    ctx_free(&x);
    return rc;
}

/* Evaluate every child in the change queue and acknowledge it, in the
 * current transaction. */
static int drain_changes(ctx_t *x)
{
    char **ids = NULL;
    size_t n = 0;
    int64_t upto = 0;
    int rc = cc_store_changes_take(x->store, &upto, &ids, &n);
    if (rc == 0 && n > 0)
        rc = evaluate_list(x, ids, n);
    if (rc == 0 && upto > 0)
        rc = cc_store_changes_ack(x->store, upto);
    cc_store_free_ids(ids, n);
    return rc;
}

int cc_evaluate_changes(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                        const char *now_utc, cc_eval_stats_t *stats)
{
    ctx_t x;
    int own, rc = ctx_init(&x, store, rs, cal, today, now_utc, stats);
    if (rc != 0)
        return rc;
    rc = in_transaction(store, &own);
    if (rc == 0)
        rc = finish_transaction(store, own, drain_changes(&x));
    ctx_free(&x);
    return rc;
}

static int meta_get(sqlite3 *db, const char *key, char *out, size_t len)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
        return CC_EDB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

static int meta_set(sqlite3 *db, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int rc = CC_EDB;
    if (sqlite3_prepare_v2(db, "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = "
                               "excluded.value",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : CC_EDB;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- the first computation: an empty clocks table ---- */

/* Filling an empty clocks table: inserting millions of rows into
 * clocks_by_status (ordered by status and due date, so every insert lands
 * somewhere else in it) costs more than the rows themselves, and one
 * transaction of millions of rows costs more per row than several smaller
 * ones (a WAL of gigabytes, never reused; bench/RESULTS.md, "Scale"). So
 * when the table is empty, its secondary indexes are dropped, the rows
 * inserted in key order over several transactions, and the indexes created
 * again from their own schema text (a sort) in the last one. Each index
 * dropped is owed: a meta row OWED_INDEX + its name holds its CREATE text,
 * written in the transaction that drops it and deleted in the one that
 * makes it again, so an evaluation cut short (a crash, a full disk) leaves
 * a note that the next full recompute honours (indexes_repair), and
 * cc_evaluate_refresh() sees it as a reason for one. Until then queries
 * on clocks are right, only slower. */
#define OWED_INDEX "owed_index:"
/* Bounds of the owed keys: ':' + 1 is ';'. */
#define OWED_FIRST OWED_INDEX
#define OWED_END "owed_index;"

/* *bulk is 1 when the table was empty and its indexes are now owed. */
static int bulk_begin(sqlite3 *db, int *bulk)
{
    sqlite3_stmt *st = NULL;
    int rc = CC_EDB, step;
    *bulk = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM clocks LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return CC_EDB;
    step = sqlite3_step(st);
    sqlite3_finalize(st);
    st = NULL;
    if (step == SQLITE_ROW)
        return 0;
    if (step != SQLITE_DONE)
        return CC_EDB;
    /* No rows, so no digest of them can stand (the rows were deleted by
     * hand, say): every child is written. */
    if (sqlite3_exec(db, "DELETE FROM clock_digests", NULL, NULL, NULL) != SQLITE_OK)
        return CC_EDB;
    if (sqlite3_prepare_v2(db, "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'clocks' "
                               "AND sql IS NOT NULL ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return CC_EDB;
    char **names = NULL;
    size_t nnames = 0, capnames = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0), *sql = (const char *)sqlite3_column_text(st, 1);
        if (name == NULL || sql == NULL)
            continue;
        char key[256];
        if (snprintf(key, sizeof(key), "%s%s", OWED_INDEX, name) >= (int)sizeof(key))
            continue; /* a name this long is kept, not dropped */
        if (meta_set(db, key, sql) != 0)
            goto out;
        if (cc__grow(&names, &capnames, nnames + 1, sizeof(char *), 4) != 0 ||
            (names[nnames] = strdup(name)) == NULL) {
            rc = CC_ENOMEM;
            goto out;
        }
        nnames++;
    }
    if (step != SQLITE_DONE)
        goto out;
    sqlite3_finalize(st);
    st = NULL;
    for (size_t i = 0; i < nnames; i++) {
        /* The name came from the schema; quote it as an identifier. */
        char *drop = sqlite3_mprintf("DROP INDEX \"%w\"", names[i]);
        int ok = drop != NULL && sqlite3_exec(db, drop, NULL, NULL, NULL) == SQLITE_OK;
        sqlite3_free(drop);
        if (!ok)
            goto out;
    }
    *bulk = 1;
    rc = 0;
out:
    sqlite3_finalize(st);
    cc_store_free_ids(names, nnames);
    return rc;
}

/* 1 when an index of clocks is owed, 0 when none is, or CC_EDB. */
static int indexes_owed(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int rc = CC_EDB;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM meta WHERE key >= ?1 AND key < ?2 LIMIT 1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, OWED_FIRST, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, OWED_END, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : CC_EDB;
    }
    sqlite3_finalize(st);
    return rc;
}

/* 1 when sql is one CREATE INDEX statement as SQLite stores it in
 * sqlite_schema ("CREATE INDEX" or "CREATE UNIQUE INDEX", nothing after
 * the statement) and st holds it, prepared. */
static int prepare_create_index(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    const char *tail = NULL;
    *st = NULL;
    if (sql == NULL ||
        (strncmp(sql, "CREATE INDEX ", 13) != 0 && strncmp(sql, "CREATE UNIQUE INDEX ", 20) != 0) ||
        sqlite3_prepare_v2(db, sql, -1, st, &tail) != SQLITE_OK || *st == NULL)
        return 0;
    return tail == NULL || tail[strspn(tail, " \t\r\n;")] == '\0';
}

/* Create every owed index that does not exist (another full recompute may
 * have made it already) and settle the notes. Each text is the CREATE
 * INDEX statement SQLite stored for it, copied by bulk_begin; meta is
 * writable by others, so it is run only if it is one statement and a
 * CREATE INDEX (prepare_create_index): anything else is never run, and its
 * note is deleted with the others (a stray note must not stop every
 * recompute). */
static int indexes_repair(sqlite3 *db)
{
    sqlite3_stmt *owed = NULL, *exists = NULL;
    int rc = CC_EDB, step;
    if (sqlite3_prepare_v2(db, "SELECT substr(key, ?3), value FROM meta WHERE key >= ?1 AND key < ?2 ORDER BY key",
                           -1, &owed, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1", -1, &exists,
                           NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(owed, 1, OWED_FIRST, -1, SQLITE_STATIC);
    sqlite3_bind_text(owed, 2, OWED_END, -1, SQLITE_STATIC);
    sqlite3_bind_int(owed, 3, (int)strlen(OWED_INDEX) + 1);
    while ((step = sqlite3_step(owed)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(owed, 0);
        const char *sql = (const char *)sqlite3_column_text(owed, 1);
        sqlite3_reset(exists);
        sqlite3_bind_text(exists, 1, name, -1, SQLITE_TRANSIENT);
        int found = sqlite3_step(exists);
        if (found == SQLITE_ROW)
            continue;
        if (found != SQLITE_DONE)
            goto out;
        sqlite3_stmt *st = NULL;
        int ok = !prepare_create_index(db, sql, &st) || sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
        if (!ok)
            goto out;
    }
    if (step != SQLITE_DONE)
        goto out;
    sqlite3_finalize(owed);
    owed = NULL;
    if (sqlite3_prepare_v2(db, "DELETE FROM meta WHERE key >= ?1 AND key < ?2", -1, &owed, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(owed, 1, OWED_FIRST, -1, SQLITE_STATIC);
    sqlite3_bind_text(owed, 2, OWED_END, -1, SQLITE_STATIC);
    rc = sqlite3_step(owed) == SQLITE_DONE ? 0 : CC_EDB;
out:
    sqlite3_finalize(owed);
    sqlite3_finalize(exists);
    return rc;
}

/* Rows the first computation writes per transaction (commit_and_go_on):
 * about 50 MB of WAL, under the 64 MiB it is cut back to. */
#define DEFAULT_COMMIT_ROWS 250000
static size_t g_commit_rows = DEFAULT_COMMIT_ROWS;

void cc_evaluate_set_commit_rows(size_t rows)
{
    g_commit_rows = rows > 0 ? rows : DEFAULT_COMMIT_ROWS;
}

/* The page cache for a full recompute, in KiB: enough for the leaf pages
 * that the clocks_by_status index is written at (one per status and due
 * date) to stay in memory instead of being written out and read back
 * mid-transaction. Restored to the connection's own setting afterwards. */
#define FULL_CACHE_KIB 65536

static void set_cache_size(sqlite3 *db, long long value)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = %lld", value);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int cc_evaluate_all(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                    const char *fingerprint, const char *now_utc, cc_eval_stats_t *stats)
{
    ctx_t x;
    char day[CC_DATE_STRLEN];
    long long cache = 0;
    int own, rc = ctx_init(&x, store, rs, cal, today, now_utc, stats);
    if (rc != 0)
        return rc;
    int restore_cache = pragma_int(x.db, "PRAGMA cache_size", &cache) == 0 &&
                        (cache < 0 ? -cache : cache * 4) < FULL_CACHE_KIB;
    if (restore_cache)
        set_cache_size(x.db, -FULL_CACHE_KIB);
    rc = in_transaction(store, &own);
    if (rc != 0)
        goto out;
    rc = bulk_begin(x.db, &x.bulk);
    /* In its own transactions, a first computation (or the rest of one cut
     * short, its indexes still owed) commits as it goes. */
    int owed = rc == 0 ? indexes_owed(x.db) : 0;
    if (owed < 0)
        rc = owed;
    else if (own && (x.bulk || owed))
        x.commit_rows = g_commit_rows;
    /* Every child is evaluated, so the whole queue is consumed. Inside our
     * transaction nobody else can add to it, so this is "up to its highest
     * id", and without a WHERE clause SQLite truncates instead of deleting
     * row by row (a bulk load may have queued millions). */
    if (rc == 0 && sqlite3_exec(x.db, "DELETE FROM changes", NULL, NULL, NULL) != SQLITE_OK)
        rc = CC_EDB;
    if (rc == 0)
        rc = evaluate_stream(&x, own);
    /* What others queued between our transactions (none when there was
     * only one), then the indexes the first computation owes. */
    x.bulk = 0;
    if (rc == 0)
        rc = drain_changes(&x);
    if (rc == 0)
        rc = indexes_repair(x.db);
    if (rc == 0)
        rc = meta_set(x.db, "clocks_as_of", cc_date_format(today, day));
    if (rc == 0 && fingerprint != NULL)
        rc = meta_set(x.db, "rules_fingerprint", fingerprint);
    rc = finish_transaction(store, own, rc);
out:
    if (restore_cache)
        set_cache_size(x.db, cache);
    ctx_free(&x);
    return rc;
}

int cc_evaluate_refresh(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                        const char *fingerprint, const char *now_utc, cc_eval_stats_t *stats)
{
    char as_of[32], fp[32], day[CC_DATE_STRLEN];
    sqlite3 *db = cc_store_db(store);
    int a = meta_get(db, "clocks_as_of", as_of, sizeof(as_of));
    int f = meta_get(db, "rules_fingerprint", fp, sizeof(fp));
    int owed = indexes_owed(db);
    if (a < 0 || f < 0 || owed < 0)
        return CC_EDB;
    /* An index still owed: a first computation was cut short. */
    if (owed || !a || strcmp(as_of, cc_date_format(today, day)) != 0 || (fingerprint && strcmp(fp, fingerprint) != 0))
        return cc_evaluate_all(store, rs, cal, today, fingerprint, now_utc, stats);
    return cc_evaluate_changes(store, rs, cal, today, now_utc, stats);
}
