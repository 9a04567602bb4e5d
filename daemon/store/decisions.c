/* Decisions about clocks: the decisions table. See
 * include/careclock/decisions.h and docs/schema.md, "decisions".
 *
 * Design notes:
 *  - Rows are only added (the table's trigger refuses an UPDATE): a
 *    decision is undone by a withdraw row naming it, so the table is the
 *    whole story of who decided what, when and why.
 *  - A decision is checked and written in one transaction (BEGIN
 *    IMMEDIATE, or a savepoint of the caller's): the clock's status and
 *    the child's people are read under the write lock, so no change can
 *    come between the check and the row.
 *  - The policy (who may, which dates, which reasons) is core/decision.c's,
 *    shared with the dashboard's choice of forms; this file reads the facts
 *    it judges and writes the row.
 *  - The clocks table is read through clocks.c (cc_clocks_get), the outbox
 *    through outbox.c (cc__outbox_hold): one owner per table.
 */
#include "careclock/decisions.h"
#include "careclock/clocks.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/people.h"
#include "careclock/planner.h" /* cc_role_parse */
#include "store/internal.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLUMNS                                                                                                    \
    "id, child_id, rule_id, instance, kind, agreed_due, until, reason_code, party, reason, withdraws, by_staff, "    \
    "by_role, decided_on, at, via, actor"

static const char INSERT_SQL[] =
    "INSERT INTO decisions (child_id, rule_id, instance, kind, agreed_due, until, reason_code, party, reason, "
    "withdraws, by_staff, by_role, decided_on, at, via, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
    "?12, ?13, coalesce(?14, strftime('%Y-%m-%dT%H:%M:%SZ','now')), ?15, ?16)";
static const char OF_CHILD_SQL[] = "SELECT " COLUMNS " FROM decisions WHERE child_id = ?1 ORDER BY id";
static const char OF_CLOCK_SQL[] =
    "SELECT " COLUMNS " FROM decisions WHERE child_id = ?1 AND rule_id = ?2 AND instance = ?3 ORDER BY id";
static const char ONE_SQL[] = "SELECT " COLUMNS " FROM decisions WHERE id = ?1";
static const char WITHDRAWN_SQL[] = "SELECT id FROM decisions WHERE withdraws = ?1 LIMIT 1";
static const char ANY_SQL[] = "SELECT 1 FROM decisions LIMIT 1";

void cc_decisions_init(cc_decisions_t *list)
{
    memset(list, 0, sizeof(*list));
}

void cc_decisions_reset(cc_decisions_t *list)
{
    for (size_t i = 0; i < list->nstrings; i++)
        free(list->strings[i]);
    list->n = list->nstrings = 0;
}

void cc_decisions_free(cc_decisions_t *list)
{
    cc_decisions_reset(list);
    free(list->items);
    free(list->strings);
    cc_decisions_init(list);
}

/* Column col as an owned string of list (NULL for NULL). */
static const char *own(cc_decisions_t *list, sqlite3_stmt *st, int col, int *oom)
{
    const char *text = cc__store_col(st, col);
    if (text == NULL)
        return NULL;
    char *copy = strdup(text);
    if (copy == NULL || cc__grow(&list->strings, &list->capstrings, list->nstrings + 1, sizeof(char *), 16) != 0) {
        free(copy);
        *oom = 1;
        return NULL;
    }
    list->strings[list->nstrings++] = copy;
    return copy;
}

/* The current row of st (COLUMNS) appended to list. */
static int add_row(cc_decisions_t *list, sqlite3_stmt *st)
{
    int oom = 0;
    if (cc__grow(&list->items, &list->cap, list->n + 1, sizeof(*list->items), 8) != 0)
        return CC_ENOMEM;
    cc_decision_t *d = &list->items[list->n];
    memset(d, 0, sizeof(*d));
    d->id = sqlite3_column_int64(st, 0);
    d->child_id = own(list, st, 1, &oom);
    d->rule_id = own(list, st, 2, &oom);
    d->instance = own(list, st, 3, &oom);
    int kind = cc_decision_kind_parse(cc__store_col(st, 4));
    d->kind = kind < 0 ? CC_DECISION_INFORM : (cc_decision_kind_t)kind;
    d->date = cc__store_date(cc__store_col(st, d->kind == CC_DECISION_ACK ? 6 : 5));
    if (d->kind != CC_DECISION_EXTEND && d->kind != CC_DECISION_ACK)
        d->date = CC_DATE_NONE;
    d->code = own(list, st, 7, &oom);
    d->party = own(list, st, 8, &oom);
    d->reason = own(list, st, 9, &oom);
    d->withdraws = sqlite3_column_int64(st, 10);
    d->by = own(list, st, 11, &oom);
    d->by_role = own(list, st, 12, &oom);
    d->on = cc__store_date(cc__store_col(st, 13));
    d->at = own(list, st, 14, &oom);
    d->via = own(list, st, 15, &oom);
    d->actor = own(list, st, 16, &oom);
    if (oom)
        return CC_ENOMEM;
    list->n++;
    return 0;
}

