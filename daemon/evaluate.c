/* Evaluation: database in, engine, database out. See evaluate.h.
 *
 * Write-back compares the new instances of a child with the rows it has
 * and touches only what differs, so updated_at means "last changed" and a
 * recompute of an unchanged child writes nothing.
 */
#include "careclock/evaluate.h"
#include "careclock/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *cc_evaluate_now_utc(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

void cc_evaluate_fingerprint(const char *const *files, size_t n, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    unsigned char block[8192];
    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(files[i], "rb");
        for (const char *p = files[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        if (f == NULL)
            continue;
        size_t got;
        while ((got = fread(block, 1, sizeof(block), f)) > 0)
            for (size_t j = 0; j < got; j++)
                h = (h ^ block[j]) * 1099511628211ULL;
        fclose(f);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

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

/* ---- writing back ---- */

typedef struct {
    sqlite3_stmt *existing, *upsert, *remove, *children, *meta_get, *meta_set;
} stmts_t;

static void stmts_free(stmts_t *s)
{
    sqlite3_finalize(s->existing);
    sqlite3_finalize(s->upsert);
    sqlite3_finalize(s->remove);
    sqlite3_finalize(s->children);
    sqlite3_finalize(s->meta_get);
    sqlite3_finalize(s->meta_set);
    memset(s, 0, sizeof(*s));
}

static int stmts_prepare(sqlite3 *db, stmts_t *s)
{
    memset(s, 0, sizeof(*s));
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
    const char *remove = "DELETE FROM clocks WHERE child_id = ?1 AND rule_id = ?2 AND seq = ?3";
    if (sqlite3_prepare_v2(db, existing, -1, &s->existing, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, upsert, -1, &s->upsert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, remove, -1, &s->remove, NULL) != SQLITE_OK) {
        stmts_free(s);
        return CC_EDB;
    }
    return 0;
}

/* The row a clock instance becomes, as text, for comparison and binding. */
typedef struct {
    const char *rule_id, *title, *source, *status, *reason;
    char start[CC_DATE_STRLEN], due[CC_DATE_STRLEN], met[CC_DATE_STRLEN];
    int seq;
    int64_t start_event, met_event;
    unsigned flags;
    int seen; /* matched an existing row */
} row_t;

static void to_row(const cc_ruleset_t *rs, const cc_clock_t *c, row_t *row)
{
    const cc_rule_t *rule = c->rule >= 0 ? cc_ruleset_rule(rs, (size_t)c->rule) : NULL;
    memset(row, 0, sizeof(*row));
    row->rule_id = rule ? rule->id : CC_DATA_ERROR_RULE;
    row->title = rule ? rule->title : "Child's data cannot be evaluated";
    row->source = rule ? rule->source : "";
    row->status = cc_status_name(c->status);
    row->reason = c->reason;
    row->seq = c->seq;
    if (c->start != CC_DATE_NONE)
        cc_date_format(c->start, row->start);
    if (c->due != CC_DATE_NONE)
        cc_date_format(c->due, row->due);
    if (c->met_on != CC_DATE_NONE)
        cc_date_format(c->met_on, row->met);
    row->start_event = c->start_event;
    row->met_event = c->met_event;
    row->flags = c->flags;
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

static int write_child(stmts_t *s, const char *child_id, row_t *rows, size_t n, const char *now_utc,
                       cc_eval_stats_t *stats)
{
    int step;
    sqlite3_reset(s->existing);
    sqlite3_bind_text(s->existing, 1, child_id, -1, SQLITE_TRANSIENT);
    /* Existing rows: unchanged ones are marked seen; vanished ones deleted. */
    while ((step = sqlite3_step(s->existing)) == SQLITE_ROW) {
        const char *rule_id = (const char *)sqlite3_column_text(s->existing, 0);
        int seq = sqlite3_column_int(s->existing, 1);
        row_t *match = NULL;
        for (size_t i = 0; i < n; i++)
            if (rows[i].seq == seq && strcmp(rows[i].rule_id, rule_id ? rule_id : "") == 0)
                match = &rows[i];
        if (match != NULL) {
            match->seen = same_text(s->existing, 2, match->title) && same_text(s->existing, 3, match->start) &&
                          same_text(s->existing, 4, match->due) && same_text(s->existing, 5, match->status) &&
                          same_text(s->existing, 6, match->met) && same_int(s->existing, 7, match->start_event) &&
                          same_int(s->existing, 8, match->met_event) && same_text(s->existing, 9, match->reason) &&
                          same_int(s->existing, 10, match->flags) && same_text(s->existing, 11, match->source);
            continue;
        }
        sqlite3_reset(s->remove);
        sqlite3_bind_text(s->remove, 1, child_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s->remove, 2, rule_id ? rule_id : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(s->remove, 3, seq);
        if (sqlite3_step(s->remove) != SQLITE_DONE)
            return CC_EDB;
        stats->deleted++;
    }
    if (step != SQLITE_DONE)
        return CC_EDB;
    sqlite3_reset(s->existing);
    for (size_t i = 0; i < n; i++) {
        row_t *r = &rows[i];
        if (r->seen)
            continue;
        sqlite3_stmt *u = s->upsert;
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
        sqlite3_bind_text(u, 14, now_utc, -1, SQLITE_STATIC);
        if (sqlite3_step(u) != SQLITE_DONE)
            return CC_EDB;
        stats->written++;
    }
    return 0;
}

static int evaluate_list(cc_store_t *store, stmts_t *s, const cc_ruleset_t *rs, const cc_calendar_t *cal,
                         cc_date_t today, const char *now_utc, char *const *ids, size_t n, cc_eval_stats_t *stats)
{
    cc_clocks_t clocks;
    row_t *rows = NULL;
    size_t caprows = 0;
    int rc = 0;
    cc_clocks_init(&clocks);
    for (size_t i = 0; i < n && rc == 0; i++) {
        cc_eval_child_t child;
        rc = cc_evaluate_load_child(store, rs, ids[i], &child);
        if (rc == CC_ENOTFOUND) {
            /* Deleted since it was queued: its clocks go too. */
            rc = write_child(s, ids[i], NULL, 0, now_utc, stats);
            continue;
        }
        if (rc != 0)
            break;
        cc_clocks_reset(&clocks);
        rc = cc_engine_run(rs, cal, today, &child.child, child.events, child.nevents, &clocks);
        if (rc == 0 && clocks.len > caprows) {
            row_t *grown = realloc(rows, clocks.len * sizeof(*rows));
            if (grown == NULL)
                rc = CC_ENOMEM;
            else {
                rows = grown;
                caprows = clocks.len;
            }
        }
        for (size_t j = 0; rc == 0 && j < clocks.len; j++) {
            to_row(rs, &clocks.items[j], &rows[j]);
            stats->uncovered += (clocks.items[j].flags & CC_CLOCK_UNCOVERED) != 0;
        }
        if (rc == 0) {
            stats->children++;
            stats->clocks += clocks.len;
            stats->data_errors += clocks.len == 1 && clocks.items[0].status == CC_STATUS_DATA_ERROR;
            rc = write_child(s, ids[i], rows, clocks.len, now_utc, stats);
        }
        cc_evaluate_child_free(&child);
    }
    free(rows);
    cc_clocks_free(&clocks);
    return rc;
}

/* Run fn inside a transaction: the caller's if one is open, else our own. */
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
    stmts_t s;
    int own, rc = stmts_prepare(cc_store_db(store), &s);
    if (rc != 0)
        return rc;
    rc = in_transaction(store, &own);
    if (rc == 0)
        rc = finish_transaction(store, own, evaluate_list(store, &s, rs, cal, today, now_utc, ids, n, stats));
    stmts_free(&s);
    return rc;
}

int cc_evaluate_changes(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                        const char *now_utc, cc_eval_stats_t *stats)
{
    stmts_t s;
    char **ids = NULL;
    size_t n = 0;
    int64_t upto = 0;
    int own, rc = stmts_prepare(cc_store_db(store), &s);
    if (rc != 0)
        return rc;
    rc = in_transaction(store, &own);
    if (rc != 0)
        goto out;
    rc = cc_store_changes_take(store, &upto, &ids, &n);
    if (rc == 0 && n > 0)
        rc = evaluate_list(store, &s, rs, cal, today, now_utc, ids, n, stats);
    if (rc == 0 && upto > 0)
        rc = cc_store_changes_ack(store, upto);
    rc = finish_transaction(store, own, rc);
out:
    cc_store_free_ids(ids, n);
    stmts_free(&s);
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

int cc_evaluate_all(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                    const char *fingerprint, const char *now_utc, cc_eval_stats_t *stats)
{
    stmts_t s;
    char **ids = NULL, **queued = NULL, day[CC_DATE_STRLEN];
    size_t n = 0, nqueued = 0;
    int64_t upto = 0;
    int own, rc = stmts_prepare(cc_store_db(store), &s);
    if (rc != 0)
        return rc;
    rc = in_transaction(store, &own);
    if (rc != 0)
        goto out;
    rc = cc_store_changes_take(store, &upto, &queued, &nqueued);
    if (rc == 0)
        rc = cc_store_child_ids(store, &ids, &n);
    if (rc == 0)
        rc = evaluate_list(store, &s, rs, cal, today, now_utc, ids, n, stats);
    /* Children deleted since: remove their clocks. */
    if (rc == 0 && sqlite3_exec(cc_store_db(store),
                                "DELETE FROM clocks WHERE child_id NOT IN (SELECT id FROM children)", NULL, NULL,
                                NULL) != SQLITE_OK)
        rc = CC_EDB;
    if (rc == 0 && upto > 0)
        rc = cc_store_changes_ack(store, upto);
    if (rc == 0)
        rc = meta_set(cc_store_db(store), "clocks_as_of", cc_date_format(today, day));
    if (rc == 0 && fingerprint != NULL)
        rc = meta_set(cc_store_db(store), "rules_fingerprint", fingerprint);
    rc = finish_transaction(store, own, rc);
out:
    cc_store_free_ids(ids, n);
    cc_store_free_ids(queued, nqueued);
    stmts_free(&s);
    return rc;
}

int cc_evaluate_refresh(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                        const char *fingerprint, const char *now_utc, cc_eval_stats_t *stats)
{
    char as_of[32], fp[32], day[CC_DATE_STRLEN];
    sqlite3 *db = cc_store_db(store);
    int a = meta_get(db, "clocks_as_of", as_of, sizeof(as_of));
    int f = meta_get(db, "rules_fingerprint", fp, sizeof(fp));
    if (a < 0 || f < 0)
        return CC_EDB;
    if (!a || strcmp(as_of, cc_date_format(today, day)) != 0 || (fingerprint && strcmp(fp, fingerprint) != 0))
        return cc_evaluate_all(store, rs, cal, today, fingerprint, now_utc, stats);
    return cc_evaluate_changes(store, rs, cal, today, now_utc, stats);
}
