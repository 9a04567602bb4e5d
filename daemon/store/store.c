/* The plan database (SQLite): the connection. docs/schema.md is the
 * reference for the schema; schema.c holds the migrations that build it,
 * and each table family its own module (people.c, events.c, changes.c,
 * clocks.c, evaluate.c, outbox*.c, feeds.c, import_db.c, meta.c). This file
 * holds what they share (internal.h): opening and closing, transactions,
 * the statement cache, why a statement failed, the checks of ids and text.
 *
 * Design notes:
 *  - Prepared statements are cached per store, keyed by the address of
 *    their SQL text (each module's static SQL), and reset after every use,
 *    so that no statement keeps a read transaction open between calls.
 *  - A write runs in its own BEGIN IMMEDIATE transaction (taking the write
 *    lock before reading, so the checks it makes still hold when it writes),
 *    or in a savepoint of the caller's transaction. Checks run before the
 *    first write; any failure rolls back to where the call started.
 *  - The audit author travels in the one-row table audit_actor, written at
 *    the start of a write transaction and deleted before its commit: other
 *    connections never see it, and the audit triggers read it.
 *  - A new file is created with open(O_EXCL, 0600) before SQLite sees it;
 *    SQLite creates the -wal and -shm files with the database file's mode,
 *    so no process-wide umask change is needed. An existing empty file is
 *    made 0600 too (or refused when another user owns it), and a symbolic
 *    link at the path, or at -wal or -shm, is followed only when this user
 *    or root owns it (docs/security.md, "Files and permissions").
 */
#include "store/internal.h"
#include "careclock/error.h"
#include "util/grow.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One cached statement: its SQL text (the key, by address) and the
 * statement once prepared. */
typedef struct {
    const char *sql;
    sqlite3_stmt *st;
} cached_t;

struct cc_store {
    sqlite3 *db;
    cached_t *cache;
    size_t ncache, capcache;
    char *actor;
    cc_date_t since; /* the day this connection's writes hold from (audit_actor.since); CC_DATE_NONE */
    int created, from_version, to_version;
    char *backup_path;  /* the copy taken before migrating, or NULL */
    int busy_ms;          /* the busy timeout: the reader thread's connection waits as long */
    int held_fd;          /* a descriptor kept open for the store's life (the sender's liveness mark), or -1 */
};

static const char ACTOR_SET_SQL[] = "INSERT OR REPLACE INTO audit_actor (id, actor, since) VALUES (1, ?1, ?2)";
static const char ACTOR_CLEAR_SQL[] = "DELETE FROM audit_actor";
static const char DATA_VERSION_SQL[] = "PRAGMA data_version";

/* ---- why a statement failed --------------------------------------------- */

/* SQLite's error message lives on the connection and is cleared by the next
 * statement, so by the time a failed transaction has been rolled back and
 * its statements reset, sqlite3_errmsg() says "not an error" and a log line
 * could not say the disk was full. So every failure is kept as it happens,
 * per thread, for cc_store_errmsg(): by keep_error() wherever the store
 * steps, prepares or executes (cc__store_step, cc__store_prepare,
 * cc__store_exec), which is where SQLITE_BUSY shows (SQLite's error log
 * does not report it: the CLI said "database error (not an error)" with
 * another writer holding the lock, issue 19); by SQLite's error log
 * (SQLITE_CONFIG_LOG) for the rest; and for the reader thread of a full
 * recompute, by cc__store_note_error() in the thread that consumes its
 * batches. The code decides whether careclockd retries at once (busy) or
 * backs off. */
static _Thread_local struct {
    int code;
    char why[256];
} last_error;

static void error_log(void *arg, int code, const char *message)
{
    (void)arg;
    int primary = code & 0xff;
    /* Notices, warnings and schema reloads are not failures. */
    if (primary == SQLITE_NOTICE || primary == SQLITE_WARNING || primary == SQLITE_SCHEMA || primary == SQLITE_OK)
        return;
    last_error.code = code;
    /* "statement aborts at N: [SQL] why" would show the SQL: keep the
     * reason only (keep_error() then sets the connection's own message). */
    if (message == NULL || strncmp(message, "statement aborts at", 19) == 0)
        message = sqlite3_errstr(code);
    snprintf(last_error.why, sizeof(last_error.why), "%s", message);
}

