/* The feed route of careclockd's HTTP server: token lookup, a cache of
 * rendered feeds invalidated by generation, rendering off the loop (libuv's
 * thread pool, on a connection of its own), and batched access records.
 * Everything but the rendering runs on the daemon's loop. */
#ifndef CARECLOCK_FEEDSERVER_H
#define CARECLOCK_FEEDSERVER_H

#include "careclock/calendar.h"
#include "careclock/config.h"
#include "careclock/date.h"
#include "careclock/http.h"
#include "careclock/store.h"

#include <stdint.h>
#include <uv.h>

typedef struct cc_feedserver cc_feedserver_t;

/* A feed server on loop over store (borrowed; the loop's connection)
 * rendering with config (borrowed; replaced by cc_feedserver_invalidate).
 * It opens db_path again for its render thread. Returns 0, CC_ENOMEM, or
 * the error of opening db_path (err says why). */
int cc_feedserver_new(uv_loop_t *loop, cc_store_t *store, const char *db_path, const cc_config_t *config,
                      cc_feedserver_t **out, char *err, size_t errlen);

/* The server whose waiting requests a finished render wakes (NULL: none;
 * requests needing a render are then answered 500). */
void cc_feedserver_attach(cc_feedserver_t *fs, cc_http_t *http);

/* Stopping: no render is started any more and none wakes a request (the
 * server is going). A render in flight finishes on the thread pool; the
 * loop runs until it has. */
void cc_feedserver_close(cc_feedserver_t *fs);

/* Free it, once the loop has ended; bodies still held by the HTTP server
 * stay alive until released. */
void cc_feedserver_free(cc_feedserver_t *fs);

/* Clocks, configuration or the day changed: every cached feed renders again
 * on its next request, with config and cal (working days; both borrowed)
 * as of today. (Writes by other processes need no call: a request at
 * another data_version renders again.) */
void cc_feedserver_invalidate(cc_feedserver_t *fs, const cc_config_t *config, const cc_calendar_t *cal,
                              cc_date_t today);

/* Call fn(arg) once no render that may still read a calendar given before
 * is running: at once when none is, else when the render in flight is
 * done (cc_feedserver_free calls what is left). For the daemon's reload,
 * which replaces the calendar: the old one is freed by fn. */
void cc_feedserver_when_idle(cc_feedserver_t *fs, void (*fn)(void *), void *arg);

/* Answer a feed request (for cc_http_routes_t.feed): 0 with *out set
 * (released by the server); for a revoked token, 0 with an empty calendar;
 * or 0 with out->pending (the feed is being rendered: out->wait_key is its
 * id, woken through cc_http_wake when done; a woken request, out->resumed,
 * takes the body just rendered); CC_ENOTFOUND for an unknown or malformed
 * token or a feed whose team or person no longer exists, or another error
 * (its render failed: logged). db_version is the database's PRAGMA
 * data_version now: a token already looked up at the same version is
 * answered from memory (any write by another process, such as a
 * revocation, moves it), and a body rendered at another version is
 * rendered again. */
int cc_feedserver_feed(cc_feedserver_t *fs, const char *token, int64_t db_version, cc_http_body_t *out);

/* Write the access counts gathered since the last flush. */
int cc_feedserver_flush_access(cc_feedserver_t *fs, const char *now_utc);

/* Renders done and feed requests answered, for /metrics. */
void cc_feedserver_counts(const cc_feedserver_t *fs, uint64_t *renders, uint64_t *hits);

#endif
