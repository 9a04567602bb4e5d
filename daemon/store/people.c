/* Staff, teams and children. See include/careclock/people.h.
 *
 * Design notes:
 *  - Every write goes through cc__store_write_begin/_end (store.c): its
 *    own BEGIN IMMEDIATE, or a savepoint of the caller's transaction;
 *    checks before the first write; nothing written on error.
 *  - References are checked here, with messages naming the field, before
 *    the foreign keys would refuse them with SQLite's terse one.
 */
#include "careclock/people.h"
#include "careclock/email.h"
#include "careclock/error.h"
#include "store/internal.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    ST_STAFF_EXISTS,
    ST_TEAM_EXISTS,
    ST_CHILD_EXISTS,
    ST_STAFF_INSERT,
    ST_TEAM_INSERT,
    ST_TEAM_UPDATE,
    ST_CHILD_INSERT,
    ST_CHILD_UPDATE,
    ST_CHILD_IDS,
    ST_STAFF_NAME,
    ST_TEAM_NAME,
    ST_STAFF_CONTACT,
    ST_TEAM_CONTACT,
    ST_STAFF_LIST,
    ST_TEAM_LIST,
    ST_ASSIGNMENTS,
    ST_STAFF_BY_EMAIL,
    ST_STAFF_GET,
    ST_CHILD_GET,
    ST_STAFF_TEAMS,
    ST_CHILD_COUNTS,
    ST_COUNT
};

static const char *const SQL[] = {
    [ST_STAFF_EXISTS] = "SELECT 1 FROM staff WHERE id = ?1",
    [ST_TEAM_EXISTS] = "SELECT 1 FROM teams WHERE id = ?1",
    [ST_CHILD_EXISTS] = "SELECT 1 FROM children WHERE id = ?1",
    [ST_STAFF_INSERT] = "INSERT INTO staff (id, name, email, role, manager_id) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_TEAM_INSERT] = "INSERT INTO teams (id, name, manager_id, service_manager_id, webhook) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_TEAM_UPDATE] = "UPDATE teams SET name = coalesce(?2, name), "
                       "manager_id = CASE WHEN ?3 IS NULL THEN manager_id ELSE nullif(?3, '') END, "
                       "service_manager_id = CASE WHEN ?4 IS NULL THEN service_manager_id ELSE nullif(?4, '') END, "
                       "webhook = CASE WHEN ?5 IS NULL THEN webhook ELSE nullif(?5, '') END "
                       "WHERE id = ?1",
    [ST_CHILD_INSERT] = "INSERT INTO children (id, initials, full_name, dob, team_id, worker_id, iro_id) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_CHILD_UPDATE] = "UPDATE children SET team_id = coalesce(?2, team_id), worker_id = coalesce(?3, worker_id), "
                        "iro_id = CASE WHEN ?4 IS NULL THEN iro_id ELSE nullif(?4, '') END WHERE id = ?1",
    [ST_CHILD_IDS] = "SELECT id FROM children ORDER BY id",
    [ST_STAFF_NAME] = "SELECT name FROM staff WHERE id = ?1",
    [ST_TEAM_NAME] = "SELECT name FROM teams WHERE id = ?1",
    [ST_STAFF_CONTACT] = "SELECT name, email FROM staff WHERE id = ?1",
    [ST_TEAM_CONTACT] = "SELECT name, webhook FROM teams WHERE id = ?1",
    [ST_STAFF_LIST] = "SELECT id, role, name, email, manager_id FROM staff ORDER BY id",
    [ST_TEAM_LIST] = "SELECT id, name, manager_id, service_manager_id, webhook FROM teams ORDER BY id",
    /* A child's allocation history, oldest first: the primary key's range. */
    [ST_ASSIGNMENTS] = "SELECT since, team_id, worker_id, iro_id FROM assignments WHERE child_id = ?1 ORDER BY since",
    /* Addresses are compared without regard to case (the local part too:
     * councils' mail systems do not tell Alice from alice). Two staff with
     * one address: the first by id. */
    [ST_STAFF_BY_EMAIL] = "SELECT id, role, name, email FROM staff WHERE email = ?1 COLLATE NOCASE ORDER BY id LIMIT 1",
    [ST_STAFF_GET] = "SELECT id, role, name, email FROM staff WHERE id = ?1",
    [ST_CHILD_GET] = "SELECT ch.id, ch.initials, CASE WHEN ?2 THEN ch.full_name END, ch.dob, ch.team_id, t.name, "
                     "ch.worker_id, w.name, ch.iro_id, i.name, t.manager_id, t.service_manager_id FROM children ch "
                     "LEFT JOIN teams t ON t.id = ch.team_id LEFT JOIN staff w ON w.id = ch.worker_id "
                     "LEFT JOIN staff i ON i.id = ch.iro_id WHERE ch.id = ?1",
    /* The teams a member of staff manages (1) or is service manager of (2). */
    [ST_CHILD_COUNTS] = "SELECT coalesce(team_id, ''), coalesce(worker_id, ''), count(*) FROM children "
                        "GROUP BY 1, 2 ORDER BY 1, 2",
    [ST_STAFF_TEAMS] = "SELECT id, name, (manager_id IS ?1) + 2 * (service_manager_id IS ?1) FROM teams "
                       "WHERE manager_id = ?1 OR service_manager_id = ?1 ORDER BY id",
};

