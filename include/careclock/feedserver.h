/* The feed route of careclockd's HTTP server: token lookup, a cache of
 * rendered feeds invalidated by generation, and batched access records.
 * Single-threaded: everything runs on the daemon's loop. */
#ifndef CARECLOCK_FEEDSERVER_H
#define CARECLOCK_FEEDSERVER_H

#include "careclock/calendar.h"
#include "careclock/config.h"
#include "careclock/date.h"
#include "careclock/http.h"
#include "careclock/store.h"

#include <stdint.h>

typedef struct cc_feedserver cc_feedserver_t;

/* A feed server over store (borrowed) rendering with config (borrowed;
 * replaced by cc_feedserver_invalidate). Returns 0 or CC_ENOMEM. */
int cc_feedserver_new(cc_store_t *store, const cc_config_t *config, cc_feedserver_t **out);

/* Free it; bodies still held by the HTTP server stay alive until released. */
void cc_feedserver_free(cc_feedserver_t *fs);

/* Clocks, configuration or the day changed: every cached feed renders again
 * on its next request, with config and cal (working days; both borrowed)
 * as of today. (Writes by other processes need no call: a request at
 * another data_version renders again.) */
void cc_feedserver_invalidate(cc_feedserver_t *fs, const cc_config_t *config, const cc_calendar_t *cal,
                              cc_date_t today);

/* Answer a feed request (for cc_http_routes_t.feed): 0 with *out set
 * (released by the server); for a revoked token, 0 with an empty calendar;
 * CC_ENOTFOUND for an unknown or malformed token or a feed whose team or
 * person no longer exists, or another error. db_version is the database's
 * PRAGMA data_version now: a token already looked up at the same version
 * is answered from memory (any write by another process, such as a
 * revocation, moves it), and a body rendered at another version is
 * rendered again. */
int cc_feedserver_feed(cc_feedserver_t *fs, const char *token, int64_t db_version, cc_http_body_t *out);

/* Write the access counts gathered since the last flush. */
int cc_feedserver_flush_access(cc_feedserver_t *fs, const char *now_utc);

/* Renders done and feed requests answered, for /metrics. */
void cc_feedserver_counts(const cc_feedserver_t *fs, uint64_t *renders, uint64_t *hits);

#endif
