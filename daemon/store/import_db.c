/* SSDA903 import, the shell: bring the plan database in line with a
 * mapped import (daemon/core/import.c). See cc_import_apply in
 * include/careclock/import.h and docs/import.md.
 *
 * Design notes:
 *  - One transaction for everything, so an import is all or nothing; a
 *    dry run is the same transaction rolled back.
 *  - Child by child: one indexed read of the child's row and one of its
 *    imported events (events_by_child), then only the writes that differ.
 *    Nothing equal is rewritten, so a second import of the same files
 *    writes nothing: no audit rows, no change-queue rows, no recompute.
 *  - Every statement is prepared once and bound; no SQL is built from file
 *    text.
 */
#include "careclock/import_db.h"
#include "careclock/buf.h"
#include "careclock/error.h"
#include "careclock/people.h"
#include "store/internal.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    Q_CHILD_GET,
    Q_CHILD_INSERT,
    Q_CHILD_DOB,
    Q_EVENTS_OF,
    Q_EVENT_INSERT,
    Q_EVENT_UPDATE,
    Q_EVENT_DELETE,
    Q_COUNT
};

static const char *const SQL[Q_COUNT] = {
    [Q_CHILD_GET] = "SELECT dob FROM children WHERE id = ?1",
    [Q_CHILD_INSERT] = "INSERT INTO children (id, dob, team_id) VALUES (?1, ?2, '" CC_IMPORT_TEAM "')",
    [Q_CHILD_DOB] = "UPDATE children SET dob = ?2 WHERE id = ?1",
    [Q_EVENTS_OF] = "SELECT id, source_key, type, date, attributes FROM events "
                    "WHERE child_id = ?1 AND source = '" CC_IMPORT_SOURCE "' AND source_key IS NOT NULL",
    [Q_EVENT_INSERT] = "INSERT INTO events (child_id, type, date, attributes, source, source_key) "
                       "VALUES (?1, ?2, ?3, ?4, '" CC_IMPORT_SOURCE "', ?5)",
    [Q_EVENT_UPDATE] = "UPDATE events SET type = ?2, date = ?3, attributes = ?4 WHERE id = ?1",
    [Q_EVENT_DELETE] = "DELETE FROM events WHERE id = ?1",
};

/* One imported event already in the database. Strings live in text. */
typedef struct {
    int64_t id;
    size_t key, type, date, attrs; /* offsets into text */
    int seen;
} existing_t;

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *st[Q_COUNT];
    existing_t *ex;
    size_t nex, capex;
    cc_buf_t text;
    int team_ready;
    char *err;
    size_t errlen;
    cc_import_result_t *res;
} apply_t;

static int db_fail(apply_t *a)
{
    snprintf(a->err, a->errlen, "database: %s", cc_store_db_errmsg(a->db, NULL));
    return CC_EDB;
}