_Static_assert(sizeof(SQL) / sizeof(SQL[0]) == ST_COUNT, "one SQL text per statement of the enum");

static sqlite3_stmt *stmt(cc_store_t *s, int which)
{
    assert(which >= 0 && which < ST_COUNT && SQL[which] != NULL);
    return cc__store_stmt(s, SQL[which]);
}

/* ---- existence and validation ------------------------------------------ */

int cc_store_staff_exists(cc_store_t *s, const char *id)
{
    assert(s != NULL);
    return cc__store_exists(s, SQL[ST_STAFF_EXISTS], id);
}

int cc_store_team_exists(cc_store_t *s, const char *id)
{
    assert(s != NULL);
    return cc__store_exists(s, SQL[ST_TEAM_EXISTS], id);
}

int cc_store_child_exists(cc_store_t *s, const char *id)
{
    assert(s != NULL);
    return cc__store_exists(s, SQL[ST_CHILD_EXISTS], id);
}

int cc_store_role_valid(const char *role)
{
    static const char *const roles[] = {"worker", "team_manager", "service_manager", "iro", "viewer"};
    for (size_t i = 0; role != NULL && i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(role, roles[i]) == 0)
            return 1;
    return 0;
}

/* ---- staff, teams, children -------------------------------------------- */

int cc_store_staff_add(cc_store_t *s, const cc_store_staff_t *staff, char *err, size_t errlen)
{
    assert(s != NULL && staff != NULL);
    int own, rc = cc__store_write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = cc__store_check_new_id(s, cc_store_staff_exists, "staff id", staff->id, err, errlen)) != 0 ||
        (rc = cc__store_check_text("name", staff->name, 1, err, errlen)) != 0)
        goto out;
    if (!cc_store_role_valid(staff->role)) {
        cc_set_err(err, errlen, "role %s is not one of %s", CC__Q(staff->role ? staff->role : ""), CC_STORE_ROLES);
        rc = CC_EINVAL;
        goto out;
    }
    if (staff->email != NULL && !cc_email_valid(staff->email)) {
        cc_set_err(err, errlen, "email %s is not an address careclock can send to (one \"@\" with text either side; ASCII "
                   "only; no spaces, line breaks, quotes, brackets, commas, semicolons or backslashes; "
                   "at most 254 characters)",
                CC__Q(staff->email));
        rc = CC_EINVAL;
        goto out;
    }
    if (staff->manager_id != NULL &&
        (rc = cc__store_check_ref(s, cc_store_staff_exists, "manager", staff->manager_id, err, errlen)) != 0)
        goto out;
    sqlite3_stmt *st = stmt(s, ST_STAFF_INSERT);
    if (st == NULL || cc__store_bind_text(st, 1, staff->id) || cc__store_bind_text(st, 2, staff->name) ||
        cc__store_bind_text(st, 3, staff->email) || cc__store_bind_text(st, 4, staff->role) ||
        cc__store_bind_text(st, 5, staff->manager_id) || cc__store_run(st) != 0)
        rc = cc__store_db_fail(s, err, errlen);
