/* The outbox, claiming: the rows ready now, marked sending and grouped
 * into messages, in one transaction. See include/careclock/outbox.h and
 * docs/delivery.md.
 *
 * Design notes:
 *  - At most one message in flight per row: claim marks rows sending inside
 *    BEGIN IMMEDIATE, so two processes (careclockd and a cron run of
 *    `careclock deliveries run`) never claim the same row; rows are only
 *    handed back by recover (outbox.c), and only when the claimer is no
 *    longer running.
 *  - A message keeps its identity: the first claim writes batch (the id of
 *    its first row) and message_id on every row of it; later claims of
 *    those rows keep both, so a retry or a resend after a crash carries the
 *    same Message-ID / webhook-id and the same items (less any cancelled).
 *  - Where a row goes is resolved at claim, not at planning: a recipient
 *    with no usable address now (or a webhook disabled by a 410) is
 *    recorded in the same transaction, not sent.
 *  - Timestamps are UTC text, which sorts as time: "ready now" is
 *    next_attempt_at <= now on the partial index deliveries_ready.
 */
#include "careclock/outbox.h"
#include "careclock/email.h"
#include "careclock/error.h"
#include "careclock/time.h"
#include "careclock/people.h"
#include "store/internal.h"
#include "util/grow.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLAIM_ROWS_PER_MESSAGE 50

/* ---- claim ---------------------------------------------------------------- */

static char *keep(cc_outbox_claim_t *c, const char *s, int *oom)
{
    if (s == NULL)
        return NULL;
    if (cc__grow(&c->strings, &c->capstrings, c->nstrings + 1, sizeof(*c->strings), 64) != 0) {
        *oom = 1;
        return NULL;
    }
    char *copy = strdup(s);
    if (copy == NULL) {
        *oom = 1;
        return NULL;
    }
    c->strings[c->nstrings++] = copy;
    return copy;
}

void cc_outbox_claim_free(cc_outbox_claim_t *claim)
{
    if (claim == NULL)
        return;
    for (size_t i = 0; i < claim->n; i++)
        free(claim->messages[i].items);
    free(claim->messages);
    for (size_t i = 0; i < claim->nstrings; i++)
        free(claim->strings[i]);
    free(claim->strings);
    memset(claim, 0, sizeof(*claim));
}

typedef struct {
    int64_t id, batch;
    char *recipient;
    int channel, immediate;
    int due;      /* next_attempt_at <= now; else within the settling time after now */
    int taken;
} ready_t;

typedef struct {
    int64_t *ids;
    size_t n, cap;
    int64_t batch;            /* 0 when new */
    const char *recipient;    /* borrowed from a ready_t */
    int channel;
} group_t;

static int group_add(group_t *g, int64_t id)
{
    if (cc__grow(&g->ids, &g->cap, g->n + 1, sizeof(*g->ids), 8) != 0)
        return CC_ENOMEM;
    g->ids[g->n++] = id;
    return 0;
}

/* The rows ready by ?1, the end of the settling time after now (?3): a
 * new message takes, with the rows ready now, the rows of the same
 * recipient that would be ready within it, so that a burst of changes
 * (40 children added within seconds) is one digest, not 40. */
static const char READY_SQL[] =
    "SELECT id, batch, recipient, channel, immediate, next_attempt_at <= ?3 FROM deliveries WHERE state IN "
    "('pending', 'retrying') AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2";
static const char BATCH_ROWS_SQL[] =
    "SELECT id FROM deliveries WHERE batch = ?1 AND state IN ('pending', 'retrying') AND next_attempt_at <= ?2 "
    "ORDER BY id";
static const char BATCH_ID_SQL[] = "SELECT message_id FROM deliveries WHERE batch = ?1 AND message_id IS NOT NULL "
                                   "LIMIT 1";
static const char MARK_SENDING_SQL[] =
    "UPDATE deliveries SET state = 'sending', batch = ?2, message_id = coalesce(message_id, ?3), claimed_by = ?4, "
    "attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, ?5), address = ?6, updated_at = ?5 "
    "WHERE id = ?1";
