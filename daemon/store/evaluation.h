/* The evaluation's shared internals: evaluate.c (the evaluation context,
 * the write-back, one child at a time, the change queue, refresh),
 * reader.c (the batches of children read from the database, and the
 * reader thread that fills them for a full recompute) and first.c (a full
 * recompute, streamed, and the first computation into an empty clocks
 * table). Internal to daemon/store/; the public side is evaluate.h.
 */
#ifndef CARECLOCK_STORE_EVALUATION_H
#define CARECLOCK_STORE_EVALUATION_H

#include "careclock/decisions.h"
#include "careclock/evaluate.h"
#include "store/internal.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ---- batches of loaded children (reader.c) ---- */

#define TYPE_SLOTS 256
#define TYPE_NAME_MAX 48

typedef struct {
    char name[TYPE_NAME_MAX];
    size_t len;
    int index;
    int used;
} cc__type_slot_t;

/* Event types by name, remembered: a council's events repeat a handful of
 * types. Owned by one thread. */
typedef struct {
    const cc_ruleset_t *rs;
    cc__type_slot_t slot[TYPE_SLOTS];
} cc__types_t;

/* Strings of one loaded event, as offsets into the batch's string block
 * (which may move while the batch fills). */
typedef struct {
    size_t type, date, attrs;
} cc__ev_offsets_t;

typedef struct {
    size_t id, dob;       /* offsets of the child's id and date of birth text */
    size_t first, n;      /* its events: events[first .. first + n) */
} cc__kid_t;

/* Children and their events as read from the database: the strings in one
 * block, the events in one array. Once the batch is full, cc__batch_decode()
 * reads the events' types and dates and points them at their strings. */
typedef struct {
    char *strings;
    size_t used, capstrings;
    cc__kid_t *kids;
    size_t nkids, capkids;
    cc_event_t *events;
    cc__ev_offsets_t *offs;
    size_t nevents, capevents;
    int last;             /* no children come after this batch */
} cc__batch_t;

void cc__batch_free(cc__batch_t *b);
void cc__batch_reset(cc__batch_t *b);

/* A new child from st's columns id_col (id) and id_col + 1 (dob). 0 or
 * CC_ENOMEM. */
int cc__batch_add_child(cc__batch_t *b, sqlite3_stmt *st, int id_col);

/* An event of the last child added, from st's columns first..first+3: id,
 * type, date, attributes, as text (cc__batch_decode() reads them). 0 or
 * CC_ENOMEM. */
int cc__batch_add_event(cc__batch_t *b, sqlite3_stmt *st, int first);

/* The engine's view of the (now settled) events: type and date read, the
 * text pointed at. Done by the thread that evaluates, so that the reader
 * thread, the slower of the two, only reads. */
void cc__batch_decode(cc__batch_t *b, cc__types_t *types);

/* The engine's view of the batch's k-th child. */
void cc__batch_child(const cc__batch_t *b, size_t k, cc_child_t *child);

/* ---- every child, streamed (reader.c) ---- */

/* A full recompute reads every child and every event in two ordered reads
 * (children by id; events by child through the covering events_by_child
 * index), merged in C into batches of children. When the database is a
 * file and the recompute runs in its own transaction, a reader thread does
 * that on its own read-only connection while this thread runs the engine
 * and writes: the two halves take about the same time, and the machine has
 * more than one core. The reader's snapshot is the writer's: this thread
 * holds the write lock (BEGIN IMMEDIATE) before the reader starts, so no
 * commit can come between, and the writer never writes children or events.
 * In the caller's transaction (which may hold uncommitted events), in a
 * first computation that commits as it goes (first.c) or on an in-memory
 * database, the same code reads on the caller's connection, in turn with
 * the engine. */

#define BATCH_CHILDREN 256
#define NBATCHES 4

typedef struct {
    sqlite3 *db;          /* the connection read from */
    int own_db;           /* db was opened here (and is closed here) */
    sqlite3_stmt *children, *events;
    int ev_step;
    cc__batch_t batch[NBATCHES];
    int threaded;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int full[NBATCHES];   /* filled, not yet consumed */
    int rc[NBATCHES];     /* the fill's result */
    size_t produced, consumed;
    int stop;             /* the consumer gave up: the reader stops */
    int err_code;         /* the reader thread's failure, as its connection gave it ... */
    char err_why[256];    /* ... noted for the consumer's thread by cc__reader_next */
} cc__reader_t;

/* strcmp of column col's text (NULL as "") with id: the merge of two
 * reads ordered by child id. */
int cc__compare_id(sqlite3_stmt *st, int col, const char *id);

/* Open the reads (children by id, events by child) on db; on a read-only
 * connection of its own and in a thread of its own when may_thread and the
 * database is a file. The caller holds the write lock (its snapshot is
 * then the writer's). 0 or CC_EDB (nothing to close). */
int cc__reader_open(cc__reader_t *r, sqlite3 *db, int may_thread, int busy_ms);

/* The next batch, in order, into *out (0, or the fill's CC_EDB or
 * CC_ENOMEM); hand it back with cc__reader_release. */
int cc__reader_next(cc__reader_t *r, cc__batch_t **out);
void cc__reader_release(cc__reader_t *r);

/* End the reads of a reader without a thread (so that its connection can
 * commit); cc__reader_start(r, the last child read) goes on from there. */
void cc__reader_pause(cc__reader_t *r);
int cc__reader_start(cc__reader_t *r, const char *after);