out:
    return cc__store_write_end(s, own, rc, err, errlen);
}

/* The staff references of a team, each optional. allow_empty: "" clears. */
static int check_team_refs(cc_store_t *s, const cc_store_team_t *team, int allow_empty, char *err, size_t errlen)
{
    int rc = 0;
    if (team->manager_id != NULL && !(allow_empty && team->manager_id[0] == '\0'))
        rc = cc__store_check_ref(s, cc_store_staff_exists, "manager", team->manager_id, err, errlen);
    if (rc == 0 && team->service_manager_id != NULL && !(allow_empty && team->service_manager_id[0] == '\0'))
        rc = cc__store_check_ref(s, cc_store_staff_exists, "service manager", team->service_manager_id, err, errlen);
    if (rc == 0 && team->webhook != NULL)
        rc = cc__store_check_text("webhook", team->webhook, !allow_empty, err, errlen);
    return rc;
}

static int bind_team(sqlite3_stmt *st, const cc_store_team_t *team)
{
    return cc__store_bind_text(st, 1, team->id) || cc__store_bind_text(st, 2, team->name) ||
           cc__store_bind_text(st, 3, team->manager_id) || cc__store_bind_text(st, 4, team->service_manager_id) ||
           cc__store_bind_text(st, 5, team->webhook);
}

int cc_store_team_add(cc_store_t *s, const cc_store_team_t *team, char *err, size_t errlen)
{
    assert(s != NULL && team != NULL);
    int own, rc = cc__store_write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = cc__store_check_new_id(s, cc_store_team_exists, "team id", team->id, err, errlen)) != 0 ||
        (rc = cc__store_check_text("name", team->name, 1, err, errlen)) != 0 ||
        (rc = check_team_refs(s, team, 0, err, errlen)) != 0)
        goto out;
    sqlite3_stmt *st = stmt(s, ST_TEAM_INSERT);
    if (st == NULL || bind_team(st, team) || cc__store_run(st) != 0)
        rc = cc__store_db_fail(s, err, errlen);
out:
    return cc__store_write_end(s, own, rc, err, errlen);
}

int cc_store_team_set(cc_store_t *s, const cc_store_team_t *team, char *err, size_t errlen)
{
    assert(s != NULL && team != NULL);
    int own, rc = cc__store_write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = cc__store_check_ref(s, cc_store_team_exists, "team", team->id, err, errlen)) != 0 ||
        (team->name != NULL && (rc = cc__store_check_text("name", team->name, 1, err, errlen)) != 0) ||
        (rc = check_team_refs(s, team, 1, err, errlen)) != 0)
        goto out;
    if (team->name == NULL && team->manager_id == NULL && team->service_manager_id == NULL &&
        team->webhook == NULL) {
        cc_set_err(err, errlen, "nothing to change for team %s", CC__Q(team->id));
        rc = CC_EINVAL;
        goto out;
    }
    sqlite3_stmt *st = stmt(s, ST_TEAM_UPDATE);
    if (st == NULL || bind_team(st, team) || cc__store_run(st) != 0)
        rc = cc__store_db_fail(s, err, errlen);
out:
    return cc__store_write_end(s, own, rc, err, errlen);
}

int cc_store_child_add(cc_store_t *s, const cc_store_child_t *child, char *err, size_t errlen)
{
    assert(s != NULL && child != NULL);
    char dob[CC_DATE_STRLEN];
    int own, rc = cc__store_write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = cc__store_check_new_id(s, cc_store_child_exists, "child id", child->id, err, errlen)) != 0 ||
        (rc = cc__store_check_text("initials", child->initials, 0, err, errlen)) != 0 ||
        (rc = cc__store_check_text("name", child->full_name, 0, err, errlen)) != 0 ||
        (child->team_id &&
         (rc = cc__store_check_ref(s, cc_store_team_exists, "team", child->team_id, err, errlen)) != 0) ||
        (child->worker_id &&
         (rc = cc__store_check_ref(s, cc_store_staff_exists, "worker", child->worker_id, err, errlen)) != 0) ||
        (child->iro_id && (rc = cc__store_check_ref(s, cc_store_staff_exists, "iro", child->iro_id, err, errlen)) != 0))
        goto out;
    cc_date_format(child->dob, dob);
    sqlite3_stmt *st = stmt(s, ST_CHILD_INSERT);
    if (st == NULL || cc__store_bind_text(st, 1, child->id) || cc__store_bind_text(st, 2, child->initials) ||
        cc__store_bind_text(st, 3, child->full_name) || cc__store_bind_text(st, 4, dob) ||
        cc__store_bind_text(st, 5, child->team_id) || cc__store_bind_text(st, 6, child->worker_id) ||
        cc__store_bind_text(st, 7, child->iro_id) || cc__store_run(st) != 0)
        rc = cc__store_db_fail(s, err, errlen);
