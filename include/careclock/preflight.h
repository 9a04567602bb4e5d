/* The pre-flight check: what would fail later, found before the service
 * starts (careclockd --check-config, careclock config check). The
 * configuration has loaded (its syntax, keys and values are valid); this
 * looks at the machine it will run on, as the user it will run as:
 *
 *  - the service user: --user, else [careclockd] user, else User= of the
 *    installed careclockd.service (and its drop-ins), else the user running
 *    the check; it must exist;
 *  - secret files ([smtp] password_file, [webhook:NAME] secret_file) exist,
 *    are files, are not empty and are readable by that user; a file under
 *    /run/credentials/careclockd.service/ that is not there (the service is
 *    not running) must be given by the unit's LoadCredential=NAME:SOURCE,
 *    and SOURCE must exist;
 *  - the database is not a directory, its directory exists and the user may
 *    create files in it, and the file, -wal and -shm (when they exist) are
 *    readable and writable by the user;
 *  - rule and holiday files are files the user can read; file_channel is a
 *    directory the user can write (or can be made in one);
 *  - [smtp]: from is set when url is; tls = none only to a loopback relay;
 *    username and password_file go together;
 *  - the listen address can be bound (through the caller's probe).
 *
 * Each problem is reported as one line naming the file and line of the key
 * (or the path), what is wrong and the fix. Permissions are judged from the
 * owner, group and mode bits (and the user's groups); ACLs are not read,
 * except when the check runs as the service user itself (access(2)).
 */
#ifndef CARECLOCK_PREFLIGHT_H
#define CARECLOCK_PREFLIGHT_H

#include "careclock/config.h"

#include <stddef.h>

typedef enum {
    CC_PREFLIGHT_NOTE,    /* what was checked and how: for the reader, not a failure */
    CC_PREFLIGHT_PROBLEM  /* what will fail, and the fix */
} cc_preflight_level_t;

typedef void (*cc_preflight_report_fn)(void *data, cc_preflight_level_t level, const char *message);

/* Try to bind address as the feed server would. Returns 0 when it is free
 * (or held by a careclockd, said in msg: a reload is fine), else a problem
 * described in msg with the fix. */
typedef int (*cc_preflight_listen_fn)(const char *address, char *msg, size_t len);

typedef struct {
    const char *user;       /* check as this user; NULL: see above */
    const char *unit;       /* the unit file for User= and LoadCredential=; NULL: systemd's search path */
    const char *database;   /* the database the service opens (--db); NULL: [careclock] database */
    const char *listen;     /* the address it listens on (--listen); NULL: [http] listen */
    cc_preflight_listen_fn listen_probe; /* NULL: the listen address is not checked */
} cc_preflight_options_t;

/* Run every check on config (loaded from config->path, or the built-in
 * defaults), calling report once per note and per problem. options may be
 * NULL. Returns the number of problems (0: nothing found), or CC_ENOMEM. */
int cc_preflight_run(const cc_config_t *config, const cc_preflight_options_t *options,
                     cc_preflight_report_fn report, void *data);

/* A cc_preflight_report_fn for the two programs: notes to stdout as
 * "  note: ...", problems to stderr as "  problem: ...". data is unused. */
void cc_preflight_print(void *data, cc_preflight_level_t level, const char *message);

/* The whole check, as careclockd --check-config and careclock config check
 * run it: say which file is read (path from cc_config_locate(), source
 * how it was chosen; a missing default means the built-in defaults, said
 * so), load it with the rules and the holiday calendar (cc_env_load), run
 * cc_preflight_run(), and end with one line: valid, or how many problems.
 * prog prefixes the lines. Returns 0 (valid), 2 (the configuration is
 * refused, or problems found) or 1 (out of memory): the exit status. */
int cc_preflight_check(const char *prog, const char *path, cc_config_source_t source,
                       const cc_preflight_options_t *options);

#endif
