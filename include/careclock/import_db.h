/* The SSDA903 import, the shell: daemon/store/import_db.c brings the plan
 * database in line with a mapped import (careclock/import.h, pure). */
#ifndef CARECLOCK_IMPORT_DB_H
#define CARECLOCK_IMPORT_DB_H

#include "careclock/import.h"
#include "careclock/store.h"

typedef struct {
    size_t children_new, children_updated, children_unchanged;
    size_t episodes_new, episodes_updated, episodes_unchanged, episodes_no_events, episodes_future;
    size_t reviews_new, reviews_updated, reviews_unchanged, reviews_duplicate, reviews_future;
    size_t events_inserted, events_updated, events_deleted;
    size_t episode_events_deleted, reviews_deleted; /* events_deleted by kind */
    int episodes_input, reviews_input; /* an episodes (reviews) file was among the inputs */
    size_t unallocated;     /* new children placed in CC_IMPORT_TEAM */
    int team_created;       /* CC_IMPORT_TEAM was created */
} cc_import_result_t;

/* Bring the database in line with a mapped import, in one transaction
 * (BEGIN IMMEDIATE ... COMMIT; rolled back instead when dry_run):
 *  - children: new ones added (team CC_IMPORT_TEAM, created when needed,
 *    no worker, no initials); a changed DOB updated; nothing else touched.
 *  - events: each keyed by cc_import_*_key, source CC_IMPORT_SOURCE;
 *    inserted when new, updated when type, date or attributes differ,
 *    left alone when equal. For a child in the files with no rows skipped,
 *    imported events no longer produced are deleted when their own date
 *    (DECOM for episode events) is on or after the child's window: an
 *    annual return leaves out episodes that closed before its year. Only
 *    kinds whose file was among the inputs are deleted: an import without
 *    a reviews file deletes no review (and one without an episodes file no
 *    episode's event); res says which files there were and what went.
 * Events of other sources and children not in the files are never
 * touched. Returns 0, or CC_EDB / CC_ENOMEM with err (nothing written). */
int cc_import_apply(cc_store_t *store, const cc_import_t *imp, int dry_run, cc_import_result_t *res, char *err,
                    size_t errlen);

#endif