out:
    return cc__store_write_end(s, own, rc, err, errlen);
}

int cc_store_child_set(cc_store_t *s, const char *id, const char *team_id, const char *worker_id,
                       const char *iro_id, char *err, size_t errlen)
{
    assert(s != NULL);
    int own, rc = cc__store_write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = cc__store_check_ref(s, cc_store_child_exists, "child", id, err, errlen)) != 0 ||
        (team_id && (rc = cc__store_check_ref(s, cc_store_team_exists, "team", team_id, err, errlen)) != 0) ||
        (worker_id && (rc = cc__store_check_ref(s, cc_store_staff_exists, "worker", worker_id, err, errlen)) != 0) ||
        (iro_id && iro_id[0] != '\0' &&
         (rc = cc__store_check_ref(s, cc_store_staff_exists, "iro", iro_id, err, errlen)) != 0))
        goto out;
    if (team_id == NULL && worker_id == NULL && iro_id == NULL) {
        cc_set_err(err, errlen, "nothing to change for child %s", CC__Q(id));
        rc = CC_EINVAL;
        goto out;
    }
    sqlite3_stmt *st = stmt(s, ST_CHILD_UPDATE);
    if (st == NULL || cc__store_bind_text(st, 1, id) || cc__store_bind_text(st, 2, team_id) ||
        cc__store_bind_text(st, 3, worker_id) || cc__store_bind_text(st, 4, iro_id) || cc__store_run(st) != 0)
        rc = cc__store_db_fail(s, err, errlen);
out:
    return cc__store_write_end(s, own, rc, err, errlen);
}

int cc_store_child_ids(cc_store_t *s, char ***ids, size_t *n)
{
    assert(s != NULL && ids != NULL && n != NULL);
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st = stmt(s, ST_CHILD_IDS);
    if (st == NULL)
        return CC_EDB;
    return cc__store_collect_ids(st, ids, n);
}

/* ---- listings (careclock staff list, team list) --------------------------- */

