/* Events: what happened to a child. See include/careclock/events.h.
 *
 * Design note: a looked_after_end is checked against the child's episode
 * events before it is written (check_episode_end), so the store refuses
 * an end of care the engine could only report as a data error; events
 * written by other systems are not checked here, and the engine reports
 * what it cannot use.
 */
#include "careclock/events.h"
#include "careclock/error.h"
#include "careclock/people.h"
#include "store/internal.h"

#include <stdlib.h>
#include <string.h>

enum {
    ST_SOURCE_KEY_EXISTS,
    ST_EPISODE_EVENTS,
    ST_EVENT_INSERT,
    ST_EVENT_LIST,
    ST_EVENT_GET,
    ST_EVENT_DELETE,
    ST_COUNT
};

#define EVENT_COLUMNS "id, child_id, type, date, attributes, recorded_at, source, source_key, note"

static const char *const SQL[] = {
    [ST_SOURCE_KEY_EXISTS] = "SELECT 1 FROM events WHERE source_key = ?1",
    [ST_EPISODE_EVENTS] = "SELECT type, date FROM events WHERE child_id = ?1 "
                          "AND type IN ('looked_after_start', 'looked_after_end')",
    [ST_EVENT_INSERT] = "INSERT INTO events (child_id, type, date, attributes, source, source_key, note) "
                        "VALUES (?1, ?2, ?3, coalesce(?4, '{}'), coalesce(?5, 'cli'), ?6, ?7)",
    [ST_EVENT_LIST] = "SELECT " EVENT_COLUMNS " FROM events WHERE child_id = ?1 ORDER BY date, id",
    [ST_EVENT_GET] = "SELECT " EVENT_COLUMNS " FROM events WHERE id = ?1",
    [ST_EVENT_DELETE] = "DELETE FROM events WHERE id = ?1",
};

_Static_assert(sizeof(SQL) / sizeof(SQL[0]) == ST_COUNT, "one SQL text per statement of the enum");

static sqlite3_stmt *stmt(cc_store_t *s, int which)
{
    assert(which >= 0 && which < ST_COUNT && SQL[which] != NULL);
    return cc__store_stmt(s, SQL[which]);
}

/* A looked_after_end on date must close an open episode: the latest
 * looked_after_start on or before date, with no end after that start up to
 * date. Stored dates another system wrote that do not parse are ignored
 * here (the engine reports them). An end on the very day of the start it
 * follows counts as belonging to the episode before, so a same-day return
 * to care is not refused. Two passes over the child's few episode events:
 * the starts, then the ends after the chosen start. */
static int check_episode_end(cc_store_t *s, const char *child_id, cc_date_t date, char *err, size_t errlen)
{
    cc_date_t start = CC_DATE_NONE, later_start = CC_DATE_NONE, ended = CC_DATE_NONE;
    int rc = SQLITE_DONE;
    sqlite3_stmt *st = stmt(s, ST_EPISODE_EVENTS);
    if (st == NULL || cc__store_bind_text(st, 1, child_id) != SQLITE_OK)
        return cc__store_db_fail(s, err, errlen);
    for (int pass = 0; pass < 2 && rc == SQLITE_DONE; pass++) {
        while ((rc = cc__store_step(st)) == SQLITE_ROW) {
            const char *type = (const char *)sqlite3_column_text(st, 0);
            const char *text = (const char *)sqlite3_column_text(st, 1);
            cc_date_t d;
            if (type == NULL || text == NULL || cc_date_parse(text, &d) != 0)
                continue;
            int is_start = strcmp(type, "looked_after_start") == 0;
            if (pass == 0 && is_start && d <= date && (start == CC_DATE_NONE || d > start))
                start = d;
            if (pass == 0 && is_start && d > date && (later_start == CC_DATE_NONE || d < later_start))
                later_start = d;
            if (pass == 1 && !is_start && d > start && d <= date && (ended == CC_DATE_NONE || d < ended))
                ended = d;
        }
        sqlite3_reset(st);
        if (start == CC_DATE_NONE)
            break;
    }
    if (rc != SQLITE_DONE)
        return cc__store_db_fail(s, err, errlen);
    char iso[CC_DATE_STRLEN], first[CC_DATE_STRLEN], other[CC_DATE_STRLEN];
    cc_date_format(date, iso);
    if (start == CC_DATE_NONE) {
        if (later_start != CC_DATE_NONE)
            cc_set_err(err, errlen,
                    "looked_after_end date \"%s\" is before the start of the episode of care it would close "
                    "(looked_after_start on %s)",
                    iso, cc_date_format(later_start, other));
        else
            cc_set_err(err, errlen, "looked_after_end date \"%s\": child %s has no looked_after_start on or before it",
                    iso, CC__Q(child_id));
        return CC_ESTATE;
    }
    if (ended != CC_DATE_NONE) {
        cc_set_err(err, errlen,
                "looked_after_end date \"%s\": the episode of care that started on %s already ended on %s", iso,
                cc_date_format(start, first), cc_date_format(ended, other));
        return CC_ESTATE;
    }
    return 0;
}

