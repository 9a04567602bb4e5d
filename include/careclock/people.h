/* Staff, teams and children: the people of the plan database (tables
 * staff, teams, children; docs/schema.md). daemon/store/people.c is the
 * only place their SQL lives, but for the joins that read clocks with
 * their people (clocks.c) and the evaluation's and the import's reads of
 * children.
 *
 * Writes follow the store's contract (store.h): validated, then written in
 * one transaction (or a savepoint of the caller's); on error nothing is
 * written and err names the field and the value.
 */
#ifndef CARECLOCK_PEOPLE_H
#define CARECLOCK_PEOPLE_H

#include "careclock/date.h"
#include "careclock/store.h"

#include <stddef.h>

/* Existence checks: 1 if present, 0 if not, CC_EDB on failure. */
int cc_store_staff_exists(cc_store_t *s, const char *id);
int cc_store_team_exists(cc_store_t *s, const char *id);
int cc_store_child_exists(cc_store_t *s, const char *id);

/* Staff roles as stored. */
#define CC_STORE_ROLES "worker, team_manager, service_manager, iro, viewer"

/* 1 if role is one of CC_STORE_ROLES. */
int cc_store_role_valid(const char *role);

typedef struct {
    const char *id;         /* required */
    const char *name;       /* required, non-empty */
    const char *email;      /* NULL for none */
    const char *role;       /* worker | team_manager | service_manager | iro | viewer (the dashboard, read-only) */
    const char *manager_id; /* NULL for none; must exist */
} cc_store_staff_t;

int cc_store_staff_add(cc_store_t *s, const cc_store_staff_t *staff, char *err, size_t errlen);

typedef struct {
    const char *id;                 /* required */
    const char *name;               /* required, non-empty */
    const char *manager_id;         /* NULL for none; must exist */
    const char *service_manager_id; /* NULL for none; must exist */
    const char *webhook;            /* NULL for none: a webhook name from the configuration */
} cc_store_team_t;

int cc_store_team_add(cc_store_t *s, const cc_store_team_t *team, char *err, size_t errlen);

/* Change a team. Fields left NULL (other than id) are unchanged; name must
 * not be empty; an empty webhook, manager_id or service_manager_id clears
 * it. CC_ENOTFOUND if the team does not exist. */
int cc_store_team_set(cc_store_t *s, const cc_store_team_t *team, char *err, size_t errlen);

typedef struct {
    const char *id;        /* required: the council's reference */
    const char *initials;  /* NULL for none */
    const char *full_name; /* NULL for none */
    cc_date_t dob;         /* required */
    const char *team_id;   /* NULL for none; must exist */
    const char *worker_id; /* NULL for none; must exist */
    const char *iro_id;    /* NULL for none; must exist */
} cc_store_child_t;

/* Add a child. The caller has checked dob against today. */
int cc_store_child_add(cc_store_t *s, const cc_store_child_t *child, char *err, size_t errlen);

/* Change a child's team, worker or IRO. NULL leaves a field unchanged; an
 * empty iro_id clears the IRO (team and worker cannot be cleared).
 * CC_EINVAL if nothing would change; CC_ENOTFOUND for an unknown child or
 * reference. */
int cc_store_child_set(cc_store_t *s, const char *id, const char *team_id, const char *worker_id,
                       const char *iro_id, char *err, size_t errlen);

/* Every child id, sorted. Free with cc_store_free_ids. 0, CC_EDB or
 * CC_ENOMEM. */
int cc_store_child_ids(cc_store_t *s, char ***ids, size_t *n);

/* The name of a team or of a member of staff into *name (a new string the
 * caller frees; NULL when the row has none): 1 when the row exists, 0 when
 * not, CC_EDB or CC_ENOMEM. */
int cc_store_team_name(cc_store_t *s, const char *id, char **name);
int cc_store_staff_name(cc_store_t *s, const char *id, char **name);

/* Where a message to a member of staff or a team's webhook goes now: the
 * row's name and its email (staff) or webhook name (team), each copied into
 * its buffer ("" when NULL; truncated to fit). 1 when the row exists (the
 * buffers written), 0 when not (both ""), CC_EDB. */