void cc__store_note_error(int code, const char *why)
{
    if (code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE)
        return;
    last_error.code = code;
    snprintf(last_error.why, sizeof(last_error.why), "%s", why != NULL && why[0] ? why : sqlite3_errstr(code));
}

/* Keep the connection's current error, if it has one, before a statement
 * (ROLLBACK) clears it. */
static void keep_error(sqlite3 *db)
{
    cc__store_note_error(sqlite3_extended_errcode(db), sqlite3_errmsg(db));
}

void cc__store_keep_error(sqlite3 *db)
{
    keep_error(db);
}

int cc__store_step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        keep_error(sqlite3_db_handle(st));
    return rc;
}

int cc__store_exec_db(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        keep_error(db);
    return rc;
}

static pthread_once_t error_log_once = PTHREAD_ONCE_INIT;

static void error_log_install(void)
{
    /* Only possible before SQLite initialises; if something initialised it
     * first, messages simply fall back to sqlite3_errmsg(). */
    sqlite3_config(SQLITE_CONFIG_LOG, error_log, NULL);
}

const char *cc_store_db_errmsg(sqlite3 *db, int *code)
{
    assert(db != NULL);
    int now = sqlite3_extended_errcode(db);
    if (now == SQLITE_OK && last_error.code != SQLITE_OK) {
        if (code != NULL)
            *code = last_error.code;
        return last_error.why;
    }
    if (code != NULL)
        *code = now;
    /* Never "not an error": a failure that left no trace at all. */
    return now == SQLITE_OK ? "SQLite gave no reason" : sqlite3_errmsg(db);
}

const char *cc_store_errmsg(cc_store_t *s, int *code)
{
    assert(s != NULL);
    return cc_store_db_errmsg(s->db, code);
}

int cc__store_db_err(sqlite3 *db, char *err, size_t errlen)
{
    cc_set_err(err, errlen, "database: %s", cc_store_db_errmsg(db, NULL));
    return CC_EDB;
}

int cc__store_db_fail(cc_store_t *s, char *err, size_t errlen)
{
    assert(s != NULL);
    return cc__store_db_err(s->db, err, errlen);
}

/* ---- statements --------------------------------------------------------- */

sqlite3_stmt *cc__store_stmt(cc_store_t *s, const char *sql)
{
    assert(s != NULL && sql != NULL);
    for (size_t i = 0; i < s->ncache; i++) {
        if (s->cache[i].sql == sql) {
            sqlite3_reset(s->cache[i].st);
            sqlite3_clear_bindings(s->cache[i].st);
            return s->cache[i].st;
        }
    }
    if (cc__grow(&s->cache, &s->capcache, s->ncache + 1, sizeof(*s->cache), 32) != 0)
        return NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    s->cache[s->ncache++] = (cached_t){sql, st};
    return st;
}

/* Finalize every cached statement and forget them. */
static void cache_free(cc_store_t *s)
{
    for (size_t i = 0; i < s->ncache; i++)
        sqlite3_finalize(s->cache[i].st);
    free(s->cache);
    s->cache = NULL;
    s->ncache = s->capcache = 0;
}