int cc_store_event_add(cc_store_t *s, const cc_store_event_in_t *ev, int64_t *id, char *err, size_t errlen)
{
    assert(s != NULL && ev != NULL);
    char date[CC_DATE_STRLEN];
    int own, rc = cc__store_write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = cc__store_check_ref(s, cc_store_child_exists, "child", ev->child_id, err, errlen)) != 0 ||
        (rc = cc__store_check_text("type", ev->type, 1, err, errlen)) != 0 ||
        (rc = cc__store_check_text("source", ev->source, 0, err, errlen)) != 0 ||
        (rc = cc__store_check_text("note", ev->note, 0, err, errlen)) != 0)
        goto out;
    if (ev->attributes != NULL && strlen(ev->attributes) > CC_ATTRS_MAX) {
        /* The engine would make the child a data error (engine.h). */
        cc_set_err(err, errlen, "the attributes are %zu bytes, more than the %d allowed", strlen(ev->attributes),
                   CC_ATTRS_MAX);
        rc = CC_EINVAL;
        goto out;
    }
    if (ev->source_key != NULL) {
        if ((rc = cc__store_check_text("source_key", ev->source_key, 1, err, errlen)) != 0)
            goto out;
        if ((rc = cc__store_exists(s, SQL[ST_SOURCE_KEY_EXISTS], ev->source_key)) != 0) {
            if (rc < 0) {
                rc = cc__store_db_fail(s, err, errlen);
            } else {
                cc_set_err(err, errlen, "source_key %s already exists", CC__Q(ev->source_key));
                rc = CC_EEXIST;
            }
            goto out;
        }
    }
    if (strcmp(ev->type, "looked_after_end") == 0 &&
        (rc = check_episode_end(s, ev->child_id, ev->date, err, errlen)) != 0)
        goto out;
    cc_date_format(ev->date, date);
    sqlite3_stmt *st = stmt(s, ST_EVENT_INSERT);
    if (st == NULL || cc__store_bind_text(st, 1, ev->child_id) || cc__store_bind_text(st, 2, ev->type) ||
        cc__store_bind_text(st, 3, date) || cc__store_bind_text(st, 4, ev->attributes) ||
        cc__store_bind_text(st, 5, ev->source) || cc__store_bind_text(st, 6, ev->source_key) ||
        cc__store_bind_text(st, 7, ev->note) || cc__store_run(st) != 0) {
        rc = cc__store_db_fail(s, err, errlen);
        goto out;
    }
    if (id != NULL)
        *id = sqlite3_last_insert_rowid(cc_store_db(s));
out:
    return cc__store_write_end(s, own, rc, err, errlen);
}

static char *column_dup(sqlite3_stmt *st, int col, int *oom)
{
    const unsigned char *text = sqlite3_column_text(st, col);
    if (text == NULL)
        return NULL;
    char *copy = strdup((const char *)text);
    if (copy == NULL)
        *oom = 1;
    return copy;
}

void cc_store_event_clear(cc_store_event_t *ev)
{
    if (ev == NULL)
        return;
    free(ev->child_id);
    free(ev->type);
    free(ev->date);
    free(ev->attributes);
    free(ev->recorded_at);
    free(ev->source);
    free(ev->source_key);
    free(ev->note);
    memset(ev, 0, sizeof(*ev));
}