static const char MARK_FINAL_SQL[] =
    "UPDATE deliveries SET state = ?2, last_error = ?3, next_attempt_at = NULL, claimed_by = NULL, updated_at = ?4 "
    "WHERE id = ?1";
typedef struct {
    sqlite3 *db;
    const cc_env_t *env;
    cc_outbox_claim_t *out;
    const char *now;
    time_t now_t;
    char horizon[32];
    const char *claimer;
    char instance[64];
    cc_store_t *store;
    sqlite3_stmt *mark, *final, *item, *batch_id;
} claimer_t;

/* Record every row of g in a final state (undeliverable or failed). */
static int finalise(claimer_t *c, const group_t *g, const char *state, const char *reason)
{
    for (size_t i = 0; i < g->n; i++) {
        sqlite3_stmt *st = c->final;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, g->ids[i]);
        cc__store_bind_text(st, 2, state);
        cc__store_bind_text(st, 3, reason);
        cc__store_bind_text(st, 4, c->now);
        if (cc__store_step_done(st) != 0)
            return CC_EDB;
    }
    c->out->skipped += g->n;
    return 0;
}

/* Where a group goes now: its address and the recipient's name, or why it
 * cannot go (*state and reason set). Returns 0 or CC_EDB. */
static int resolve_group(claimer_t *c, const group_t *g, char *address, size_t alen, char *name, size_t nlen,
                         const char **state, char *reason, size_t rlen, cc_webhook_format_t *format)
{
    *state = NULL;
    address[0] = name[0] = '\0';
    int webhook = g->channel == CC_CHANNEL_WEBHOOK;
    const char *key = webhook ? (strncmp(g->recipient, "team:", 5) == 0 ? g->recipient + 5 : "") : g->recipient;
    int found = webhook ? cc_store_team_contact(c->store, key, name, nlen, address, alen)
                        : cc_store_staff_contact(c->store, key, name, nlen, address, alen);
    if (found < 0)
        return CC_EDB;
    if (webhook) {
        const cc_webhook_config_t *w = address[0] ? cc_config_webhook(&c->env->config, address) : NULL;
        if (!found)
            snprintf(reason, rlen, "team %.80s does not exist now", key);
        else if (address[0] == '\0')
            snprintf(reason, rlen, "team %.80s has no webhook now", key);
        else if (w == NULL)
            snprintf(reason, rlen, "team %.80s names webhook \"%.120s\", which the configuration does not define",
                     key, address);
        if (!found || w == NULL) {
            *state = "undeliverable";
            return 0;
        }
        *format = w->format;
        char since[256];
        int disabled = cc__outbox_webhook_disabled(c->db, address, since, sizeof(since));
        if (disabled < 0)
            return CC_EDB;
        if (disabled) {
            snprintf(reason, rlen,
                     "webhook %.100s is disabled (%.160s); `careclock deliveries enable-webhook %.100s` enables it",
                     address, since, address);
            *state = "failed";
        }
        return 0;
    }
    if (!found)
        snprintf(reason, rlen, "staff %.80s does not exist now", key);
    else if (address[0] == '\0')
        snprintf(reason, rlen, "staff %.80s has no email address now", key);
    else if (!cc_email_valid(address))
        snprintf(reason, rlen, "staff %.80s has an email address that is not valid (a line break, space or angle "
                               "bracket in it)",
                 key);
    else if (c->env->planner.email_unavailable != NULL)
        snprintf(reason, rlen, "%s", c->env->planner.email_unavailable);
    else
        return 0;
    *state = "undeliverable";
    return 0;
}

