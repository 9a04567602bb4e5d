/* Backups of the plan database. See include/careclock/backup.h. */
#include "careclock/backup.h"
#include "careclock/error.h"
#include "careclock/paths.h"
#include "careclock/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TRIES 20
#define BUSY_WAIT_MS 250

static int fsync_path(const char *path, int directory)
{
    int fd = open(path, (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : CC_EDB;
}

static void unlink_temp(const char *tmp)
{
    char journal[PATH_MAX + 16];
    unlink(tmp);
    snprintf(journal, sizeof(journal), "%s-journal", tmp);
    unlink(journal);
}

int cc_backup_connection(sqlite3 *src, const char *dest, cc_backup_info_t *info, char *err, size_t errlen)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    sqlite3 *out = NULL;
    sqlite3_backup *b = NULL;
    int rc = CC_EDB, made = 0;
    struct stat st;
    if (info != NULL)
        memset(info, 0, sizeof(*info));
    if (lstat(dest, &st) == 0) {
        cc_set_err(err, errlen, "%s exists: careclock never overwrites a file; remove it or name another", dest);
        return CC_EEXIST;
    }
    if (snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", dest, (long)getpid()) >= (int)sizeof(tmp)) {
        cc_set_err(err, errlen, "%s: the name is too long", dest);
        return CC_EIO;
    }
    unlink_temp(tmp); /* a leftover of a backup killed part way, by this pid's number */
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        cc_set_err(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return CC_EIO;
    }
    close(fd);
    made = 1;
    if (sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        cc_set_err(err, errlen, "%s: %s", tmp, out ? cc_store_db_errmsg(out, NULL) : "cannot open");
        goto out;
    }
    b = sqlite3_backup_init(out, "main", src, "main");
    if (b == NULL) {
        cc_set_err(err, errlen, "%s: %s", dest, cc_store_db_errmsg(out, NULL));
        goto out;
    }
    /* All pages in one step: one read transaction on the source, so the
     * copy is one commit's database however busy the writers are. */
    int step, tries = 0;
    while ((step = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || step == SQLITE_LOCKED) {
        if (++tries >= BUSY_TRIES)
            break;
        sqlite3_sleep(BUSY_WAIT_MS);
    }
    if (info != NULL)
        info->pages = sqlite3_backup_pagecount(b);
    int finish = sqlite3_backup_finish(b);
    b = NULL;
    if (step != SQLITE_DONE || finish != SQLITE_OK) {
        int code = step != SQLITE_DONE ? step : finish;
        cc_set_err(err, errlen, "backing up into %s failed: %s", dest,
                   code == SQLITE_BUSY || code == SQLITE_LOCKED ? "the database stayed locked" : sqlite3_errstr(code));
        rc = code == SQLITE_BUSY || code == SQLITE_LOCKED ? CC_EBUSY : CC_EDB;
        goto out;
    }
    /* One self-contained file, whatever the source's journal mode. */
    if (exec_sql(out, "PRAGMA journal_mode = DELETE") != 0) {
        cc_set_err(err, errlen, "%s: %s", tmp, cc_store_db_errmsg(out, NULL));
        goto out;
    }
    if (info != NULL) {
        sqlite3_stmt *st_version = NULL;
        if (sqlite3_prepare_v2(out, "PRAGMA user_version", -1, &st_version, NULL) == SQLITE_OK &&
            sqlite3_step(st_version) == SQLITE_ROW)
            info->schema_version = sqlite3_column_int(st_version, 0);
        sqlite3_finalize(st_version);
    }
    if (sqlite3_close(out) != SQLITE_OK) {
        cc_set_err(err, errlen, "%s: %s", tmp, cc_store_db_errmsg(out, NULL));
        goto out;
    }
    out = NULL;
    cc_path_dir(dest, dir, sizeof(dir));
    if (fsync_path(tmp, 0) != 0 || rename(tmp, dest) != 0 || fsync_path(dir, 1) != 0) {
        cc_set_err(err, errlen, "cannot write %s: %s", dest, strerror(errno));
        rc = CC_EIO;
        goto out;
    }
    made = 0;
    if (info != NULL && stat(dest, &st) == 0)
        info->bytes = st.st_size;
    rc = 0;
out:
    if (b != NULL)
        sqlite3_backup_finish(b);
    sqlite3_close(out);
    if (made)
        unlink_temp(tmp);
    return rc;
}

int cc_backup_database(const char *src_path, const char *dest, cc_backup_info_t *info, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct stat sb;
    int rc = CC_EDB, app_id = -1;
    if (stat(src_path, &sb) != 0) {
        cc_set_err(err, errlen, "%s: %s", src_path, strerror(errno));
        return errno == ENOENT ? CC_ENOTFOUND : CC_EIO;
    }
    /* Read-write (WAL readers write the -shm index) but never created, and
     * never migrated: the copy is the database as it is. */
    if (sqlite3_open_v2(src_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        cc_set_err(err, errlen, "%s: %s", src_path, db ? cc_store_db_errmsg(db, NULL) : "cannot open");
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        cc_set_err(err, errlen, "%s: %s", src_path, cc_store_db_errmsg(db, NULL));
        goto out;
    }
    app_id = sqlite3_column_int(st, 0);
    if (app_id != CC_STORE_APPLICATION_ID) {
        cc_set_err(err, errlen, "%s is not a careclock database", src_path);
        goto out;
    }
    rc = cc_backup_connection(db, dest, info, err, errlen);
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

void cc_backup_name(const char *dir, const char *prefix, const char *suffix, long long now, char *out, size_t len)
{
    time_t t = (time_t)now;
    struct tm tm;
    char stamp[32];
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, len, "%s/%s%s%s", dir, prefix, stamp, suffix);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cc_backup_rotate(const char *dir, const char *prefix, const char *suffix, int keep, int *deleted, char *err,
                     size_t errlen)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, count = 0;
    struct dirent *e;
    size_t plen = strlen(prefix), slen = strlen(suffix);
    if (deleted != NULL)
        *deleted = 0;
    if (d == NULL) {
        cc_set_err(err, errlen, "%s: %s", dir, strerror(errno));
        return CC_EIO;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < plen + slen || strncmp(e->d_name, prefix, plen) != 0 ||
            strcmp(e->d_name + len - slen, suffix) != 0 || strstr(e->d_name, ".tmp-") != NULL)
            continue;
        if (n == cap) {
            size_t grown = cap ? cap * 2 : 16;
            char **more = realloc(names, grown * sizeof(*more));
            if (more == NULL) {
                rc = CC_ENOMEM;
                goto out;
            }
            names = more;
            cap = grown;
        }
        if ((names[n] = strdup(e->d_name)) == NULL) {
            rc = CC_ENOMEM;
            goto out;
        }
        n++;
    }
    qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; keep >= 0 && i + (size_t)keep < n; i++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (unlink(path) != 0) {
            if (rc == 0)
                cc_set_err(err, errlen, "cannot delete %s: %s", path, strerror(errno));
            rc = CC_EIO;
            continue;
        }
        count++;
    }
out:
    if (rc == CC_ENOMEM)
        cc_set_err(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    if (deleted != NULL)
        *deleted = count;
    return rc;
}