/* Copy the current row of an EVENT_COLUMNS query. 0 or CC_ENOMEM. */
static int event_from_row(sqlite3_stmt *st, cc_store_event_t *ev)
{
    int oom = 0;
    ev->id = sqlite3_column_int64(st, 0);
    ev->child_id = column_dup(st, 1, &oom);
    ev->type = column_dup(st, 2, &oom);
    ev->date = column_dup(st, 3, &oom);
    ev->attributes = column_dup(st, 4, &oom);
    ev->recorded_at = column_dup(st, 5, &oom);
    ev->source = column_dup(st, 6, &oom);
    ev->source_key = column_dup(st, 7, &oom);
    ev->note = column_dup(st, 8, &oom);
    if (oom) {
        cc_store_event_clear(ev);
        return CC_ENOMEM;
    }
    return 0;
}

void cc_store_events_free(cc_store_events_t *events)
{
    if (events == NULL)
        return;
    for (size_t i = 0; i < events->len; i++)
        cc_store_event_clear(&events->items[i]);
    free(events->items);
    events->items = NULL;
    events->len = 0;
}

int cc_store_event_list(cc_store_t *s, const char *child_id, cc_store_events_t *out, char *err, size_t errlen)
{
    assert(s != NULL && out != NULL);
    size_t cap = 0;
    int rc;
    out->items = NULL;
    out->len = 0;
    if ((rc = cc__store_check_ref(s, cc_store_child_exists, "child", child_id, err, errlen)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, ST_EVENT_LIST);
    if (st == NULL || cc__store_bind_text(st, 1, child_id) != SQLITE_OK)
        return cc__store_db_fail(s, err, errlen);
    while ((rc = cc__store_step(st)) == SQLITE_ROW) {
        if (out->len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            cc_store_event_t *items = realloc(out->items, ncap * sizeof(*items));
            if (items == NULL)
                goto oom;
            out->items = items;
            cap = ncap;
        }
        if (event_from_row(st, &out->items[out->len]) != 0)
            goto oom;
        out->len++;
    }
    if (rc != SQLITE_DONE) {
        rc = cc__store_db_fail(s, err, errlen);
        sqlite3_reset(st);
        cc_store_events_free(out);
        return rc;
    }
    sqlite3_reset(st);
    return 0;
oom:
    sqlite3_reset(st);
    cc_store_events_free(out);
    cc_set_err(err, errlen, "out of memory");
    return CC_ENOMEM;
}

int cc_store_event_delete(cc_store_t *s, int64_t id, cc_store_event_t *deleted, char *err, size_t errlen)
{
    assert(s != NULL);
    cc_store_event_t row = {0};
    int own, rc = cc__store_write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, ST_EVENT_GET);
    if (st == NULL || sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
        rc = cc__store_db_fail(s, err, errlen);
        goto out;
    }
    rc = cc__store_step(st);
    if (rc == SQLITE_ROW) {
        rc = event_from_row(st, &row);
        if (rc != 0)
            cc_set_err(err, errlen, "out of memory");
    } else if (rc == SQLITE_DONE) {
        cc_set_err(err, errlen, "event %lld does not exist", (long long)id);
        rc = CC_ENOTFOUND;
    } else {
        rc = cc__store_db_fail(s, err, errlen);
    }
    sqlite3_reset(st);
    if (rc != 0)
        goto out;
    st = stmt(s, ST_EVENT_DELETE);
    if (st == NULL || sqlite3_bind_int64(st, 1, id) != SQLITE_OK || cc__store_run(st) != 0)
        rc = cc__store_db_fail(s, err, errlen);
out:
    rc = cc__store_write_end(s, own, rc, err, errlen);
    if (rc == 0 && deleted != NULL)
        *deleted = row;
    else
        cc_store_event_clear(&row);
    return rc;
}


int cc_store_event_counts(cc_store_t *s, const char *type, cc_store_event_count_fn fn, void *arg)
{
    assert(s != NULL && type != NULL && fn != NULL);
    static const char COUNTS_SQL[] = "SELECT source, n FROM event_counts WHERE type = ?1 AND n > 0 ORDER BY source";
    sqlite3_stmt *st = cc__store_stmt(s, COUNTS_SQL);
    if (st == NULL)
        return CC_EDB;
    cc__store_bind_text(st, 1, type);
    int step, rc = 0;
    while (rc == 0 && (step = cc__store_step(st)) == SQLITE_ROW) {
        const char *source = cc__store_col(st, 0);
        rc = fn(arg, source ? source : "", sqlite3_column_int64(st, 1));
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_reset(st);
    return rc;
}