int cc__store_bind_text(sqlite3_stmt *st, int i, const char *text)
{
    return text ? sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

int cc__store_run(sqlite3_stmt *st)
{
    int rc = cc__store_step(st);
    while (rc == SQLITE_ROW)
        rc = cc__store_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : CC_EDB;
}

int cc__store_exists(cc_store_t *s, const char *sql, const char *key)
{
    sqlite3_stmt *st = cc__store_stmt(s, sql);
    if (st == NULL || cc__store_bind_text(st, 1, key) != SQLITE_OK)
        return CC_EDB;
    int rc = cc__store_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : CC_EDB;
}

sqlite3_stmt *cc__store_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        keep_error(db);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

const char *cc__store_col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

int cc__store_step_done(sqlite3_stmt *st)
{
    int rc = cc__store_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : CC_EDB;
}

cc_date_t cc__store_date(const char *text)
{
    cc_date_t d;
    return text != NULL && cc_date_parse(text, &d) == 0 ? d : CC_DATE_NONE;
}

int cc__store_exec(cc_store_t *s, const char *sql)
{
    return cc__store_exec_db(s->db, sql) == SQLITE_OK ? 0 : CC_EDB;
}

int cc__store_pragma_int(sqlite3 *db, const char *sql, int64_t *value)
{
    sqlite3_stmt *st = NULL;
    int rc = CC_EDB;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && cc__store_step(st) == SQLITE_ROW) {
        *value = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int cc__store_in_transaction(cc_store_t *s)
{
    return !sqlite3_get_autocommit(s->db);
}

void cc_store_free_ids(char **ids, size_t n)
{
    if (ids == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

int cc__store_collect_ids(sqlite3_stmt *st, char ***ids, size_t *n)
{
    char **list = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = cc__store_step(st)) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(st, 0);
        if (text == NULL)
            continue;
        if (cc__grow(&list, &cap, len + 1, sizeof(*list), 16) != 0 ||
            (list[len] = strdup((const char *)text)) == NULL)
            goto oom;
        len++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        cc_store_free_ids(list, len);
        return CC_EDB;
    }
    *ids = list;
    *n = len;
    return 0;
oom:
    sqlite3_reset(st);
    cc_store_free_ids(list, len);
    return CC_ENOMEM;
}

/* ---- checks and messages ------------------------------------------------ */

const char *cc__store_quote(const char *value, char *buf, size_t len)
{
    size_t o = 0;
    if (len < 8)
        return "";
    buf[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)value; p != NULL && *p != '\0'; p++) {
        if (o + 8 >= len) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (*p == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (*p == '\r') {
            buf[o++] = '\\';
            buf[o++] = 'r';
        } else if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", *p);
        } else if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p;
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

static int has_control(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

int cc__store_check_id(const char *field, const char *id, char *err, size_t errlen)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0) {
        cc_set_err(err, errlen, "%s is empty", field);
        return CC_EINVAL;
    }
    if (n > CC_STORE_ID_MAX || has_control(id) || id[0] == ' ' || id[n - 1] == ' ') {
        cc_set_err(err, errlen,
                "%s %s is not a valid id (at most %d characters, no control characters or surrounding spaces)",
                field, CC__Q(id), CC_STORE_ID_MAX);
        return CC_EINVAL;
    }
    return 0;
}

/* Free text (names, initials, notes): no control characters; required
 * text must not be empty; all but a note at most CC_NAME_MAX characters
 * (the bound feeds and messages hold other systems' names to). */
int cc__store_check_text(const char *field, const char *text, int required, char *err, size_t errlen)
{
    if (text == NULL || text[0] == '\0') {
        if (!required)
            return 0;
        cc_set_err(err, errlen, "%s is empty", field);
        return CC_EINVAL;
    }
    /* The text itself is not echoed: a name is a child's or a person's, and
     * the message reaches a terminal, a log or an import report. The
     * offending character and where it is are enough to find it. */
    size_t chars = 0, max = strcmp(field, "note") == 0 ? SIZE_MAX : CC_NAME_MAX;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if ((*p & 0xc0) != 0x80)
            chars++; /* UTF-8: count characters, not continuation bytes */
        if (*p < 0x20 || *p == 0x7f) {
            cc_set_err(err, errlen, "%s: character %zu is a control character (U+%04X%s); line breaks, tabs and "
                                    "other control characters are not allowed",
                       field, chars, (unsigned)*p,
                       *p == '\n' ? ", a line break" : *p == '\r' ? ", a carriage return" : *p == '\t' ? ", a tab" : "");
            return CC_EINVAL;
        }
    }
    if (chars > max) {
        cc_set_err(err, errlen, "%s is %zu characters long, more than the %d allowed", field, chars, CC_NAME_MAX);
        return CC_EINVAL;
    }
    return 0;
}

int cc__store_check_ref(cc_store_t *s, cc__store_exists_fn exists, const char *what, const char *id, char *err,
                        size_t errlen)
{
    int rc = cc__store_check_id(what, id, err, errlen);
    if (rc != 0)
        return rc;
    rc = exists(s, id);
    if (rc < 0)
        return cc__store_db_fail(s, err, errlen);
    if (rc == 0) {
        cc_set_err(err, errlen, "%s %s does not exist", what, CC__Q(id));
        return CC_ENOTFOUND;
    }
    return 0;
}

int cc__store_check_new_id(cc_store_t *s, cc__store_exists_fn exists, const char *what, const char *id, char *err,
                           size_t errlen)
{
    int rc = cc__store_check_id(what, id, err, errlen);
    if (rc != 0)
        return rc;
    rc = exists(s, id);
    if (rc < 0)
        return cc__store_db_fail(s, err, errlen);
    if (rc == 1) {
        cc_set_err(err, errlen, "%s %s already exists", what, CC__Q(id));
        return CC_EEXIST;
    }
    return 0;
}

/* ---- transactions ------------------------------------------------------ */

static int actor_set(cc_store_t *s)
{
    char since[CC_DATE_STRLEN];
    if (s->actor == NULL && s->since == CC_DATE_NONE)
        return 0;
    sqlite3_stmt *st = cc__store_stmt(s, ACTOR_SET_SQL);
    if (st == NULL || cc__store_bind_text(st, 1, s->actor) != SQLITE_OK ||
        cc__store_bind_text(st, 2, s->since == CC_DATE_NONE ? NULL : cc_date_format(s->since, since)) != SQLITE_OK)
        return CC_EDB;
    return cc__store_run(st);
}

static int actor_clear(cc_store_t *s)
{
    if (s->actor == NULL && s->since == CC_DATE_NONE)
        return 0;
    sqlite3_stmt *st = cc__store_stmt(s, ACTOR_CLEAR_SQL);
    return st ? cc__store_run(st) : CC_EDB;
}

int cc__store_write_begin(cc_store_t *s, int *own, char *err, size_t errlen)
{
    assert(s != NULL && own != NULL);
    *own = sqlite3_get_autocommit(s->db);
    if (cc__store_exec(s, *own ? "BEGIN IMMEDIATE" : "SAVEPOINT cc_write") != 0)
        return cc__store_db_fail(s, err, errlen);
    if (*own && actor_set(s) != 0) {
        int rc = cc__store_db_fail(s, err, errlen);
        cc__store_exec(s, "ROLLBACK");
        return rc;
    }
    return 0;
}

int cc__store_write_end(cc_store_t *s, int own, int rc, char *err, size_t errlen)
{
    if (rc == 0) {
        if (own && actor_clear(s) != 0)
            rc = cc__store_db_fail(s, err, errlen);
        else if (cc__store_exec(s, own ? "COMMIT" : "RELEASE cc_write") != 0)
            rc = cc__store_db_fail(s, err, errlen);
        else
            return 0;
    }
    if (own) {
        if (!sqlite3_get_autocommit(s->db))
            cc__store_exec(s, "ROLLBACK");
    } else {
        cc__store_exec(s, "ROLLBACK TO cc_write");
        cc__store_exec(s, "RELEASE cc_write");
    }
    return rc;
}

int cc_store_begin(cc_store_t *s)
{
    assert(s != NULL);
    last_error.code = SQLITE_OK; /* a new transaction: earlier failures are not its own */
    if (cc__store_exec(s, "BEGIN IMMEDIATE") != 0)
        return CC_EDB;
    if (actor_set(s) != 0) {
        cc__store_exec(s, "ROLLBACK");
        return CC_EDB;
    }
    return 0;
}

int cc_store_begin_read(cc_store_t *s)
{
    assert(s != NULL);
    if (cc__store_exec(s, "BEGIN DEFERRED") != 0)
        return CC_EDB;
    /* The snapshot begins with the first read: take it now. */
    int64_t v;
    if (cc__store_pragma_int(s->db, "SELECT count(*) FROM meta", &v) != 0) {
        cc__store_exec(s, "ROLLBACK");
        return CC_EDB;
    }
    return 0;
}

int cc_store_end_read(cc_store_t *s)
{
    assert(s != NULL);
    if (sqlite3_get_autocommit(s->db))
        return 0;
    return cc__store_exec(s, "COMMIT");
}

int cc_store_commit(cc_store_t *s)
{
    assert(s != NULL);
    if (actor_clear(s) != 0 || cc__store_exec(s, "COMMIT") != 0) {
        /* The ROLLBACK clears SQLite's message: keep why the commit failed
         * (a full disk fails here, when the WAL cannot grow). */
        keep_error(s->db);
        if (!sqlite3_get_autocommit(s->db))
            cc__store_exec(s, "ROLLBACK");
        return CC_EDB;
    }
    return 0;
}

int cc_store_rollback(cc_store_t *s)
{
    assert(s != NULL);
    if (sqlite3_get_autocommit(s->db))
        return 0;
    keep_error(s->db);
    return cc__store_exec(s, "ROLLBACK");
}

int cc_store_set_actor(cc_store_t *s, const char *actor)
{
    assert(s != NULL);
    char *copy = NULL;
    if (actor != NULL && (copy = strdup(actor)) == NULL)
        return CC_ENOMEM;
    free(s->actor);
    s->actor = copy;
    return 0;
}

void cc_store_set_since(cc_store_t *s, cc_date_t day)
{
    assert(s != NULL);
    s->since = day;
}

/* ---- open, close ------------------------------------------------------- */

/* The database and its -wal and -shm files may be symbolic links only if
 * this user or root owns the link: a link another user planted (in a
 * directory both can write) would make careclock write the plan somewhere
 * that user chose. Returns 0, or CC_EIO with err set. */
static int check_links(const char *path, char *err, size_t errlen)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char name[4200];
    struct stat st;
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(name, sizeof(name), "%s%s", path, suffixes[i]);
        if (lstat(name, &st) != 0 || !S_ISLNK(st.st_mode) || st.st_uid == geteuid() || st.st_uid == 0)
            continue;
        cc_set_err(err, errlen,
                   "%s is a symbolic link owned by uid %lu, not by this user (uid %lu) or root: careclock does not "
                   "follow it; replace it with the database file or a link of this user's",
                   name, (unsigned long)st.st_uid, (unsigned long)geteuid());
        return CC_EIO;
    }
    return 0;
}