/* Load the content of one claimed row into item. */
static int load_item(claimer_t *c, int64_t id, cc_message_item_t *item, cc_outbox_message_t *m, int *oom)
{
    sqlite3_stmt *st = c->item;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    if (cc__store_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return CC_EDB;
    }
    cc_outbox_claim_t *o = c->out;
    memset(item, 0, sizeof(*item));
    item->delivery_id = sqlite3_column_int64(st, 0);
    int kind = cc_notice_kind_parse(cc__store_col(st, 1)), role = cc_role_parse(cc__store_col(st, 3));
    item->kind = kind < 0 ? CC_NOTICE_REMINDER : (cc_notice_kind_t)kind;
    item->stage = keep(o, cc__store_col(st, 2), oom);
    item->role = role < 0 ? CC_ROLE_WORKER : (cc_role_t)role;
    item->child_id = keep(o, cc__store_col(st, 4), oom);
    item->rule_id = keep(o, cc__store_col(st, 5), oom);
    item->seq = sqlite3_column_int(st, 6);
    int attempts = sqlite3_column_int(st, 7);
    if (attempts > m->attempts)
        m->attempts = attempts;
    time_t first = cc_time_parse_utc(cc__store_col(st, 8));
    if (first != (time_t)-1 && (m->first_attempt_at == 0 || first < m->first_attempt_at))
        m->first_attempt_at = first;
    item->title = keep(o, cc__store_col(st, 9), oom);
    item->source = keep(o, cc__store_col(st, 10), oom);
    item->due = cc__store_date(cc__store_col(st, 11));
    if (cc__store_col(st, 12) == NULL) {
        item->status = CC_STATUS_CANCELLED;
        item->reason = "the clock no longer exists";
    } else {
        int status = cc_status_parse(cc__store_col(st, 12));
        item->status = status < 0 ? CC_STATUS_DATA_ERROR : (cc_status_t)status;
        item->reason = keep(o, cc__store_col(st, 15), oom);
    }
    item->met_on = cc__store_date(cc__store_col(st, 13));
    item->agreed = cc__store_date(cc__store_col(st, 23));
    item->stage_date = cc__store_date(cc__store_col(st, 22));
    item->projected = (sqlite3_column_int(st, 14) & CC_CLOCK_PROJECTED) != 0;
    item->initials = keep(o, cc__store_col(st, 16), oom);
    item->full_name = keep(o, cc__store_col(st, 17), oom);
    item->team_id = keep(o, cc__store_col(st, 18), oom);
    item->team_name = keep(o, cc__store_col(st, 19), oom);
    item->worker_name = keep(o, cc__store_col(st, 20), oom);
    if (m->msg.message_id == NULL)
        m->msg.message_id = keep(o, cc__store_col(st, 21), oom);
    sqlite3_reset(st);
    return 0;
}

/* Claim one group as one message (or record why it cannot go). */
static int claim_group(claimer_t *c, const group_t *g)
{
    char address[512], name[512], reason[512], msgid[256];
    const char *state = NULL;
    cc_webhook_format_t format = CC_WEBHOOK_GENERIC;
    int oom = 0, rc;
    if ((rc = resolve_group(c, g, address, sizeof(address), name, sizeof(name), &state, reason, sizeof(reason),
                            &format)) != 0)
        return rc;
    if (state != NULL)
        return finalise(c, g, state, reason);
    int64_t batch = g->batch;
    msgid[0] = '\0';
    if (batch == 0) {
        batch = g->ids[0];
        for (size_t i = 1; i < g->n; i++)
            if (g->ids[i] < batch)
                batch = g->ids[i];
    } else {
        sqlite3_reset(c->batch_id);
        sqlite3_bind_int64(c->batch_id, 1, batch);
        if (cc__store_step(c->batch_id) == SQLITE_ROW && cc__store_col(c->batch_id, 0))
            snprintf(msgid, sizeof(msgid), "%s", cc__store_col(c->batch_id, 0));
        sqlite3_reset(c->batch_id);
    }
    if (msgid[0] == '\0') {
        /* A random part, chosen once: the id stays unique when batch
         * numbers come round again (an older copy restored). */
        unsigned char r[6];
        char nonce[2 * sizeof(r) + 1];
        static const char hex[] = "0123456789abcdef";
        if (RAND_bytes(r, sizeof(r)) != 1)
            return CC_EIO;
        for (size_t i = 0; i < sizeof(r); i++) {
            nonce[2 * i] = hex[r[i] >> 4];
            nonce[2 * i + 1] = hex[r[i] & 15];
        }
        nonce[2 * sizeof(r)] = '\0';
        cc_message_id(msgid, sizeof(msgid), (cc_channel_t)g->channel, c->instance, batch, nonce,
                      c->env->config.smtp_from);
    }
    for (size_t i = 0; i < g->n; i++) {
        sqlite3_stmt *st = c->mark;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, g->ids[i]);
        sqlite3_bind_int64(st, 2, batch);
        cc__store_bind_text(st, 3, msgid);
        cc__store_bind_text(st, 4, c->claimer);
        cc__store_bind_text(st, 5, c->now);
        cc__store_bind_text(st, 6, address);
        if (cc__store_step_done(st) != 0)
            return CC_EDB;
    }
    cc_outbox_claim_t *o = c->out;
    cc_outbox_message_t *m = &o->messages[o->n];
    memset(m, 0, sizeof(*m));
    m->items = calloc(g->n, sizeof(*m->items));
    if (m->items == NULL)
        return CC_ENOMEM;
    o->n++;
    m->format = format;
    m->msg.batch = batch;
    m->msg.channel = (cc_channel_t)g->channel;
    m->msg.recipient = keep(o, g->recipient, &oom);
    m->msg.recipient_name = keep(o, name, &oom);
    m->msg.address = keep(o, address, &oom);
    m->msg.items = m->items;
    m->msg.nitems = g->n;
    for (size_t i = 0; i < g->n && rc == 0; i++)
        rc = load_item(c, g->ids[i], &m->items[i], m, &oom);
    if (m->msg.message_id == NULL)
        m->msg.message_id = keep(o, msgid, &oom);
    return rc ? rc : oom ? CC_ENOMEM : 0;
}

