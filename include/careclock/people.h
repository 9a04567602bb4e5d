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
#define CC_STORE_ROLES "worker, team_manager, service_manager, iro"

/* 1 if role is one of CC_STORE_ROLES. */
int cc_store_role_valid(const char *role);

typedef struct {
    const char *id;         /* required */
    const char *name;       /* required, non-empty */
    const char *email;      /* NULL for none */
    const char *role;       /* worker | team_manager | service_manager | iro */
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

#endif
