/* Reading every child for a full recompute: the batches of children and
 * their events, and the reader thread that fills them on a connection of
 * its own while the evaluating thread runs the engine. See evaluation.h;
 * first.c consumes the batches.
 *
 * Design notes:
 *  - A batch keeps its strings in one block and its events in one array,
 *    reused from batch to batch; the events' types and dates are decoded by
 *    the consumer (cc__batch_decode), so the reader, the slower side, only
 *    reads.
 *  - The reader hands batches over through a ring of NBATCHES under one
 *    mutex and condition variable; the consumer stopping early (an error)
 *    stops the reader before its connection is closed.
 *  - An error on the reader's own connection is the reader thread's: it is
 *    copied (code and message) with the batch's result and noted for the
 *    consumer's thread (cc__store_note_error), so cc_store_errmsg() says it
 *    and careclockd tells a busy database (retried each second) from a
 *    failure; before, the message was "not an error" and a lock was backed
 *    off from like a full disk (issue 19). Its connection waits for locks no
 *    longer than the store's own (cc__store_busy_ms): careclockd's loop waits
 *    for it.
 */
#include "store/evaluation.h"
#include "careclock/error.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- batches of loaded children ---- */

void cc__batch_free(cc__batch_t *b)
{
    free(b->strings);
    free(b->kids);
    free(b->events);
    free(b->offs);
    memset(b, 0, sizeof(*b));
}

void cc__batch_reset(cc__batch_t *b)
{
    b->used = b->nkids = b->nevents = 0;
    b->last = 0;
}