/* Every row of the cached statement sql (bound to up to three keys). */
static int load(cc_store_t *s, const char *sql, const char *a, const char *b, const char *c, cc_decisions_t *out)
{
    cc_decisions_reset(out);
    sqlite3_stmt *st = cc__store_stmt(s, sql);
    if (st == NULL)
        return CC_EDB;
    cc__store_bind_text(st, 1, a);
    if (b != NULL)
        cc__store_bind_text(st, 2, b);
    if (c != NULL)
        cc__store_bind_text(st, 3, c);
    int step, rc = 0;
    while (rc == 0 && (step = cc__store_step(st)) == SQLITE_ROW)
        rc = add_row(out, st);
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_reset(st);
    return rc;
}

int cc_decisions_of_child(cc_store_t *s, const char *child_id, cc_decisions_t *out)
{
    assert(s != NULL && child_id != NULL && out != NULL);
    return load(s, OF_CHILD_SQL, child_id, NULL, NULL, out);
}

int cc_decisions_of_clock(cc_store_t *s, const char *child_id, const char *rule_id, const char *instance,
                          cc_decisions_t *out)
{
    assert(s != NULL && child_id != NULL && rule_id != NULL && instance != NULL && out != NULL);
    return load(s, OF_CLOCK_SQL, child_id, rule_id, instance, out);
}

int cc_decisions_get(cc_store_t *s, int64_t id, cc_decisions_t *out)
{
    assert(s != NULL && out != NULL);
    char text[32];
    snprintf(text, sizeof(text), "%lld", (long long)id);
    return load(s, ONE_SQL, text, NULL, NULL, out);
}

int cc_decisions_any(cc_store_t *s)
{
    assert(s != NULL);
    sqlite3_stmt *st = cc__store_stmt(s, ANY_SQL);
    if (st == NULL)
        return CC_EDB;
    int step = cc__store_step(st);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : CC_EDB;
}

static int same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

int cc_decisions_roles(cc_store_t *s, const char *child_id, const char *staff_id, unsigned *held)
{
    assert(s != NULL && child_id != NULL && staff_id != NULL && held != NULL);
    cc_store_child_row_t c;
    int found = cc_store_child_get(s, child_id, 0, &c);
    *held = 0;
    if (found < 0)
        return found;
    if (found == 0)
        return CC_ENOTFOUND;
    *held = (same(c.worker_id, staff_id) ? CC_ROLE_BIT(CC_ROLE_WORKER) : 0) |
            (same(c.iro_id, staff_id) ? CC_ROLE_BIT(CC_ROLE_IRO) : 0) |
            (same(c.team_manager_id, staff_id) ? CC_ROLE_BIT(CC_ROLE_TEAM_MANAGER) : 0) |
            (same(c.service_manager_id, staff_id) ? CC_ROLE_BIT(CC_ROLE_SERVICE_MANAGER) : 0);
    cc_store_child_row_free(&c);
    return 0;
}

/* Free text of a decision: no control characters, at most
 * CC_DECISION_TEXT_MAX bytes. */
static int check_text(const char *field, const char *text, int required, char *err, size_t errlen)
{
    int rc = cc__store_check_text(field, text, required, err, errlen);
    if (rc == 0 && text != NULL && strlen(text) > CC_DECISION_TEXT_MAX) {
        cc_set_err(err, errlen, "%s: at most %d characters", field, CC_DECISION_TEXT_MAX);
        rc = CC_EINVAL;
    }
    return rc;
}

/* A withdrawal: the decision it names exists, is about this clock, is not
 * a withdrawal itself nor withdrawn already, and the one withdrawing it
 * took it or may take its kind. *kind receives its kind. */