/* An existing empty file at path becomes a new database: made 0600 like a
 * file careclock creates (a `touch` or a redirection left it 0644), or
 * refused when another user owns it (they could read it, or widen its mode
 * again). *created is set. Returns 0, or CC_EIO with err set. */
static int adopt_empty(const char *path, const struct stat *sb, int *created, char *err, size_t errlen)
{
    if (!S_ISREG(sb->st_mode) || sb->st_size != 0)
        return 0;
    if (sb->st_uid != geteuid()) {
        cc_set_err(err, errlen,
                   "%s is an empty file owned by uid %lu, not by this user (uid %lu): careclock does not make a "
                   "database in a file another user owns; remove it, or run as its owner",
                   path, (unsigned long)sb->st_uid, (unsigned long)geteuid());
        return CC_EIO;
    }
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        cc_set_err(err, errlen, "cannot make %s private (mode 0600): %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return CC_EIO;
    }
    close(fd);
    *created = 1;
    return 0;
}

static int store_open(const char *path, int create, cc_store_t **out, char *err, size_t errlen)
{
    cc_store_t *s = NULL;
    int rc = CC_EDB, memory = strcmp(path, ":memory:") == 0;
    int created = 0;
    struct stat sb;
    *out = NULL;

    if (!memory) {
        if ((rc = check_links(path, err, errlen)) != 0 ||
            (stat(path, &sb) == 0 && (rc = adopt_empty(path, &sb, &created, err, errlen)) != 0))
            return rc;
        rc = CC_EDB;
    }
    if (!memory && stat(path, &sb) != 0) {
        if (errno != ENOENT) {
            cc_set_err(err, errlen, "%s: %s", path, strerror(errno));
            return CC_EIO;
        }
        if (!create) {
            cc_set_err(err, errlen, "database \"%s\" does not exist", path);
            return CC_ENOTFOUND;
        }
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            created = 1;
            close(fd);
        } else if (errno != EEXIST) {
            cc_set_err(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return CC_EIO;
        }
    }
    if ((s = calloc(1, sizeof(*s))) != NULL)
        s->since = CC_DATE_NONE;
    if (s == NULL) {
        cc_set_err(err, errlen, "out of memory");
        return CC_ENOMEM;
    }
    s->created = created;
    s->held_fd = -1;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (memory ? SQLITE_OPEN_CREATE : 0);
    pthread_once(&error_log_once, error_log_install);
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        cc_set_err(err, errlen, "%s: %s", path, s->db ? cc_store_errmsg(s, NULL) : "cannot open");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    s->busy_ms = 5000;
    if (cc__store_exec(s, "PRAGMA busy_timeout = 5000") != 0 || cc__store_exec(s, "PRAGMA foreign_keys = ON") != 0) {
        cc_set_err(err, errlen, "%s: %s", path, cc_store_errmsg(s, NULL));
        goto fail;
    }
    if ((rc = cc__schema_check(s, path, &s->from_version, err, errlen)) != 0)
        goto fail;
    rc = CC_EDB;
    if (!memory) {
        sqlite3_stmt *st = NULL;
        const unsigned char *mode = NULL;
        if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK &&
            cc__store_step(st) == SQLITE_ROW)
            mode = sqlite3_column_text(st, 0);
        int wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
        sqlite3_finalize(st);
        if (!wal) {
            cc_set_err(err, errlen, "%s: cannot switch to WAL journal mode: %s", path, cc_store_errmsg(s, NULL));
            goto fail;
        }
    }
    /* After a large transaction (the first computation of a council's
     * clocks writes its whole clocks table through the WAL) the WAL file is
     * cut back to this size once checkpointed, instead of keeping its
     * largest size on disk for good. */
    if (cc__store_exec(s, "PRAGMA synchronous = NORMAL") != 0 ||
        cc__store_exec(s, "PRAGMA journal_size_limit = 67108864") != 0) {
        cc_set_err(err, errlen, "%s: %s", path, cc_store_errmsg(s, NULL));
        goto fail;
    }
    if (!memory && s->from_version > 0 && s->from_version < CC_STORE_SCHEMA_VERSION &&
        (rc = cc__schema_backup(s, path, s->from_version, &s->backup_path, err, errlen)) != 0)
        goto fail;
    if ((rc = cc__schema_migrate(s, path, s->from_version, &s->to_version, err, errlen)) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    cc_store_close(s);
    return rc;
}