/* The event type's index: the same answer as cc_ruleset_type_index(). */
static int type_index(cc__types_t *t, const char *name)
{
    size_t len = strlen(name);
    if (len >= TYPE_NAME_MAX)
        return cc_ruleset_type_index(t->rs, name);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 16777619u;
    for (size_t probe = 0; probe < TYPE_SLOTS; probe++) {
        cc__type_slot_t *s = &t->slot[(h + probe) % TYPE_SLOTS];
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
static int put_text(cc__batch_t *b, sqlite3_stmt *st, int col, size_t *off)
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
int cc__batch_add_child(cc__batch_t *b, sqlite3_stmt *st, int id_col)
{
    if (cc__grow(&b->kids, &b->capkids, b->nkids + 1, sizeof(cc__kid_t), 64) != 0)
        return CC_ENOMEM;
    cc__kid_t *k = &b->kids[b->nkids];
    k->first = b->nevents;
    k->n = 0;
    if (put_text(b, st, id_col, &k->id) != 0 || put_text(b, st, id_col + 1, &k->dob) != 0)
        return CC_ENOMEM;
    b->nkids++;
    return 0;
}

/* An event of the last child added, from st's columns first..first+3: id,
 * type, date, attributes, as text (cc__batch_decode() reads them). */
int cc__batch_add_event(cc__batch_t *b, sqlite3_stmt *st, int first)
{
    assert(b->nkids > 0); /* an event belongs to the last child added */
    if (b->nevents == b->capevents) {
        size_t cap = b->capevents ? b->capevents * 2 : 1024;
        cc_event_t *ev = realloc(b->events, cap * sizeof(*ev));
        if (ev == NULL)
            return CC_ENOMEM;
        b->events = ev;
        cc__ev_offsets_t *offs = realloc(b->offs, cap * sizeof(*offs));
        if (offs == NULL)
            return CC_ENOMEM;
        b->offs = offs;
        b->capevents = cap;
    }
    cc__ev_offsets_t *o = &b->offs[b->nevents];
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
void cc__batch_decode(cc__batch_t *b, cc__types_t *types)
{
    for (size_t i = 0; i < b->nevents; i++) {
        cc_event_t *e = &b->events[i];
        const cc__ev_offsets_t *o = &b->offs[i];
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
void cc__batch_child(const cc__batch_t *b, size_t k, cc_child_t *child)
{
    assert(k < b->nkids);
    child->id = b->strings + b->kids[k].id;
    child->raw_dob = b->strings + b->kids[k].dob;
    child->decisions = NULL;
    child->ndecisions = 0;
    if (cc_date_parse(child->raw_dob, &child->dob) != 0)
        child->dob = CC_DATE_NONE;
}

/* ---- the reader ---- */

int cc__compare_id(sqlite3_stmt *st, int col, const char *id)
{
    const char *have = (const char *)sqlite3_column_text(st, col);
    return strcmp(have ? have : "", id);
}

/* Fill b with the next children and their events. Events of children that
 * do not exist (written with foreign keys off) are skipped, as a lookup by
 * child would never see them. */
static int reader_fill(cc__reader_t *r, cc__batch_t *b)
{
    int step, cmp;
    cc__batch_reset(b);
    while (b->nkids < BATCH_CHILDREN) {
        step = cc__store_step(r->children);
        if (step == SQLITE_DONE) {
            b->last = 1;
            break;
        }
        if (step != SQLITE_ROW)
            return CC_EDB;
        const char *id = (const char *)sqlite3_column_text(r->children, 0);
        if (id == NULL)
            continue;
        if (cc__batch_add_child(b, r->children, 0) != 0)
            return CC_ENOMEM;
        while (r->ev_step == SQLITE_ROW && (cmp = cc__compare_id(r->events, 0, id)) <= 0) {
            if (cmp == 0 && cc__batch_add_event(b, r->events, 1) != 0)
                return CC_ENOMEM;
            r->ev_step = cc__store_step(r->events);
        }
        if (r->ev_step != SQLITE_ROW && r->ev_step != SQLITE_DONE)
            return CC_EDB;
    }
    return 0;
}

static void *reader_main(void *arg)
{
    cc__reader_t *r = arg;
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
        int code = rc == CC_EDB ? sqlite3_extended_errcode(r->db) : SQLITE_OK;
        pthread_mutex_lock(&r->mu);
        if (rc == CC_EDB) {
            r->err_code = code != SQLITE_OK ? code : SQLITE_ERROR;
            snprintf(r->err_why, sizeof(r->err_why), "%s",
                     code != SQLITE_OK ? sqlite3_errmsg(r->db) : "the reader's read failed");
        }
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

void cc__reader_close(cc__reader_t *r)
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
        cc__batch_free(&r->batch[i]);
    memset(r, 0, sizeof(*r));
}

/* Start (or, after cc__reader_pause, resume) the two ordered reads: from the
 * first child, or from the first child after the id `after`. The first
 * step starts the reads' snapshot, so the caller holds the write lock when
 * it calls this (the snapshot is then the writer's). */
int cc__reader_start(cc__reader_t *r, const char *after)
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
    r->ev_step = cc__store_step(r->events);
    return r->ev_step == SQLITE_ROW || r->ev_step == SQLITE_DONE ? 0 : CC_EDB;
}

/* End the reads (and with them their snapshot) of a reader without a
 * thread, so that its connection can commit and the WAL be checkpointed;
 * cc__reader_start(r, last child read) goes on from there. */
void cc__reader_pause(cc__reader_t *r)
{
    assert(!r->threaded); /* a thread's reads end only with cc__reader_close */
    sqlite3_finalize(r->children);
    sqlite3_finalize(r->events);
    r->children = r->events = NULL;
}

/* Open the reads; on a connection of its own, in a thread of its own, when
 * may_thread and the database is a file. */
int cc__reader_open(cc__reader_t *r, sqlite3 *db, int may_thread, int busy_ms)
{
    memset(r, 0, sizeof(*r));
    r->db = db;
    const char *path = sqlite3_db_filename(db, "main");
    if (may_thread && path != NULL && path[0] != '\0') {
        sqlite3 *own = NULL;
        if (sqlite3_open_v2(path, &own, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK &&
            sqlite3_busy_timeout(own, busy_ms) == SQLITE_OK) {
            r->db = own;
            r->own_db = 1;
        } else {
            sqlite3_close(own);
        }
    }
    if (cc__reader_start(r, NULL) != 0) {
        cc__store_keep_error(r->db); /* before its connection closes */
        cc__reader_close(r);
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
int cc__reader_next(cc__reader_t *r, cc__batch_t **out)
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
    if (rc == CC_EDB)
        cc__store_note_error(r->err_code, r->err_why);
    pthread_mutex_unlock(&r->mu);
    *out = &r->batch[i];
    return rc;
}

/* Hand the batch cc__reader_next gave back to the reader. */
void cc__reader_release(cc__reader_t *r)
{
    if (!r->threaded)
        return;
    pthread_mutex_lock(&r->mu);
    r->full[r->consumed % NBATCHES] = 0;
    r->consumed++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