int cc_store_staff_contact(cc_store_t *s, const char *id, char *name, size_t nlen, char *email, size_t elen);
int cc_store_team_contact(cc_store_t *s, const char *id, char *name, size_t nlen, char *webhook, size_t wlen);

/* A row of a listing: cols[0..ncols-1], NULL where the column is NULL,
 * valid during the call. Return 0 to go on, or an error code to stop (it is
 * returned). */
typedef int (*cc_store_row_fn)(void *data, const char *const *cols, int ncols);

/* Every member of staff, by id: id, role, name, email, manager_id. fn is
 * called once per row; 0, CC_EDB, or fn's error. */
int cc_store_staff_each(cc_store_t *s, cc_store_row_fn fn, void *data);

/* Every team, by id: id, name, manager_id, service_manager_id, webhook. */
int cc_store_team_each(cc_store_t *s, cc_store_row_fn fn, void *data);

/* ---- the allocation history (table assignments, schema 7) ----

 * Who held a child from which day: written by triggers on children for
 * every writer (docs/schema.md, "assignments"). The timeliness report
 * credits a clock to the team and worker who held the child on its due
 * date: the last row that began on or before that day; a day before the
 * first row counts as held by the first row's holders (the history begins
 * when careclock first saw the child). */
typedef struct {
    cc_date_t since;
    char team_id[CC_STORE_ID_MAX + 1], worker_id[CC_STORE_ID_MAX + 1], iro_id[CC_STORE_ID_MAX + 1]; /* "" none */
} cc_assignment_t;

/* A child's rows, oldest first; reusable across children. */
typedef struct {
    cc_assignment_t *items;
    size_t len, cap;
} cc_assignments_t;

void cc_assignments_init(cc_assignments_t *a);
void cc_assignments_free(cc_assignments_t *a);

/* child_id's rows into out (replacing what it held): 0, CC_EDB, CC_ENOMEM.
 * Rows whose date does not parse are skipped. */
int cc_store_child_assignments(cc_store_t *s, const char *child_id, cc_assignments_t *out);

/* Who held the child on day (see above); NULL when out has no row. */
const cc_assignment_t *cc_assignments_on(const cc_assignments_t *a, cc_date_t day);

/* ---- looking people up (the dashboard) ---- */

/* One member of staff, copied (truncated to fit; "" for NULL). */
typedef struct {
    char id[CC_STORE_ID_MAX + 1];
    char role[32];
    char name[256];
    char email[256];
} cc_store_person_t;

/* The member of staff with id, or whose email is email (compared without
 * regard to case; with two, the first by id), into *out: 1 found, 0 not,
 * CC_EDB. */
int cc_store_staff_get(cc_store_t *s, const char *id, cc_store_person_t *out);
int cc_store_staff_by_email(cc_store_t *s, const char *email, cc_store_person_t *out);

/* The teams staff_id manages or is service manager of, by id: id, name,
 * and how ("1" team manager, "2" service manager, "3" both). */
int cc_store_staff_teams(cc_store_t *s, const char *staff_id, cc_store_row_fn fn, void *data);

/* How many children each team and worker holds now: team id, worker id
 * ("" for none) and the count as text, by team then worker. */
int cc_store_children_held(cc_store_t *s, cc_store_row_fn fn, void *data);

/* A child with the names of its team and people (each a new string, NULL
 * for NULL; full_name only when with_name). Free with
 * cc_store_child_row_free. 1 found, 0 not, CC_EDB, CC_ENOMEM. */
typedef struct {
    char *id, *initials, *full_name, *dob;
    char *team_id, *team_name, *worker_id, *worker_name, *iro_id, *iro_name;
    char *team_manager_id, *service_manager_id;
} cc_store_child_row_t;

int cc_store_child_get(cc_store_t *s, const char *id, int with_name, cc_store_child_row_t *out);
void cc_store_child_row_free(cc_store_child_row_t *c);

#endif