static int check_withdrawal(cc_store_t *s, const cc_ruleset_t *rs, const cc_decision_t *d, unsigned held,
                            cc_role_t *role, cc_decision_kind_t *kind, char *maker, size_t makerlen, char *err,
                            size_t errlen)
{
    cc_decisions_t one;
    char id[32];
    cc_decisions_init(&one);
    snprintf(id, sizeof(id), "%lld", (long long)d->withdraws);
    int rc = load(s, ONE_SQL, id, NULL, NULL, &one);
    if (rc == 0 && one.n == 0) {
        cc_set_err(err, errlen, "decision %lld does not exist", (long long)d->withdraws);
        rc = CC_ENOTFOUND;
    }
    if (rc != 0)
        goto out;
    const cc_decision_t *w = &one.items[0];
    *kind = w->kind;
    snprintf(maker, makerlen, "%s", w->by ? w->by : "");
    if (w->kind == CC_DECISION_WITHDRAW || !same(w->rule_id, d->rule_id) || !same(w->instance, d->instance)) {
        cc_set_err(err, errlen, "decision %lld is not a decision about %s's %s clock %s that can be withdrawn",
                   (long long)d->withdraws, d->child_id, d->rule_id, d->instance);
        rc = CC_EINVAL;
        goto out;
    }
    sqlite3_stmt *st = cc__store_stmt(s, WITHDRAWN_SQL);
    if (st == NULL) {
        rc = CC_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, d->withdraws);
    int step = cc__store_step(st);
    int64_t by = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = CC_EDB;
        goto out;
    }
    if (by != 0) {
        cc_set_err(err, errlen, "decision %lld was withdrawn already (decision %lld)", (long long)d->withdraws,
                   (long long)by);
        rc = CC_EINVAL;
        goto out;
    }
    const cc_rule_t *rule = cc_ruleset_find(rs, d->rule_id);
    unsigned may = rule ? cc_decision_roles(rule, w->kind) : 0;
    if (!same(w->by, d->by) && (held & may) == 0) {
        cc_set_err(err, errlen, "%s neither took decision %lld nor holds a role that may take it", d->by,
                   (long long)d->withdraws);
        rc = CC_EINVAL;
        goto out;
    }
    /* In the capacity they hold now (the maker of the decision may no
     * longer hold the child: then in the one they took it in). */
    int r = -1;
    for (int k = CC_ROLE_WORKER; k <= CC_ROLE_SERVICE_MANAGER && r < 0; k++)
        if (held & (may ? may : ~0u) & CC_ROLE_BIT(k))
            r = k;
    if (r < 0)
        r = cc_role_parse(w->by_role);
    *role = r < 0 ? CC_ROLE_WORKER : (cc_role_t)r;
    if (d->reason == NULL || d->reason[0] == '\0') {
        cc_set_err(err, errlen, "a withdrawal needs its reason (--reason)");
        rc = CC_EINVAL;
    }
out:
    cc_decisions_free(&one);
    return rc;
}

static void bind_date(sqlite3_stmt *st, int i, cc_date_t d)
{
    char buf[CC_DATE_STRLEN];
    if (d == CC_DATE_NONE)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, cc_date_format(d, buf), -1, SQLITE_TRANSIENT);
}

/* Check d against the facts in the database (inside the transaction). */
static int check(cc_store_t *s, const cc_ruleset_t *rs, cc_decision_t *d, cc_date_t today, cc_role_t *role,
                 cc_decision_kind_t *target, char *maker, size_t makerlen, char *err, size_t errlen)
{
    int rc;
    if ((rc = cc__store_check_id("child", d->child_id, err, errlen)) != 0 ||
        (rc = cc__store_check_id("by", d->by, err, errlen)) != 0 ||
        (rc = check_text("reason", d->reason, 0, err, errlen)) != 0 ||
        (rc = check_text("instance", d->instance, 1, err, errlen)) != 0 ||
        (d->party != NULL && (rc = cc__store_check_id("party", d->party, err, errlen)) != 0) ||
        (d->code != NULL && (rc = check_text("reason code", d->code, 1, err, errlen)) != 0) ||
        (rc = check_text("via", d->via, 1, err, errlen)) != 0 || (rc = check_text("actor", d->actor, 0, err, errlen)) != 0)
        return rc;
    const cc_rule_t *rule = d->rule_id ? cc_ruleset_find(rs, d->rule_id) : NULL;
    if (rule == NULL) {
        cc_set_err(err, errlen, "clock %s: no such clock in the rules", CC__Q(d->rule_id));
        return CC_EINVAL;
    }
    int exists = cc_store_staff_exists(s, d->by);
    if (exists < 0)
        return CC_EDB;
    if (!exists) {
        cc_set_err(err, errlen, "by: staff member %s does not exist", CC__Q(d->by));
        return CC_ENOTFOUND;
    }
    if (d->party != NULL) {
        if ((exists = cc_store_staff_exists(s, d->party)) < 0)
            return CC_EDB;
        if (!exists) {
            cc_set_err(err, errlen, "%s: staff member %s does not exist",
                       d->kind == CC_DECISION_INFORM ? "to" : "with", CC__Q(d->party));
            return CC_ENOTFOUND;
        }
    }
    unsigned held = 0;
    rc = cc_decisions_roles(s, d->child_id, d->by, &held);
    if (rc == CC_ENOTFOUND)
        cc_set_err(err, errlen, "child %s does not exist", CC__Q(d->child_id));
    if (rc != 0)
        return rc;
    cc_clocks_one_t clock;
    char buf[512];
    rc = cc_clocks_get(s, d->child_id, d->rule_id, d->instance, &clock, buf, sizeof(buf));
    if (rc == CC_ENOTFOUND)
        cc_set_err(err, errlen, "child %s has no %s clock %s", d->child_id, d->rule_id, CC__Q(d->instance));
    if (rc != 0)
        return rc;
    if (d->kind == CC_DECISION_WITHDRAW)
        return check_withdrawal(s, rs, d, held, role, target, maker, makerlen, err, errlen);
    int status = cc_status_parse(clock.status ? clock.status : "");
    char why[300];
    if (cc_decision_check(rule, d, held, status, cc__store_date(clock.due_date), today, role, why, sizeof(why)) != 0) {
        cc_set_err(err, errlen, "%s", why);
        return CC_EINVAL;
    }
    return 0;
}