int cc_store_open(const char *path, cc_store_t **out, char *err, size_t errlen)
{
    assert(path != NULL && out != NULL);
    return store_open(path, 1, out, err, errlen);
}

int cc_store_open_existing(const char *path, cc_store_t **out, char *err, size_t errlen)
{
    assert(path != NULL && out != NULL);
    return store_open(path, 0, out, err, errlen);
}

void cc_store_open_info(const cc_store_t *s, int *created, int *from_version, int *to_version)
{
    assert(s != NULL);
    if (created)
        *created = s->created;
    if (from_version)
        *from_version = s->from_version;
    if (to_version)
        *to_version = s->to_version;
}

void cc_store_close(cc_store_t *s)
{
    if (s == NULL)
        return;
    cache_free(s);
    if (s->held_fd >= 0)
        close(s->held_fd);
    sqlite3_close_v2(s->db); /* a statement another module leaked delays, not blocks, the close */
    free(s->actor);
    free(s->backup_path);
    free(s);
}

const char *cc_store_backup_path(const cc_store_t *s)
{
    assert(s != NULL);
    return s->backup_path;
}

sqlite3 *cc_store_db(cc_store_t *s)
{
    assert(s != NULL);
    return s->db;
}

void cc__store_hold_fd(cc_store_t *s, int fd)
{
    if (s->held_fd >= 0)
        close(s->held_fd);
    s->held_fd = fd;
}

int cc__store_busy_ms(const cc_store_t *s)
{
    return s->busy_ms;
}

int cc_store_set_busy_timeout(cc_store_t *s, int ms)
{
    assert(s != NULL && ms >= 0);
    s->busy_ms = ms;
    return sqlite3_busy_timeout(s->db, ms) == SQLITE_OK ? 0 : CC_EDB;
}

int cc_store_data_version(cc_store_t *s, int64_t *version)
{
    assert(s != NULL && version != NULL);
    sqlite3_stmt *st = cc__store_stmt(s, DATA_VERSION_SQL);
    if (st == NULL)
        return CC_EDB;
    int step = cc__store_step(st);
    if (step == SQLITE_ROW)
        *version = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 0 : CC_EDB;
}