static sqlite3_stmt *q(apply_t *a, int which)
{
    sqlite3_stmt *st = a->st[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static int done(apply_t *a, sqlite3_stmt *st)
{
    int rc = cc__store_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_fail(a);
}

static const char *at(const apply_t *a, size_t offset)
{
    return a->text.data + offset;
}

/* Load the child's imported events into a->ex. */
static int load_existing(apply_t *a, const char *child)
{
    sqlite3_stmt *st = q(a, Q_EVENTS_OF);
    int rc;
    a->nex = 0;
    cc_buf_reset(&a->text);
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    while ((rc = cc__store_step(st)) == SQLITE_ROW) {
        if (cc__grow(&a->ex, &a->capex, a->nex + 1, sizeof(*a->ex), 32) != 0)
            goto oom;
        existing_t *e = &a->ex[a->nex++];
        size_t *offs[4] = {&e->key, &e->type, &e->date, &e->attrs};
        e->id = sqlite3_column_int64(st, 0);
        e->seen = 0;
        for (int c = 0; c < 4; c++) {
            const char *v = (const char *)sqlite3_column_text(st, c + 1);
            *offs[c] = a->text.len;
            if (cc_buf_append(&a->text, v ? v : "", v ? strlen(v) + 1 : 1) != 0)
                goto oom;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_fail(a);
oom:
    sqlite3_reset(st);
    snprintf(a->err, a->errlen, "out of memory");
    return CC_ENOMEM;
}

static existing_t *find_existing(apply_t *a, const char *key)
{
    for (size_t i = 0; i < a->nex; i++)
        if (!a->ex[i].seen && strcmp(at(a, a->ex[i].key), key) == 0)
            return &a->ex[i];
    return NULL;
}

enum { SAME, INSERTED, UPDATED, DELETED, NOTHING };

/* Make the event with key exist as (type, date, attrs), or not exist when
 * type is NULL. Returns SAME, INSERTED, UPDATED, DELETED, NOTHING, or a
 * negative error. */
static int sync_event(apply_t *a, const char *child, const char *key, const char *type, cc_date_t date,
                      const char *attrs)
{
    char iso[CC_DATE_STRLEN];
    existing_t *e = find_existing(a, key);
    sqlite3_stmt *st;
    int rc;
    if (e != NULL)
        e->seen = 1;
    if (type == NULL) {
        if (e == NULL)
            return NOTHING;
        st = q(a, Q_EVENT_DELETE);
        sqlite3_bind_int64(st, 1, e->id);
        if ((rc = done(a, st)) != 0)
            return rc;
        a->res->events_deleted++;
        return DELETED;
    }
    cc_date_format(date, iso);
    if (e != NULL && strcmp(at(a, e->type), type) == 0 && strcmp(at(a, e->date), iso) == 0 &&
        strcmp(at(a, e->attrs), attrs) == 0)
        return SAME;
    if (e != NULL) {
        st = q(a, Q_EVENT_UPDATE);
        sqlite3_bind_int64(st, 1, e->id);
    } else {
        st = q(a, Q_EVENT_INSERT);
        sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, key, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, iso, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, attrs, -1, SQLITE_STATIC);
    if ((rc = done(a, st)) != 0)
        return rc;
    if (e != NULL) {
        a->res->events_updated++;
        return UPDATED;
    }
    a->res->events_inserted++;
    return INSERTED;
}

/* The date an imported key is filed under (DECOM for an episode's events,
 * the date of a review), or CC_DATE_NONE when the key is not one of ours;
 * *kind says which file the key's event came from. */
static cc_date_t key_date(const char *key, const char *child, cc_import_kind_t *kind)
{
    size_t n = strlen(child);
    cc_date_t d;
    char iso[CC_DATE_STRLEN];
    *kind = CC_IMPORT_UNKNOWN;
    if (strncmp(key, "903:", 4) != 0 || strncmp(key + 4, child, n) != 0 || key[4 + n] != ':')
        return CC_DATE_NONE;
    const char *rest = key + 5 + n;
    if (strncmp(rest, "episode:", 8) == 0) {
        rest += 8;
        *kind = CC_IMPORT_EPISODES;
    } else if (strncmp(rest, "review:", 7) == 0) {
        rest += 7;
        *kind = CC_IMPORT_REVIEWS;
    } else {
        return CC_DATE_NONE;
    }
    if (strlen(rest) < 10)
        return CC_DATE_NONE;
    memcpy(iso, rest, 10);
    iso[10] = '\0';
    return cc_date_parse_iso(iso, &d) == 0 ? d : CC_DATE_NONE;
}

static int ensure_team(apply_t *a, cc_store_t *store)
{
    if (a->team_ready)
        return 0;
    int rc = cc_store_team_exists(store, CC_IMPORT_TEAM);
    if (rc < 0)
        return db_fail(a);
    if (rc == 0) {
        cc_store_team_t team = {.id = CC_IMPORT_TEAM, .name = "Unallocated (SSDA903 import)"};
        if ((rc = cc_store_team_add(store, &team, a->err, a->errlen)) != 0)
            return rc;
        a->res->team_created = 1;
    }
    a->team_ready = 1;
    return 0;
}

static int sync_child_row(apply_t *a, cc_store_t *store, const cc_import_child_t *c)
{
    char iso[CC_DATE_STRLEN];
    sqlite3_stmt *st = q(a, Q_CHILD_GET);
    sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
    int step = cc__store_step(st);
    cc_date_t have = CC_DATE_NONE;
    if (step == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        if (text == NULL || cc_date_parse(text, &have) != 0)
            have = CC_DATE_NONE;
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return db_fail(a);
    cc_date_format(c->dob, iso);
    if (step == SQLITE_ROW) {
        if (have == c->dob) {
            a->res->children_unchanged++;
            return 0;
        }
        st = q(a, Q_CHILD_DOB);
        a->res->children_updated++;
    } else {
        int rc = ensure_team(a, store);
        if (rc != 0)
            return rc;
        st = q(a, Q_CHILD_INSERT);
        a->res->children_new++;
        a->res->unallocated++;
    }
    sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, iso, -1, SQLITE_STATIC);
    return done(a, st);
}

static int sync_child(apply_t *a, cc_store_t *store, const cc_import_t *imp, const cc_import_child_t *c)
{
    char key[CC_STORE_ID_MAX + 64], attrs[CC_IMPORT_ATTRS_MAX];
    int rc = sync_child_row(a, store, c);
    if (rc == 0)
        rc = load_existing(a, c->id);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < c->nepisodes; i++) {
        const cc_import_episode_t *e = &imp->episodes[c->first_episode + i];
        if (e->future) {
            a->res->episodes_future++;
            continue;
        }
        int counts[NOTHING + 1] = {0}, produced = 0;
        for (int slot = 0; slot < CC_IMPORT_SLOTS; slot++) {
            cc_import_episode_key(key, sizeof(key), c->id, e->decom, slot);
            produced += e->has[slot];
            rc = sync_event(a, c->id, key, e->has[slot] ? cc_import_slot_type(slot) : NULL, e->date[slot],
                            cc_import_episode_attrs(e, slot, attrs, sizeof(attrs)));
            if (rc < 0)
                return rc;
            counts[rc]++;
            a->res->episode_events_deleted += rc == DELETED;
        }
        if (counts[INSERTED] == produced && produced > 0)
            a->res->episodes_new++;
        else if (counts[INSERTED] + counts[UPDATED] + counts[DELETED] > 0)
            a->res->episodes_updated++;
        else if (produced == 0)
            a->res->episodes_no_events++;
        else
            a->res->episodes_unchanged++;
    }
    for (size_t i = 0; i < c->nreviews; i++) {
        const cc_import_review_t *r = &imp->reviews[c->first_review + i];
        if (r->status != CC_IMPORT_REVIEW_OK) {
            if (r->status == CC_IMPORT_REVIEW_DUPLICATE)
                a->res->reviews_duplicate++;
            else
                a->res->reviews_future++;
            continue;
        }
        cc_import_review_key(key, sizeof(key), c->id, r->date);
        rc = sync_event(a, c->id, key, "review_held", r->date, "{}");
        if (rc < 0)
            return rc;
        if (rc == SAME)
            a->res->reviews_unchanged++;
        else if (rc == UPDATED)
            a->res->reviews_updated++;
        else
            a->res->reviews_new++;
    }
    /* What a newer extract no longer has, within the span it covers, of
     * the kinds of event whose file is among the inputs: without a reviews
     * file, the reviews are not "no longer there", they were not looked at. */
    if (c->skipped_rows || c->window == CC_DATE_NONE)
        return 0;
    for (size_t i = 0; i < a->nex; i++) {
        existing_t *e = &a->ex[i];
        cc_import_kind_t kind;
        cc_date_t d = key_date(at(a, e->key), c->id, &kind);
        if (e->seen || d == CC_DATE_NONE || d < c->window)
            continue;
        if (kind == CC_IMPORT_EPISODES ? !a->res->episodes_input : !a->res->reviews_input)
            continue;
        if (kind == CC_IMPORT_EPISODES)
            a->res->episode_events_deleted++;
        else
            a->res->reviews_deleted++;
        sqlite3_stmt *st = q(a, Q_EVENT_DELETE);
        sqlite3_bind_int64(st, 1, e->id);
        if ((rc = done(a, st)) != 0)
            return rc;
        e->seen = 1;
        a->res->events_deleted++;
    }
    return 0;
}

int cc_import_apply(cc_store_t *store, const cc_import_t *imp, int dry_run, cc_import_result_t *res, char *err,
                    size_t errlen)
{
    apply_t a = {.db = cc_store_db(store), .err = err, .errlen = errlen, .res = res};
    int rc = 0;
    memset(res, 0, sizeof(*res));
    for (size_t i = 0; i < imp->nfiles; i++) {
        res->episodes_input |= imp->files[i].kind == CC_IMPORT_EPISODES;
        res->reviews_input |= imp->files[i].kind == CC_IMPORT_REVIEWS;
    }
    cc_buf_init(&a.text);
    for (int i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v3(a.db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &a.st[i], NULL) != SQLITE_OK) {
            rc = db_fail(&a);
            goto out;
        }
    }
    if (cc_store_begin(store) != 0) {
        rc = db_fail(&a);
        goto out;
    }
    for (size_t i = 0; i < imp->nchildren && rc == 0; i++)
        rc = sync_child(&a, store, imp, &imp->children[i]);
    if (rc != 0 || dry_run)
        cc_store_rollback(store);
    else if (cc_store_commit(store) != 0)
        rc = db_fail(&a);
out:
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(a.st[i]);
    free(a.ex);
    cc_buf_free(&a.text);
    return rc;
}