/* Hand each row of the cached statement which (five columns) to fn. */
static int each_row(cc_store_t *s, int which, cc_store_row_fn fn, void *data)
{
    const char *cols[5];
    int rc = 0, step = SQLITE_DONE;
    sqlite3_stmt *st = stmt(s, which);
    if (st == NULL)
        return CC_EDB;
    while (rc == 0 && (step = cc__store_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < 5; i++)
            cols[i] = cc__store_col(st, i);
        rc = fn(data, cols, 5);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_reset(st);
    return rc;
}

int cc_store_staff_each(cc_store_t *s, cc_store_row_fn fn, void *data)
{
    assert(s != NULL && fn != NULL);
    return each_row(s, ST_STAFF_LIST, fn, data);
}

int cc_store_team_each(cc_store_t *s, cc_store_row_fn fn, void *data)
{
    assert(s != NULL && fn != NULL);
    return each_row(s, ST_TEAM_LIST, fn, data);
}

/* ---- names and contacts ----------------------------------------------- */

/* The name column of one row by id into *name. */
static int name_of(cc_store_t *s, int which, const char *id, char **name)
{
    assert(s != NULL && id != NULL && name != NULL);
    *name = NULL;
    sqlite3_stmt *st = stmt(s, which);
    if (st == NULL || cc__store_bind_text(st, 1, id) != SQLITE_OK)
        return CC_EDB;
    int step = cc__store_step(st), rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : CC_EDB;
    const char *text = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (text != NULL && (*name = strdup(text)) == NULL)
        rc = CC_ENOMEM;
    sqlite3_reset(st);
    return rc;
}

int cc_store_team_name(cc_store_t *s, const char *id, char **name)
{
    return name_of(s, ST_TEAM_NAME, id, name);
}

int cc_store_staff_name(cc_store_t *s, const char *id, char **name)
{
    return name_of(s, ST_STAFF_NAME, id, name);
}

/* Columns 0 and 1 of one row by id into two buffers. */
static int contact_of(cc_store_t *s, int which, const char *id, char *name, size_t nlen, char *address, size_t alen)
{
    assert(s != NULL && id != NULL && name != NULL && address != NULL && nlen > 0 && alen > 0);
    name[0] = address[0] = '\0';
    sqlite3_stmt *st = stmt(s, which);
    if (st == NULL || cc__store_bind_text(st, 1, id) != SQLITE_OK)
        return CC_EDB;
    int step = cc__store_step(st);
    if (step == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(st, 0), *a = (const char *)sqlite3_column_text(st, 1);
        snprintf(name, nlen, "%s", n ? n : "");
        snprintf(address, alen, "%s", a ? a : "");
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : CC_EDB;
}

int cc_store_staff_contact(cc_store_t *s, const char *id, char *name, size_t nlen, char *email, size_t elen)
{
    return contact_of(s, ST_STAFF_CONTACT, id, name, nlen, email, elen);
}

int cc_store_team_contact(cc_store_t *s, const char *id, char *name, size_t nlen, char *webhook, size_t wlen)
{
    return contact_of(s, ST_TEAM_CONTACT, id, name, nlen, webhook, wlen);
}

/* ---- allocation history --------------------------------------------------- */

void cc_assignments_init(cc_assignments_t *a)
{
    assert(a != NULL);
    memset(a, 0, sizeof(*a));
}

void cc_assignments_free(cc_assignments_t *a)
{
    if (a == NULL)
        return;
    free(a->items);
    memset(a, 0, sizeof(*a));
}

static void copy_id(char *dst, const char *src)
{
    snprintf(dst, CC_STORE_ID_MAX + 1, "%s", src ? src : "");
}

int cc_store_child_assignments(cc_store_t *s, const char *child_id, cc_assignments_t *out)
{
    assert(s != NULL && child_id != NULL && out != NULL);
    out->len = 0;
    sqlite3_stmt *st = stmt(s, ST_ASSIGNMENTS);
    if (st == NULL || cc__store_bind_text(st, 1, child_id) != SQLITE_OK)
        return CC_EDB;
    int step, rc = 0;
    while ((step = cc__store_step(st)) == SQLITE_ROW) {
        cc_date_t since = cc__store_date(cc__store_col(st, 0));
        if (since == CC_DATE_NONE)
            continue; /* another system's unreadable date: not a usable row */
        if (cc__grow(&out->items, &out->cap, out->len + 1, sizeof(*out->items), 4) != 0) {
            rc = CC_ENOMEM;
            break;
        }
        cc_assignment_t *a = &out->items[out->len++];
        a->since = since;
        copy_id(a->team_id, cc__store_col(st, 1));
        copy_id(a->worker_id, cc__store_col(st, 2));
        copy_id(a->iro_id, cc__store_col(st, 3));
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_reset(st);
    return rc;
}

const cc_assignment_t *cc_assignments_on(const cc_assignments_t *a, cc_date_t day)
{
    assert(a != NULL);
    const cc_assignment_t *held = NULL;
    if (a->len == 0)
        return NULL;
    /* Oldest first: the last row that began on or before day. */
    for (size_t i = 0; i < a->len && a->items[i].since <= day; i++)
        held = &a->items[i];
    return held != NULL ? held : &a->items[0];
}

/* ---- one member of staff, one child --------------------------------------- */

static int staff_row(sqlite3_stmt *st, cc_store_person_t *out)
{
    memset(out, 0, sizeof(*out));
    copy_id(out->id, cc__store_col(st, 0));
    snprintf(out->role, sizeof(out->role), "%s", cc__store_col(st, 1) ? cc__store_col(st, 1) : "");
    snprintf(out->name, sizeof(out->name), "%s", cc__store_col(st, 2) ? cc__store_col(st, 2) : "");
    snprintf(out->email, sizeof(out->email), "%s", cc__store_col(st, 3) ? cc__store_col(st, 3) : "");
    return 1;
}

static int one_staff(cc_store_t *s, int which, const char *key, cc_store_person_t *out)
{
    assert(s != NULL && key != NULL && out != NULL);
    sqlite3_stmt *st = stmt(s, which);
    if (st == NULL || cc__store_bind_text(st, 1, key) != SQLITE_OK)
        return CC_EDB;
    int step = cc__store_step(st), rc = step == SQLITE_ROW ? staff_row(st, out) : step == SQLITE_DONE ? 0 : CC_EDB;
    sqlite3_reset(st);
    return rc;
}

int cc_store_staff_get(cc_store_t *s, const char *id, cc_store_person_t *out)
{
    return one_staff(s, ST_STAFF_GET, id, out);
}

int cc_store_staff_by_email(cc_store_t *s, const char *email, cc_store_person_t *out)
{
    return one_staff(s, ST_STAFF_BY_EMAIL, email, out);
}

/* Each row of the cached statement st, three text columns, to fn(data,
 * cols, 3) until it returns nonzero; st reset. 0, CC_EDB or fn's value. */
static int rows3(sqlite3_stmt *st, cc_store_row_fn fn, void *data)
{
    int step = SQLITE_DONE, rc = 0;
    while (rc == 0 && (step = cc__store_step(st)) == SQLITE_ROW) {
        const char *cols[3] = {cc__store_col(st, 0), cc__store_col(st, 1), cc__store_col(st, 2)};
        rc = fn(data, cols, 3);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_reset(st);
    return rc;
}

int cc_store_staff_teams(cc_store_t *s, const char *staff_id, cc_store_row_fn fn, void *data)
{
    assert(s != NULL && staff_id != NULL && fn != NULL);
    sqlite3_stmt *st = stmt(s, ST_STAFF_TEAMS);
    if (st == NULL || cc__store_bind_text(st, 1, staff_id) != SQLITE_OK)
        return CC_EDB;
    return rows3(st, fn, data);
}

int cc_store_child_get(cc_store_t *s, const char *id, int with_name, cc_store_child_row_t *out)
{
    assert(s != NULL && id != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = stmt(s, ST_CHILD_GET);
    if (st == NULL || cc__store_bind_text(st, 1, id) != SQLITE_OK || sqlite3_bind_int(st, 2, with_name != 0))
        return CC_EDB;
    int step = cc__store_step(st), rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : CC_EDB;
    if (rc == 1) {
        char **fields[] = {&out->id,        &out->initials,    &out->full_name,     &out->dob,
                                 &out->team_id,   &out->team_name,   &out->worker_id,     &out->worker_name,
                                 &out->iro_id,    &out->iro_name,    &out->team_manager_id,
                                 &out->service_manager_id};
        for (int i = 0; i < (int)(sizeof(fields) / sizeof(fields[0])) && rc == 1; i++) {
            const char *t = cc__store_col(st, i);
            if (t != NULL && (*fields[i] = strdup(t)) == NULL)
                rc = CC_ENOMEM;
        }
    }
    sqlite3_reset(st);
    if (rc < 0)
        cc_store_child_row_free(out);
    return rc;
}

void cc_store_child_row_free(cc_store_child_row_t *c)
{
    if (c == NULL)
        return;
    free(c->id);
    free(c->initials);
    free(c->full_name);
    free(c->dob);
    free(c->team_id);
    free(c->team_name);
    free(c->worker_id);
    free(c->worker_name);
    free(c->iro_id);
    free(c->iro_name);
    free(c->team_manager_id);
    free(c->service_manager_id);
    memset(c, 0, sizeof(*c));
}

int cc_store_children_held(cc_store_t *s, cc_store_row_fn fn, void *data)
{
    assert(s != NULL && fn != NULL);
    sqlite3_stmt *st = stmt(s, ST_CHILD_COUNTS);
    if (st == NULL)
        return CC_EDB;
    return rows3(st, fn, data);
}
