/* careclockd: one libuv loop that keeps the clocks table true.
 *
 * It recomputes every clock at start, then watches the plan database for
 * commits by any process (PRAGMA data_version on a short timer, and a file
 * watch on the WAL file so it reacts at once), drains the change queue and
 * recomputes only the children that changed. Statuses move with the
 * calendar: it recomputes at local midnight in the configured zone and
 * after the wall clock jumps or the host resumes. SIGHUP reloads the
 * configuration, rules and holidays (a bad new configuration is refused and
 * the old one keeps running); SIGTERM and SIGINT stop it cleanly. It speaks
 * sd_notify: READY, RELOADING, STOPPING, WATCHDOG and STATUS.
 */
#ifndef CARECLOCK_DAEMON_H
#define CARECLOCK_DAEMON_H

#include "careclock/config.h"

#include <time.h>

typedef struct {
    const char *config_path;  /* NULL: built-in defaults (the default path does not exist) */
    cc_config_source_t config_source; /* how config_path was chosen, for the start-up log line */
    const char *db_path;      /* overrides [careclock] database */
    const char *listen;       /* overrides [http] listen */
    const char *admin_listen; /* overrides [http] admin_listen ("off": none) */
    int has_now;              /* --now given: the daemon's clock starts at now */
    time_t now;
} cc_daemon_options_t;

/* Run the daemon until SIGTERM or SIGINT. Returns the process exit status:
 * 0 after a clean stop, 1 when it could not start (the reason logged). */
int cc_daemon_run(const cc_daemon_options_t *options);

#endif