int cc_decisions_add(cc_store_t *s, const cc_ruleset_t *rs, cc_decision_t *d, cc_date_t today, int64_t *id,
                     char *err, size_t errlen)
{
    assert(s != NULL && rs != NULL && d != NULL && id != NULL);
    assert((unsigned)d->kind < CC_DECISION_KINDS);
    int own_tx, rc = cc__store_write_begin(s, &own_tx, err, errlen);
    if (rc != 0)
        return rc;
    cc_role_t role = CC_ROLE_WORKER;
    cc_decision_kind_t target = CC_DECISION_INFORM;
    char maker[CC_STORE_ID_MAX + 1] = "";
    rc = check(s, rs, d, today, &role, &target, maker, sizeof(maker), err, errlen);
    if (rc == 0) {
        d->by_role = cc_role_name(role);
        sqlite3_stmt *st = cc__store_stmt(s, INSERT_SQL);
        if (st == NULL) {
            rc = cc__store_db_fail(s, err, errlen);
        } else {
            cc__store_bind_text(st, 1, d->child_id);
            cc__store_bind_text(st, 2, d->rule_id);
            cc__store_bind_text(st, 3, d->instance);
            cc__store_bind_text(st, 4, cc_decision_kind_name(d->kind));
            bind_date(st, 5, d->kind == CC_DECISION_EXTEND ? d->date : CC_DATE_NONE);
            bind_date(st, 6, d->kind == CC_DECISION_ACK ? d->date : CC_DATE_NONE);
            cc__store_bind_text(st, 7, d->kind == CC_DECISION_EXCEPT ? d->code : NULL);
            cc__store_bind_text(st, 8, d->party);
            cc__store_bind_text(st, 9, d->reason && d->reason[0] ? d->reason : NULL);
            if (d->kind == CC_DECISION_WITHDRAW)
                sqlite3_bind_int64(st, 10, d->withdraws);
            else
                sqlite3_bind_null(st, 10);
            cc__store_bind_text(st, 11, d->by);
            cc__store_bind_text(st, 12, d->by_role);
            bind_date(st, 13, d->on);
            cc__store_bind_text(st, 14, d->at);
            cc__store_bind_text(st, 15, d->via);
            cc__store_bind_text(st, 16, d->actor);
            if (cc__store_run(st) != 0)
                rc = cc__store_db_fail(s, err, errlen);
            else
                *id = sqlite3_last_insert_rowid(cc_store_db(s));
        }
    }
    /* An acknowledgement holds its maker's notices already waiting; its
     * withdrawal lets them go. */
    if (rc == 0 && d->kind == CC_DECISION_ACK)
        rc = cc__outbox_hold(s, d->child_id, d->rule_id, d->instance, d->by, d->date, err, errlen);
    if (rc == 0 && d->kind == CC_DECISION_WITHDRAW && target == CC_DECISION_ACK)
        rc = cc__outbox_hold(s, d->child_id, d->rule_id, d->instance, maker, CC_DATE_NONE, err, errlen);
    return cc__store_write_end(s, own_tx, rc, err, errlen);
}
