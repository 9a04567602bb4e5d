/* Events: what happened to a child, by date (table events;
 * docs/schema.md). The CLI's writes and reads of one child's events;
 * daemon/store/events.c is the only place their SQL lives, but for the
 * evaluation's reads (evaluate.c, reader.c) and the SSDA903 import's
 * (import_db.c). Writes follow the store's contract (store.h).
 */
#ifndef CARECLOCK_EVENTS_H
#define CARECLOCK_EVENTS_H

#include "careclock/date.h"
#include "careclock/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *child_id;   /* must exist */
    const char *type;       /* the caller has checked it against the rules */
    cc_date_t date;         /* stored as YYYY-MM-DD */
    const char *attributes; /* a JSON object's text; NULL for {} */
    const char *source;     /* NULL for "cli" */
    const char *source_key; /* NULL for none; unique when given */
    const char *note;       /* NULL for none */
} cc_store_event_in_t;

/* Add an event and set *id (may be NULL) to its id. A looked_after_end is
 * refused (CC_ESTATE) when no looked_after_start of that child is on or
 * before its date, when it is dated before the start of the episode it
 * would close, or when that episode has already ended. */
int cc_store_event_add(cc_store_t *s, const cc_store_event_in_t *ev, int64_t *id, char *err, size_t errlen);

/* One stored event, every field as the database holds it (text that
 * another system wrote is not validated). NULL columns are NULL. */
typedef struct {
    int64_t id;
    char *child_id, *type, *date, *attributes, *recorded_at, *source, *source_key, *note;
} cc_store_event_t;

typedef struct {
    cc_store_event_t *items;
    size_t len;
} cc_store_events_t;

/* A child's events ordered by date, then id, into *out (which the caller
 * frees with cc_store_events_free). CC_ENOTFOUND if the child does not
 * exist. */
int cc_store_event_list(cc_store_t *s, const char *child_id, cc_store_events_t *out, char *err, size_t errlen);
void cc_store_events_free(cc_store_events_t *events);

/* Delete an event; the audit table keeps the row as JSON. If deleted is
 * not NULL it receives a copy of the row (free its strings with
 * cc_store_event_clear). CC_ENOTFOUND if there is no such event. */
int cc_store_event_delete(cc_store_t *s, int64_t id, cc_store_event_t *deleted, char *err, size_t errlen);
void cc_store_event_clear(cc_store_event_t *ev);

/* How many events of type each source has ever recorded (table
 * event_counts, kept by triggers for every writer): fn(arg, source, n)
 * for each source with n > 0, by source. The timeliness report's data
 * coverage (issue 17 item 7). 0, CC_EDB or fn's nonzero value. */
typedef int (*cc_store_event_count_fn)(void *arg, const char *source, int64_t n);
int cc_store_event_counts(cc_store_t *s, const char *type, cc_store_event_count_fn fn, void *arg);

#endif