/* Stop the thread, close what cc__reader_open opened. */
void cc__reader_close(cc__reader_t *r);

/* ---- the evaluation context (evaluate.c) ---- */

struct row; /* a clock instance as a row of the table (evaluate.c) */

/* A row of the clocks table from before schema 8 (its instance is the
 * provisional "#SEQ" migration 8 gave it), noted by the write-back to be
 * mapped to the instance it is now (evaluate.c, rekey_provisional). */
typedef struct {
    char rule_id[64];
    char instance[24];
    cc_date_t start;      /* start_day, CC_DATE_NONE for NULL */
    int seq;
    int64_t start_event;  /* 0 for NULL */
    int done;             /* mapped */
} cc__provisional_t;

/* The meta note migration 8 leaves: the clocks table holds provisional
 * instances. The full recompute it forces commits as it goes, and deletes
 * the note in its last transaction (first.c). */
#define CC__INSTANCES_OWED "instances_owed"

/* Digest 0 in clock_digests means "unknown": compare the rows. */
#define DIGEST_UNKNOWN 0

/* A child's row of clock_digests: the digest of its clock rows as last
 * written, and the days they hold for with nothing recorded, [from,
 * until) (the engine's next_change; CC_DATE_NONE: unknown). */
typedef struct {
    uint64_t digest;
    cc_date_t from, until;
} cc__stored_t;

#define CC__STORED_UNKNOWN ((cc__stored_t){DIGEST_UNKNOWN, CC_DATE_NONE, CC_DATE_NONE})

/* The digest, from and until of st's columns col, col + 1, col + 2. */
void cc__stored_read(sqlite3_stmt *st, int col, cc__stored_t *out);

/* 1 when the stored rows are known and hold today: a child whose data did
 * not change need not be evaluated. */
int cc__stored_holds(const cc__stored_t *st, cc_date_t today);

typedef struct {
    cc_store_t *store;
    sqlite3 *db;
    const cc_ruleset_t *rs;
    const cc_calendar_t *cal;
    cc_date_t today;
    const char *now_utc;
    cc_eval_stats_t *stats;
    int bulk;             /* the clocks table was empty: insert without looking */
    size_t commit_rows;   /* commit after about this many rows written (0: one transaction) */
    int64_t data_version; /* PRAGMA data_version in our last transaction */
    /* statements, prepared once per call */
    sqlite3_stmt *existing, *upsert, *insert, *remove, *remove_child;
    sqlite3_stmt *child_get, *events_get, *digest_get, *digest_set, *digest_del;
    sqlite3_stmt *rekey;  /* deliveries of a provisional instance to the instance it is now */
    cc__provisional_t *prov; /* the current child's provisional rows (write_child) */
    size_t nprov, capprov;
    /* one child loaded by id (the change queue's children) */
    cc__batch_t one;
    cc__types_t types;
    /* engine output and its rows, reused from child to child */
    cc_clocks_t clocks;
    struct row *rows;
    size_t caprows;
    /* per rule (index + 1; 0 is the data_error row): hash of id, title, source */
    uint64_t *rule_hash;
    /* decisions (decisions.h): whether the database holds any (else no child is looked up), and the current
     * child's */
    int any_decisions;
    cc_decisions_t decisions;
    /* per rule (index + 1; 0 is the data_error row): its clock_rules.code (cc__eval_rules_sync) */
    int64_t *rule_code;
    int64_t now_seconds;  /* now_utc as Unix seconds: clock_rows.updated */
} cc__eval_t;

/* A context for one evaluation call: its statements prepared on the
 * store's connection, the rule hashes made. 0, CC_EDB or CC_ENOMEM (x
 * freed). */
int cc__eval_init(cc__eval_t *x, cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal,
                  cc_date_t today, const char *now_utc, cc_eval_stats_t *stats);
void cc__eval_free(cc__eval_t *x);

/* Evaluate the batch's k-th child and bring its rows up to date. stored is
 * the digest of its rows as written last time (DIGEST_UNKNOWN: compare
 * them). In the caller's transaction. */
int cc__eval_loaded(cc__eval_t *x, const cc__batch_t *b, size_t k, const cc__stored_t *stored);

/* Number every rule of the rule set (and the data error's) in
 * clock_rules, adding the rules not there yet (in order of id) and
 * bringing a changed title or source up to date (the rule's rows then
 * count as changed now); x->rule_code then holds the numbers. In the
 * evaluation's transaction, before any row is written. 0, CC_EDB or
 * CC_ENOMEM. */
int cc__eval_rules_sync(cc__eval_t *x);

/* Evaluate the children named in ids, one by one (a child that no longer
 * exists: its clocks go), in the caller's transaction. */
int cc__eval_list(cc__eval_t *x, char *const *ids, size_t n);

/* A child that no longer exists: its clocks and digest go. */
int cc__eval_forget(cc__eval_t *x, const char *child_id);

/* Evaluate every child in the change queue and acknowledge it, in the
 * current transaction. */
int cc__eval_drain(cc__eval_t *x);

/* Run inside a transaction: the caller's if one is open (*own = 0), else
 * one of our own (*own = 1), which cc__eval_end commits when rc is 0
 * and rolls back otherwise. */
int cc__eval_begin(cc_store_t *store, int *own);
int cc__eval_end(cc_store_t *store, int own, int rc);

/* ---- the first computation (first.c) ---- */

/* 1 when an index of clocks is owed (a first computation was cut short),
 * 0 when none is, or CC_EDB. */
int cc__eval_indexes_owed(sqlite3 *db);

#endif
