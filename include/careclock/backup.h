/* Backups of the plan database with SQLite's online backup API.
 *
 * A backup is the database as of one commit, taken while careclockd and
 * other processes go on writing: sqlite3_backup_step(-1) copies every page
 * inside one read transaction, which in WAL mode blocks no writer. The copy
 * is written to a temporary file beside the destination, created mode 0600
 * whatever the umask, switched to a rollback journal (one self-contained
 * file: no -wal or -shm to carry along), synced, and renamed onto the
 * destination; a failed backup leaves nothing under the destination's name.
 */
#ifndef CARECLOCK_BACKUP_H
#define CARECLOCK_BACKUP_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t pages;          /* pages copied */
    int64_t bytes;          /* the copy's size */
    int schema_version;     /* PRAGMA user_version of the copy */
} cc_backup_info_t;

/* Back up the careclock database at src_path (which must exist and be a
 * careclock database; it is opened without migrating it) into dest, which
 * must not exist. info may be NULL. Returns 0; CC_ENOTFOUND (no database),
 * CC_EEXIST (dest exists), CC_EIO (dest cannot be written), CC_EDB (SQLite
 * failed, or src is not a careclock database), CC_EBUSY (the source stayed
 * locked) or CC_ENOMEM, with the reason in err. */
int cc_backup_database(const char *src_path, const char *dest, cc_backup_info_t *info, char *err, size_t errlen);

/* The same from an open connection's main database (the store's own
 * connection, before a migration). It must not be inside a transaction
 * that has written. */
int cc_backup_connection(sqlite3 *src, const char *dest, cc_backup_info_t *info, char *err, size_t errlen);

/* "<dir>/<prefix><YYYYMMDDTHHMMSSZ><suffix>" for the UTC time now, into out. */
void cc_backup_name(const char *dir, const char *prefix, const char *suffix, long long now, char *out,
                    size_t len);

/* In dir, delete the oldest regular files whose names are prefix +
 * anything + suffix, keeping the newest keep (by name, which sorts by the
 * time cc_backup_name put in it). *deleted (may be NULL) receives the
 * count. Returns 0, or CC_EIO with err (the first file that could not be
 * deleted; the others are still tried). */
int cc_backup_rotate(const char *dir, const char *prefix, const char *suffix, int keep, int *deleted, char *err,
                     size_t errlen);

#endif