/* This database's outbox_instance (migration 3), which makes message ids
 * unique to it; "0" when it is missing. */
static int load_instance(claimer_t *c)
{
    int found = cc__meta_get(c->db, "outbox_instance", c->instance, sizeof(c->instance));
    if (found < 0)
        return CC_EDB;
    if (!found || c->instance[0] == '\0')
        snprintf(c->instance, sizeof(c->instance), "0");
    return 0;
}

/* Read the ready rows (at most limit) into *rows. */
static int read_ready(claimer_t *c, size_t limit, ready_t **rows, size_t *n)
{
    size_t cap = 0;
    int step, rc = 0;
    sqlite3_stmt *st = cc__store_prepare(c->db, READY_SQL);
    *rows = NULL;
    *n = 0;
    if (st == NULL)
        return CC_EDB;
    cc__store_bind_text(st, 1, c->horizon);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    cc__store_bind_text(st, 3, c->now);
    while ((step = cc__store_step(st)) == SQLITE_ROW) {
        if (cc__grow(rows, &cap, *n + 1, sizeof(**rows), 64) != 0) {
            rc = CC_ENOMEM;
            break;
        }
        ready_t *r = &(*rows)[(*n)++];
        memset(r, 0, sizeof(*r));
        r->id = sqlite3_column_int64(st, 0);
        r->batch = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 1);
        r->recipient = strdup(cc__store_col(st, 2) ? cc__store_col(st, 2) : "");
        int ch = cc_channel_parse(cc__store_col(st, 3));
        r->channel = ch < 0 ? CC_CHANNEL_EMAIL : ch;
        r->immediate = sqlite3_column_int(st, 4);
        r->due = sqlite3_column_int(st, 5);
        if (r->recipient == NULL) {
            rc = CC_ENOMEM;
            break;
        }
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    return rc;
}

static int batch_rows(claimer_t *c, int64_t batch, group_t *g)
{
    sqlite3_stmt *st = cc__store_prepare(c->db, BATCH_ROWS_SQL);
    int step, rc = 0;
    if (st == NULL)
        return CC_EDB;
    sqlite3_bind_int64(st, 1, batch);
    cc__store_bind_text(st, 2, c->now);
    while (rc == 0 && (step = cc__store_step(st)) == SQLITE_ROW)
        rc = group_add(g, sqlite3_column_int64(st, 0));
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    return rc;
}

static int claim_all(claimer_t *c, size_t max_messages)
{
    assert(!sqlite3_get_autocommit(c->db)); /* in the claim's transaction */
    ready_t *rows = NULL;
    size_t nrows = 0, limit = max_messages * CLAIM_ROWS_PER_MESSAGE;
    group_t g = {0};
    int rc = read_ready(c, limit, &rows, &nrows), digest = c->env->config.digest;
    if (rc == 0 && nrows == limit)
        c->out->more = 1;
    if (rc == 0 && (c->out->messages = calloc(max_messages ? max_messages : 1, sizeof(cc_outbox_message_t))) == NULL)
        rc = CC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < nrows; i++) {
        ready_t *r = &rows[i];
        if (r->taken || !r->due)
            continue; /* a message starts from a row ready now */
        if (c->out->n >= max_messages) {
            c->out->more = 1;
            break;
        }
        g.n = 0;
        g.batch = r->batch;
        g.recipient = r->recipient;
        g.channel = r->channel;
        if (r->batch != 0) {
            /* A message formed before: all of its ready rows again. */
            for (size_t j = i; j < nrows; j++)
                if (rows[j].batch == r->batch)
                    rows[j].taken = 1;
            rc = batch_rows(c, r->batch, &g);
        } else {
            for (size_t j = i; rc == 0 && j < nrows && g.n < CC_OUTBOX_DIGEST_MAX; j++) {
                ready_t *o = &rows[j];
                if (o->taken || o->batch != 0)
                    continue;
                if (j != i && (!digest || r->immediate || o->immediate || o->channel != r->channel ||
                               strcmp(o->recipient, r->recipient) != 0))
                    continue;
                if (!o->due && (!digest || o->immediate))
                    continue;
                o->taken = 1;
                rc = group_add(&g, o->id);
            }
        }
        if (rc == 0 && g.n > 0)
            rc = claim_group(c, &g);
    }
    for (size_t i = 0; i < nrows; i++)
        free(rows[i].recipient);
    free(rows);
    free(g.ids);
    return rc;
}

int cc_outbox_claim(cc_store_t *store, const cc_env_t *env, time_t now, const char *claimer, size_t max_messages,
                    cc_outbox_claim_t *out, char *err, size_t errlen)
{
    assert(store != NULL && env != NULL && claimer != NULL && out != NULL);
    sqlite3 *db = cc_store_db(store);
    char stamp[32];
    claimer_t c = {.db = db, .env = env, .out = out, .now = cc_time_format_utc(now, stamp, sizeof(stamp)), .now_t = now,
                   .claimer = claimer, .store = store};
    cc_time_format_utc(now + (env->config.settle_seconds > 0 ? env->config.settle_seconds : 0), c.horizon,
                       sizeof(c.horizon));
    int rc;
    memset(out, 0, sizeof(*out));
    if (max_messages == 0)
        return 0;
    if (cc_store_begin(store) != 0)
        return cc__store_db_err(db, err, errlen);
    c.mark = cc__store_prepare(db, MARK_SENDING_SQL);
    c.final = cc__store_prepare(db, MARK_FINAL_SQL);
    c.item = cc__store_prepare(db, cc__clocks_sql(CC__CLOCKS_CLAIM_ITEM));
    c.batch_id = cc__store_prepare(db, BATCH_ID_SQL);
    if (!c.mark || !c.final || !c.item || !c.batch_id)
        rc = CC_EDB;
    else if ((rc = load_instance(&c)) == 0)
        rc = claim_all(&c, max_messages);
    sqlite3_finalize(c.mark);
    sqlite3_finalize(c.final);
    sqlite3_finalize(c.item);
    sqlite3_finalize(c.batch_id);
    if (rc == 0 && (rc = cc_store_commit(store)) == 0)
        return 0;
    if (rc == CC_ENOMEM)
        cc_set_err(err, errlen, "out of memory");
    else
        cc__store_db_err(db, err, errlen);
    cc_store_rollback(store);
    cc_outbox_claim_free(out);
    return rc;
}

