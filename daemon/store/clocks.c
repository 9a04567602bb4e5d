/* The clocks table: every read of it. See include/careclock/clocks.h.
 *
 * Design notes:
 *  - The evaluation (evaluate.c, first.c) is the only writer of clocks and
 *    keeps its own write-back statements; every other statement that names
 *    the table is here, including those the outbox steps itself (the
 *    planner's, the claim's item, the prune: cc__clocks_sql(), each with
 *    its parameters and columns stated above it).
 *  - Each statement is written for an index: the reason is next to it. The
 *    unit tests check the plans SQLite makes of the listing and of the
 *    planner's statements (EXPLAIN QUERY PLAN).
 *  - Rows are streamed to the caller's function, never gathered here.
 */
#include "careclock/clocks.h"
#include "careclock/buf.h"
#include "careclock/error.h"
#include "careclock/people.h"
#include "store/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the stored form --------------------------------------------------- */

/* The stored codes (migration 10): the listing's order of urgency. */
static const int STATUS_CODE[CC_STATUS_COUNT] = {
    [CC_STATUS_OVERDUE] = 0,  [CC_STATUS_DATA_ERROR] = 1, [CC_STATUS_AT_RISK] = 2,
    [CC_STATUS_DUE_SOON] = 3, [CC_STATUS_OPEN] = 4,       [CC_STATUS_MET_LATE] = 5,
    [CC_STATUS_MET] = 6,      [CC_STATUS_CANCELLED] = 7,  [CC_STATUS_EXCEPTED] = 8,
};
static const cc_status_t CODE_STATUS[] = {CC_STATUS_OVERDUE,  CC_STATUS_DATA_ERROR, CC_STATUS_AT_RISK,
                                          CC_STATUS_DUE_SOON, CC_STATUS_OPEN,       CC_STATUS_MET_LATE,
                                          CC_STATUS_MET,      CC_STATUS_CANCELLED,  CC_STATUS_EXCEPTED};

_Static_assert(CC_STATUS_COUNT == 9 && sizeof(CODE_STATUS) / sizeof(CODE_STATUS[0]) == CC_STATUS_COUNT,
               "a new status needs a stored code here, in CC__STATUS_NAME_SQL and in the clocks view (a migration)");

int cc__status_code(cc_status_t status)
{
    assert((unsigned)status < CC_STATUS_COUNT);
    return STATUS_CODE[status];
}

int cc__status_of_code(int64_t code)
{
    return code >= 0 && code < CC_STATUS_COUNT ? (int)CODE_STATUS[code] : -1;
}

void cc__day_text(cc_date_t day, char out[CC_DATE_STRLEN])
{
    int y, m, d;
    cc_date_to_ymd(day, &y, &m, &d);
    unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u, ud = (unsigned)d % 100u;
    out[0] = (char)('0' + uy / 1000);
    out[1] = (char)('0' + uy / 100 % 10);
    out[2] = (char)('0' + uy / 10 % 10);
    out[3] = (char)('0' + uy % 10);
    out[4] = '-';
    out[5] = (char)('0' + um / 10);
    out[6] = (char)('0' + um % 10);
    out[7] = '-';
    out[8] = (char)('0' + ud / 10);
    out[9] = (char)('0' + ud % 10);
    out[10] = '\0';
}

cc_date_t cc__col_day(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? CC_DATE_NONE : (cc_date_t)sqlite3_column_int64(st, col);
}

void cc__bind_day(sqlite3_stmt *st, int i, cc_date_t day)
{
    if (day == CC_DATE_NONE)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, day);
}

/* ---- streaming ---------------------------------------------------------- */

/* Column col as text: NULL for NULL (text), or "" (text_or_empty). */
static const char *text(sqlite3_stmt *st, int col)
{
    return cc__store_col(st, col);
}

static const char *text_or_empty(sqlite3_stmt *st, int col)
{
    const char *t = text(st, col);
    return t ? t : "";
}

/* Step st to its end, calling row(st, ctx) for each row until it returns
 * nonzero; then finalize st (NULL: it did not prepare). 0, CC_EDB or row's
 * value. */
static int stream(sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ctx), void *ctx)
{
    int step = SQLITE_ERROR, rc = 0;
    if (st == NULL)
        return CC_EDB;
    while ((step = cc__store_step(st)) == SQLITE_ROW)
        if ((rc = row(st, ctx)) != 0)
            break;
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    return rc;
}

static sqlite3_stmt *prepare(cc_store_t *s, const char *sql)
{
    return cc__store_prepare(cc_store_db(s), sql);
}

/* The caller's function and argument, for the row adapters below. */
typedef struct {
    cc_clock_row_fn fn;
    void *arg;
} clock_sink_t;

/* ---- the listing -------------------------------------------------------- */

/* The listing reads clock_rows alone, in one statement, and names each row
 * from two maps read first: the rules (clock_rules, a few dozen rows) and
 * the children it lists (id to worker, team, initials, IRO). Joined in SQL,
 * each row cost two lookups in children (its text key, then the row) and
 * one in clock_rules: a third of the time of a council's listing.
 *
 * The statement is built from fixed fragments: the WHERE clause holds the
 * condition of each filter given, and only those, each with its own
 * parameter number (values are always bound, never written into the SQL).
 * One statement for every case, "(?1 IS NULL OR c.child_id = ?1) AND ...",
 * could use no index: every listing read all the clocks of the council, 18 s
 * a pass for --child at 100,000 children. Now --child reads the child's
 * clocks through the primary key, --team, --worker and --iro pick their
 * children through children_by_team, children_by_worker and
 * children_by_iro and read each one's clocks by primary key, and no filter
 * or --status alone reads clocks_by_status: stored status codes are in the
 * listing's order of urgency, so that index, whose entries end with the
 * primary key, is the listing's order (overdue, data errors, at risk, due
 * soon, open, met late, met, cancelled, excepted; then due date, child,
 * rule, seq)
 * and nothing is sorted. */
#define STATUS_PARAM 4 /* statuses bind ?4, ?5, ... */

enum { F_CHILD, F_TEAM, F_WORKER, F_STATUS, F_IRO, NFILTERS };

#define IRO_PARAM 13
#define NAMES_PARAM 14

static const char LIST_SELECT[] =
    "SELECT c.child_id, c.rule, c.seq, c.title, c.start_day, c.due_day, c.status, c.met_day, c.source, c.reason, "
    "c.instance, c.left_care_day, c.agreed_day FROM clock_rows c";
static const char *const LIST_WHERE[] = {
    [F_CHILD] = "c.child_id = ?1",
    [F_TEAM] = "c.child_id IN (SELECT id FROM children WHERE team_id = ?2)",
    [F_WORKER] = "c.child_id IN (SELECT id FROM children WHERE worker_id = ?3)",
    [F_STATUS] = "c.status IN (?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [F_IRO] = "c.child_id IN (SELECT id FROM children WHERE iro_id = ?13)",
};
#define LIST_MMAP_BYTES "17179869184" /* 16 GiB: address space, not memory */
static const char LIST_ORDER[] = " ORDER BY c.status, c.due_day, c.child_id, c.rule, c.seq";

/* The children the listing names, with the same filters but the status
 * (?14: with full names). */
static const char *const KIDS_WHERE[] = {
    [F_CHILD] = "id = ?1", [F_TEAM] = "team_id = ?2", [F_WORKER] = "worker_id = ?3", [F_STATUS] = NULL,
    [F_IRO] = "iro_id = ?13",
};

_Static_assert(sizeof(LIST_WHERE) / sizeof(LIST_WHERE[0]) == NFILTERS, "one fragment per filter");
_Static_assert(CC_CLOCKS_STATUS_FILTER_MAX == 9, "LIST_WHERE[F_STATUS] has one parameter per status, ?4 to ?12");
_Static_assert(STATUS_PARAM + CC_CLOCKS_STATUS_FILTER_MAX == IRO_PARAM, "the IRO's parameter follows the statuses");

/* A child as the listing names it. Strings in the map's arena. */
typedef struct {
    size_t id, worker, team, initials, full_name, iro; /* offsets + 1 into the arena; 0 for NULL */
} kid_t;

typedef struct {
    kid_t *slots;   /* open addressing, by the id's hash */
    size_t cap, n;
    cc_buf_t arena;
    /* rules by code */
    const char **rule_id, **title, **source;
    size_t nrules;
    cc_buf_t rules_arena;
} names_t;

static uint64_t hash_id(const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

static const char *at(const cc_buf_t *arena, size_t off)
{
    return off ? cc_buf_str(arena) + off - 1 : NULL;
}

static size_t put_str(cc_buf_t *arena, const char *text)
{
    if (text == NULL)
        return 0;
    size_t off = arena->len + 1;
    cc_buf_append(arena, text, strlen(text) + 1);
    return off;
}

static void names_free(names_t *m)
{
    free(m->slots);
    cc_buf_free(&m->arena);
    free(m->rule_id);
    free(m->title);
    free(m->source);
    cc_buf_free(&m->rules_arena);
    memset(m, 0, sizeof(*m));
}

static const kid_t *kid_find(const names_t *m, const char *id)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = hash_id(id) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const kid_t *k = &m->slots[i];
        if (k->id == 0)
            return NULL;
        if (strcmp(at(&m->arena, k->id), id) == 0)
            return k;
    }
}

/* The children of st (id, worker_id, team_id, initials, full_name, iro_id). */
static int kids_load(names_t *m, sqlite3_stmt *st)
{
    int step;
    size_t cap = 64;
    m->cap = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = text(st, 0);
        if (id == NULL)
            continue;
        if ((m->n + 1) * 2 > m->cap) {
            /* grow and rehash */
            while (cap < (m->n + 1) * 2)
                cap *= 2;
            kid_t *slots = calloc(cap, sizeof(*slots));
            if (slots == NULL)
                return CC_ENOMEM;
            for (size_t i = 0; i < m->cap; i++)
                if (m->slots[i].id != 0) {
                    size_t j = hash_id(at(&m->arena, m->slots[i].id)) & (cap - 1);
                    while (slots[j].id != 0)
                        j = (j + 1) & (cap - 1);
                    slots[j] = m->slots[i];
                }
            free(m->slots);
            m->slots = slots;
            m->cap = cap;
        }
        kid_t k = {put_str(&m->arena, id), put_str(&m->arena, text(st, 1)), put_str(&m->arena, text(st, 2)),
                   put_str(&m->arena, text(st, 3)), put_str(&m->arena, text(st, 4)), put_str(&m->arena, text(st, 5))};
        if (m->arena.failed)
            return CC_ENOMEM;
        size_t j = hash_id(id) & (m->cap - 1);
        while (m->slots[j].id != 0 && strcmp(at(&m->arena, m->slots[j].id), id) != 0)
            j = (j + 1) & (m->cap - 1);
        if (m->slots[j].id == 0)
            m->n++;
        m->slots[j] = k;
    }
    return step == SQLITE_DONE ? 0 : CC_EDB;
}

/* Every rule's id, title and source by its code. */
static int rules_load(names_t *m, sqlite3 *db)
{
    sqlite3_stmt *st = cc__store_prepare(db, "SELECT code, rule_id, title, source FROM clock_rules ORDER BY code");
    size_t *offs = NULL, noffs = 0;
    int step = SQLITE_ERROR, rc = 0;
    if (st == NULL)
        return CC_EDB;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t code = sqlite3_column_int64(st, 0);
        if (code < 0 || code > 1000000)
            continue; /* not careclock's: such a row names no clock */
        if ((size_t)code >= noffs) {
            size_t n = (size_t)code + 1;
            size_t *grown = realloc(offs, n * 3 * sizeof(*offs));
            if (grown == NULL) {
                rc = CC_ENOMEM;
                break;
            }
            memset(grown + noffs * 3, 0, (n - noffs) * 3 * sizeof(*offs));
            offs = grown;
            noffs = n;
        }
        offs[code * 3] = put_str(&m->rules_arena, text(st, 1));
        offs[code * 3 + 1] = put_str(&m->rules_arena, text(st, 2));
        offs[code * 3 + 2] = put_str(&m->rules_arena, text(st, 3));
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    if (rc == 0 && m->rules_arena.failed)
        rc = CC_ENOMEM;
    if (rc == 0 && noffs > 0) {
        m->rule_id = calloc(noffs, sizeof(char *));
        m->title = calloc(noffs, sizeof(char *));
        m->source = calloc(noffs, sizeof(char *));
        if (m->rule_id == NULL || m->title == NULL || m->source == NULL)
            rc = CC_ENOMEM;
        for (size_t i = 0; rc == 0 && i < noffs; i++) {
            m->rule_id[i] = at(&m->rules_arena, offs[i * 3]);
            m->title[i] = at(&m->rules_arena, offs[i * 3 + 1]);
            m->source[i] = at(&m->rules_arena, offs[i * 3 + 2]);
        }
        m->nrules = noffs;
    }
    free(offs);
    return rc;
}

static void bind_filters(sqlite3_stmt *st, const cc_clocks_filter_t *f)
{
    /* Each parameter is bound only when its fragment is in the statement. */
    if (f->child_id)
        sqlite3_bind_text(st, 1, f->child_id, -1, SQLITE_STATIC);
    if (f->team_id)
        sqlite3_bind_text(st, 2, f->team_id, -1, SQLITE_STATIC);
    if (f->worker_id)
        sqlite3_bind_text(st, 3, f->worker_id, -1, SQLITE_STATIC);
    if (f->iro_id)
        sqlite3_bind_text(st, IRO_PARAM, f->iro_id, -1, SQLITE_STATIC);
}

int cc_clocks_list_sql(const cc_clocks_filter_t *f, cc_buf_t *sql)
{
    assert(f != NULL && sql != NULL && f->nstatuses <= CC_CLOCKS_STATUS_FILTER_MAX);
    const int given[NFILTERS] = {f->child_id != NULL, f->team_id != NULL, f->worker_id != NULL, f->nstatuses > 0,
                                 f->iro_id != NULL};
    int rc = cc_buf_puts(sql, LIST_SELECT), nwhere = 0;
    for (int i = 0; rc == 0 && i < NFILTERS; i++)
        if (given[i] && (rc = cc_buf_puts(sql, nwhere++ == 0 ? " WHERE " : " AND ")) == 0)
            rc = cc_buf_puts(sql, LIST_WHERE[i]);
    return rc == 0 ? cc_buf_puts(sql, LIST_ORDER) : rc;
}

/* Each day's text once: the listing's rows come in due-day order, so their
 * days repeat (a direct-mapped cache by day number; turning days into
 * dates was 5% of a council's listing). One cache per column
 * (DAY_COLUMNS), so that a row's four days never share a slot: the text
 * of one stays as it is until the row has been handed on. */
#define DAY_CACHE 2048 /* a power of two */
#define DAY_COLUMNS 5  /* start, due, met, left care, agreed */
typedef struct {
    cc_date_t day;
    char text[CC_DATE_STRLEN];
} day_text_t;

static day_text_t *days_new(void)
{
    day_text_t *days = malloc(DAY_COLUMNS * DAY_CACHE * sizeof(*days));
    for (size_t i = 0; days != NULL && i < DAY_COLUMNS * DAY_CACHE; i++)
        days[i].day = CC_DATE_NONE;
    return days;
}

static const char *day_text(day_text_t *days, int column, cc_date_t day)
{
    assert(day != CC_DATE_NONE && column >= 0 && column < DAY_COLUMNS);
    day_text_t *slot = &days[(size_t)column * DAY_CACHE + ((uint32_t)day & (DAY_CACHE - 1))];
    if (slot->day != day) {
        slot->day = day;
        cc__day_text(day, slot->text);
    }
    return slot->text;
}

int cc_clocks_list(cc_store_t *s, const cc_clocks_filter_t *f, cc_clock_row_fn fn, void *arg)
{
    day_text_t *days = NULL;
    assert(s != NULL && f != NULL && fn != NULL);
    names_t m;
    cc_buf_t sql;
    sqlite3_stmt *kids = NULL, *st = NULL;
    int rc, nwhere = 0, step = SQLITE_DONE;
    int64_t mmap_was = -1;
    memset(&m, 0, sizeof(m));
    cc_buf_init(&m.arena);
    cc_buf_init(&m.rules_arena);
    cc_buf_init(&sql);
    const int given[NFILTERS] = {f->child_id != NULL, f->team_id != NULL, f->worker_id != NULL, f->nstatuses > 0,
                                 f->iro_id != NULL};
    rc = cc_buf_puts(&sql, "SELECT id, worker_id, team_id, initials, CASE WHEN ?14 THEN full_name END, iro_id "
                           "FROM children");
    for (int i = 0; rc == 0 && i < NFILTERS; i++)
        if (given[i] && KIDS_WHERE[i] != NULL && (rc = cc_buf_puts(&sql, nwhere++ == 0 ? " WHERE " : " AND ")) == 0)
            rc = cc_buf_puts(&sql, KIDS_WHERE[i]);
    if (rc == 0 && (kids = prepare(s, cc_buf_str(&sql))) == NULL)
        rc = CC_EDB;
    if (rc == 0) {
        bind_filters(kids, f);
        sqlite3_bind_int(kids, NAMES_PARAM, f->with_names != 0);
        rc = kids_load(&m, kids);
    }
    if (rc == 0)
        rc = rules_load(&m, cc_store_db(s));
    cc_buf_reset(&sql);
    if (rc == 0)
        rc = cc_clocks_list_sql(f, &sql);
    if (rc == 0 && (st = prepare(s, cc_buf_str(&sql))) == NULL)
        rc = CC_EDB;
    if (rc != 0)
        goto out;
    bind_filters(st, f);
    for (size_t i = 0; i < f->nstatuses; i++)
        sqlite3_bind_int(st, STATUS_PARAM + (int)i, cc__status_code(f->statuses[i]));
    /* The rows come in the index's order, each looked up in the table:
     * pages read at random. Read through a memory map (no copy of each page
     * into SQLite's small cache; the kernel's page cache is the cache), for
     * this statement only. */
    if (cc__store_pragma_int(cc_store_db(s), "PRAGMA mmap_size", &mmap_was) == 0)
        sqlite3_exec(cc_store_db(s), "PRAGMA mmap_size = " LIST_MMAP_BYTES, NULL, NULL, NULL);
    if ((days = days_new()) == NULL) {
        rc = CC_ENOMEM;
        goto out;
    }
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t rule = sqlite3_column_int64(st, 1);
        int known = rule >= 0 && (size_t)rule < m.nrules;
        int status = cc__status_of_code(sqlite3_column_int64(st, 6));
        const char *id = text(st, 0), *own_source = text(st, 8);
        const kid_t *k = id ? kid_find(&m, id) : NULL;
        cc_date_t d;
        cc_clock_row_t r = {
            .child_id = id, .rule_id = known ? m.rule_id[rule] : NULL, .seq = sqlite3_column_int(st, 2),
            .title = text(st, 3) ? text(st, 3) : known ? m.title[rule] : NULL,
            .status = status >= 0 ? cc_status_name((cc_status_t)status) : NULL,
            .source = own_source == NULL ? (known ? m.source[rule] : NULL) : own_source[0] ? own_source : NULL,
            .reason = text(st, 9), .instance = text(st, 10)};
        if ((d = cc__col_day(st, 4)) != CC_DATE_NONE)
            r.start_date = day_text(days, 0, d);
        if ((d = cc__col_day(st, 5)) != CC_DATE_NONE)
            r.due_date = day_text(days, 1, d);
        if ((d = cc__col_day(st, 7)) != CC_DATE_NONE)
            r.met_on = day_text(days, 2, d);
        if ((d = cc__col_day(st, 11)) != CC_DATE_NONE)
            r.left_care_on = day_text(days, 3, d);
        if ((d = cc__col_day(st, 12)) != CC_DATE_NONE)
            r.agreed_due = day_text(days, 4, d);
        if (k != NULL) {
            r.worker_id = at(&m.arena, k->worker);
            r.team_id = at(&m.arena, k->team);
            r.initials = at(&m.arena, k->initials);
            r.full_name = at(&m.arena, k->full_name);
            r.iro_id = at(&m.arena, k->iro);
        } else if (f->team_id || f->worker_id || f->iro_id) {
            continue; /* a child given to another team since the children were read: not in this listing */
        }
        rc = fn(arg, &r);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    st = NULL;
    if (mmap_was >= 0) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA mmap_size = %lld", (long long)mmap_was);
        sqlite3_exec(cc_store_db(s), pragma, NULL, NULL, NULL);
    }
out:
    sqlite3_finalize(kids);
    sqlite3_finalize(st);
    cc_buf_free(&sql);
    names_free(&m);
    free(days);
    return rc;
}

/* ---- counts ------------------------------------------------------------- */

/* On clock_rows (overdue is 0, due soon 3): the clocks view would name
 * every row's status before counting. */
static const char STATUS_COUNTS_SQL[] =
    "SELECT " CC__STATUS_NAME_SQL("status") ", COUNT(*) FROM clock_rows WHERE status IN (0, 3) GROUP BY status";
static const char COUNT_BY_RULE_SQL[] =
    "SELECT r.rule_id, " CC__STATUS_NAME_SQL("c.status") ", c.n FROM (SELECT rule, status, COUNT(*) AS n FROM "
    "clock_rows GROUP BY rule, status) c JOIN clock_rules r ON r.code = c.rule ORDER BY 1, 2";

typedef struct {
    size_t *overdue, *due_soon;
} status_counts_t;

static int status_count_row(sqlite3_stmt *st, void *ctx)
{
    const status_counts_t *c = ctx;
    const char *status = text(st, 0);
    size_t n = (size_t)sqlite3_column_int64(st, 1);
    if (status && strcmp(status, "overdue") == 0)
        *c->overdue = n;
    else
        *c->due_soon = n;
    return 0;
}

int cc_clocks_status_counts(cc_store_t *s, size_t *overdue, size_t *due_soon)
{
    assert(s != NULL && overdue != NULL && due_soon != NULL);
    status_counts_t c = {overdue, due_soon};
    *overdue = *due_soon = 0;
    return stream(prepare(s, STATUS_COUNTS_SQL), status_count_row, &c);
}

typedef struct {
    cc_store_count_fn fn;
    void *arg;
} count_sink_t;

static int count_row(sqlite3_stmt *st, void *ctx)
{
    const count_sink_t *sink = ctx;
    return sink->fn(sink->arg, text(st, 0), text(st, 1), sqlite3_column_int64(st, 2));
}

int cc_clocks_count_by_rule(cc_store_t *s, cc_store_count_fn fn, void *arg)
{
    assert(s != NULL && fn != NULL);
    count_sink_t sink = {fn, arg};
    return stream(prepare(s, COUNT_BY_RULE_SQL), count_row, &sink);
}

/* ---- the timeliness report ---------------------------------------------- */

/* Every clock instance due in the period, with who held the child on its
 * due date. Children drive the join (CROSS JOIN fixes the order): each
 * child's clocks are then one primary-key range, read in order, and come
 * together, so the child's allocation history is read once for all of
 * them. Led by the clocks instead, SQLite picks clocks_by_status and pays a
 * primary-key lookup per instance, five times slower on 1.6 million
 * instances (bench/RESULTS.md). A team or worker asked for picks its
 * children first: every child it ever held (assignments_by_team,
 * assignments_by_worker) or holds now; which of their clocks it held on
 * the due date is decided per instance below. */
#define CREDIT_SELECT "SELECT c.child_id, c.rule_id, c.title, c.seq, c.start_date, c.due_date, c.status, c.met_on, " \
                      "ch.team_id, ch.worker_id, c.agreed_due "
#define CREDIT_WHERE                                                                                           \
    "WHERE c.status != 'data_error' AND c.due_date IS NOT NULL AND (?1 IS NULL OR c.due_date >= ?1) "         \
    "AND (?2 IS NULL OR c.due_date <= ?2) AND (?4 IS NULL OR c.rule_id = ?4)"

enum { CREDIT_ALL, CREDIT_TEAM, CREDIT_WORKER, NCREDIT };

static const char *const CREDIT_SQL[] = {
    [CREDIT_ALL] = CREDIT_SELECT "FROM children ch CROSS JOIN clocks c ON c.child_id = ch.id " CREDIT_WHERE,
    [CREDIT_TEAM] = CREDIT_SELECT
    "FROM (SELECT child_id AS id FROM assignments WHERE team_id = ?3 UNION SELECT id FROM children WHERE "
    "team_id = ?3) k CROSS JOIN children ch ON ch.id = k.id CROSS JOIN clocks c ON c.child_id = ch.id " CREDIT_WHERE,
    [CREDIT_WORKER] = CREDIT_SELECT
    "FROM (SELECT child_id AS id FROM assignments WHERE worker_id = ?5 UNION SELECT id FROM children WHERE "
    "worker_id = ?5) k CROSS JOIN children ch ON ch.id = k.id CROSS JOIN clocks c ON c.child_id = ch.id " CREDIT_WHERE,
};

_Static_assert(sizeof(CREDIT_SQL) / sizeof(CREDIT_SQL[0]) == NCREDIT, "one statement per way in");

const char *cc_clocks_credited_sql(const cc_clocks_due_t *q)
{
    assert(q != NULL);
    return CREDIT_SQL[q->worker != NULL ? CREDIT_WORKER : q->team != NULL ? CREDIT_TEAM : CREDIT_ALL];
}

static const char REPORT_ERRORS_SQL[] =
    "SELECT count(DISTINCT c.child_id) FROM clocks c JOIN children ch ON ch.id = c.child_id "
    "WHERE c.status = 'data_error' AND (?1 IS NULL OR ch.team_id = ?1)";

int cc_clocks_credited(cc_store_t *s, const cc_clocks_due_t *q, cc_clocks_credit_fn fn, void *arg)
{
    assert(s != NULL && q != NULL && fn != NULL);
    char from[CC_DATE_STRLEN], to[CC_DATE_STRLEN], child[CC_STORE_ID_MAX + 1] = "";
    cc_assignments_t held;
    int rc = 0, have_child = 0;
    sqlite3_stmt *st = prepare(s, cc_clocks_credited_sql(q));
    if (st == NULL)
        return CC_EDB;
    if (q->from != CC_DATE_NONE)
        sqlite3_bind_text(st, 1, cc_date_format(q->from, from), -1, SQLITE_STATIC);
    if (q->to != CC_DATE_NONE)
        sqlite3_bind_text(st, 2, cc_date_format(q->to, to), -1, SQLITE_STATIC);
    if (q->team != NULL && q->worker == NULL)
        sqlite3_bind_text(st, 3, q->team, -1, SQLITE_STATIC);
    if (q->clock)
        sqlite3_bind_text(st, 4, q->clock, -1, SQLITE_STATIC);
    if (q->worker != NULL)
        sqlite3_bind_text(st, 5, q->worker, -1, SQLITE_STATIC);
    cc_assignments_init(&held);
    int step;
    while (rc == 0 && (step = cc__store_step(st)) == SQLITE_ROW) {
        cc_clocks_credit_row_t r = {.child_id = text_or_empty(st, 0), .rule_id = text_or_empty(st, 1),
                                    .title = text_or_empty(st, 2), .seq = sqlite3_column_int(st, 3),
                                    .start_date = text_or_empty(st, 4), .due_date = text_or_empty(st, 5),
                                    .status = text_or_empty(st, 6), .met_on = text(st, 7),
                                    .team_now = text_or_empty(st, 8), .worker_now = text_or_empty(st, 9)};
        r.due = cc__store_date(r.due_date);
        r.agreed = cc__store_date(text(st, 10));
        if (r.due == CC_DATE_NONE)
            continue; /* another system's unreadable date: the engine would have made it a data_error */
        if (!have_child || strcmp(child, r.child_id) != 0) {
            snprintf(child, sizeof(child), "%s", r.child_id);
            have_child = 1;
            if ((rc = cc_store_child_assignments(s, r.child_id, &held)) != 0)
                break;
        }
        /* Before careclock kept a history (or where another system removed
         * it), the child's holders now. */
        const cc_assignment_t *a = cc_assignments_on(&held, r.due);
        r.team_id = a ? a->team_id : r.team_now;
        r.worker_id = a ? a->worker_id : r.worker_now;
        if ((q->team != NULL && strcmp(q->team, r.team_id) != 0) ||
            (q->worker != NULL && strcmp(q->worker, r.worker_id) != 0))
            continue;
        rc = fn(arg, &r);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    cc_assignments_free(&held);
    return rc;
}

int cc_clocks_data_error_children(cc_store_t *s, const char *team, size_t *n)
{
    assert(s != NULL && n != NULL);
    sqlite3_stmt *st = prepare(s, REPORT_ERRORS_SQL);
    if (st == NULL)
        return CC_EDB;
    if (team)
        sqlite3_bind_text(st, 1, team, -1, SQLITE_STATIC);
    int step = cc__store_step(st);
    if (step == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 0 : CC_EDB;
}

/* ---- the dashboard -------------------------------------------------------- */

/* The escalations sent by e-mail to a member of staff whose clock is still
 * not met, among the children they are worker or IRO of or manage the team
 * of: the children first (their indexes, as the staff feed does), each
 * child's deliveries through the outbox's unique key, the clock by primary
 * key. */
static const char ESCALATED_SQL[] =
    "SELECT d.child_id, d.rule_id, d.seq, c.title, c.due_date, c.status, d.stage, d.sent_at, ch.initials, "
    "CASE WHEN ?2 THEN ch.full_name END "
    "FROM (SELECT id FROM children WHERE worker_id = ?1 OR iro_id = ?1 OR team_id IN "
    "(SELECT id FROM teams WHERE manager_id = ?1 OR service_manager_id = ?1)) k "
    "CROSS JOIN children ch ON ch.id = k.id CROSS JOIN deliveries d ON d.child_id = k.id "
    "CROSS JOIN clocks c ON c.child_id = d.child_id AND c.rule_id = d.rule_id AND c.instance = d.instance "
    "WHERE d.recipient = ?1 AND d.channel = 'email' AND d.kind = 'escalation' AND d.state = 'sent' "
    "AND c.status IN ('open', 'due_soon', 'overdue', 'at_risk') ORDER BY c.due_date, d.child_id, d.rule_id, d.seq, d.sent_at";

int cc_clocks_escalated_to(cc_store_t *s, const char *staff_id, int with_names, cc_clocks_escalation_fn fn, void *arg)
{
    assert(s != NULL && staff_id != NULL && fn != NULL);
    sqlite3_stmt *st = prepare(s, ESCALATED_SQL);
    int step = SQLITE_DONE, rc = 0;
    if (st == NULL)
        return CC_EDB;
    sqlite3_bind_text(st, 1, staff_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, with_names != 0);
    while (rc == 0 && (step = cc__store_step(st)) == SQLITE_ROW) {
        cc_clocks_escalation_t e = {.child_id = text_or_empty(st, 0), .rule_id = text_or_empty(st, 1),
                                    .seq = sqlite3_column_int(st, 2), .title = text_or_empty(st, 3),
                                    .due_date = text_or_empty(st, 4), .status = text_or_empty(st, 5),
                                    .stage = text_or_empty(st, 6), .sent_at = text_or_empty(st, 7),
                                    .initials = text(st, 8), .full_name = text(st, 9)};
        rc = fn(arg, &e);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    return rc;
}

/* ---- one clock ------------------------------------------------------------ */

static const char ONE_SQL[] =
    "SELECT status, due_date, agreed_due, title, seq FROM clocks WHERE child_id = ?1 AND rule_id = ?2 AND instance = ?3";
static const char INSTANCE_OF_SQL[] = "SELECT instance FROM clocks WHERE child_id = ?1 AND rule_id = ?2 AND seq = ?3";

/* Copy text into buf at *used; NULL stays NULL. */
static const char *keep_text(const char *text, char *buf, size_t len, size_t *used)
{
    if (text == NULL)
        return NULL;
    size_t n = strlen(text) + 1;
    if (*used + n > len)
        return "";
    memcpy(buf + *used, text, n);
    *used += n;
    return buf + *used - n;
}

int cc_clocks_get(cc_store_t *s, const char *child_id, const char *rule_id, const char *instance,
                  cc_clocks_one_t *out, char *buf, size_t buflen)
{
    assert(s != NULL && child_id != NULL && rule_id != NULL && instance != NULL && out != NULL && buf != NULL);
    sqlite3_stmt *st = cc__store_stmt(s, ONE_SQL);
    if (st == NULL)
        return CC_EDB;
    cc__store_bind_text(st, 1, child_id);
    cc__store_bind_text(st, 2, rule_id);
    cc__store_bind_text(st, 3, instance);
    int step = cc__store_step(st), rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? CC_ENOTFOUND : CC_EDB;
    if (rc == 0) {
        size_t used = 0;
        out->status = keep_text(text(st, 0), buf, buflen, &used);
        out->due_date = keep_text(text(st, 1), buf, buflen, &used);
        out->agreed_due = keep_text(text(st, 2), buf, buflen, &used);
        out->title = keep_text(text(st, 3), buf, buflen, &used);
        out->seq = sqlite3_column_int(st, 4);
    }
    sqlite3_reset(st);
    return rc;
}

int cc_clocks_instance_of(cc_store_t *s, const char *child_id, const char *rule_id, int seq, char *instance,
                          size_t len)
{
    assert(s != NULL && child_id != NULL && rule_id != NULL && instance != NULL && len > 0);
    sqlite3_stmt *st = cc__store_stmt(s, INSTANCE_OF_SQL);
    if (st == NULL)
        return CC_EDB;
    cc__store_bind_text(st, 1, child_id);
    cc__store_bind_text(st, 2, rule_id);
    sqlite3_bind_int(st, 3, seq);
    int step = cc__store_step(st), rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? CC_ENOTFOUND : CC_EDB;
    if (rc == 0)
        snprintf(instance, len, "%s", text_or_empty(st, 0));
    sqlite3_reset(st);
    return rc;
}

/* ---- a calendar feed's clocks -------------------------------------------- */

/* Names over ?4 (CC_NAME_MAX) characters are left out, and counted in the
 * last column (clocks.h). */
#define BOUNDED(x) "CASE WHEN length(" x ") <= ?4 THEN " x " END"
#define FEED_SELECT                                                                                                \
    "SELECT c.child_id, " BOUNDED("ch.initials") ", CASE WHEN ?3 THEN " BOUNDED("ch.full_name") " END, "            \
    "c.rule_id, c.title, c.source, c.seq, c.start_date, c.due_date, c.status, c.met_on, e.type, c.reason, "        \
    BOUNDED("w.name") ", c.updated_at, c.sequence, c.instance, coalesce(length(ch.initials) > ?4, 0) + "           \
    "coalesce(?3 AND length(ch.full_name) > ?4, 0) + coalesce(length(w.name) > ?4, 0), c.agreed_due "             \
    "FROM clocks c JOIN children ch ON ch.id = c.child_id LEFT JOIN staff w ON w.id = ch.worker_id "             \
    "LEFT JOIN events e ON e.id = c.start_event_id "                                                              \
    "WHERE (c.status = 'data_error' OR c.due_date IS NOT NULL) "                                                   \
    "AND (?2 IS NULL OR c.status NOT IN ('met', 'met_late', 'cancelled', 'excepted') OR "                         \
    "CASE WHEN c.status IN ('cancelled', 'excepted') THEN c.due_date ELSE coalesce(c.met_on, c.due_date) END "    \
    ">= ?2) AND "

/* A staff member's children are chosen first, in a subquery on children
 * alone, and their clocks then read through the clocks primary key, one
 * child at a time in child order (which is also the ORDER BY, so no sort).
 * The same condition written on the joined row (ch.worker_id = ?1 OR
 * ch.iro_id = ?1 OR ...) made SQLite read every clock of the council:
 * 1.9-2.1 s for a service manager's feed at 100,000 children against
 * 0.33-0.40 s now (docs/feeds.md).
 * The subquery finds the children through children_by_worker,
 * children_by_iro and children_by_team (SQLite's multi-index OR; the teams
 * a person manages are a scan of the few teams), never the clocks. */
static const char *const FEED_SQL[] = {
    [CC_CLOCKS_OF_TEAM] = FEED_SELECT "ch.team_id = ?1 ORDER BY c.child_id, c.rule_id, c.instance",
    [CC_CLOCKS_OF_STAFF] = FEED_SELECT
    "c.child_id IN (SELECT id FROM children WHERE worker_id = ?1 OR iro_id = ?1 OR team_id IN "
    "(SELECT id FROM teams WHERE manager_id = ?1 OR service_manager_id = ?1)) "
    "ORDER BY c.child_id, c.rule_id, c.instance",
};

_Static_assert(sizeof(FEED_SQL) / sizeof(FEED_SQL[0]) == CC_CLOCKS_OF_STAFF + 1, "one statement per kind of feed");

static int feed_row(sqlite3_stmt *st, void *ctx)
{
    const clock_sink_t *sink = ctx;
    cc_clock_row_t r = {
        .child_id = text(st, 0), .initials = text(st, 1), .full_name = text(st, 2), .rule_id = text(st, 3),
        .title = text(st, 4), .source = text(st, 5), .seq = sqlite3_column_int(st, 6), .start_date = text(st, 7),
        .due_date = text(st, 8), .status = text(st, 9), .met_on = text(st, 10), .start_event_type = text(st, 11),
        .reason = text(st, 12), .worker_name = text(st, 13), .updated_at = text(st, 14),
        .sequence = sqlite3_column_int64(st, 15), .instance = text(st, 16),
        .names_not_shown = sqlite3_column_int(st, 17), .agreed_due = text(st, 18)};
    return sink->fn(sink->arg, &r);
}

int cc_clocks_feed_rows(cc_store_t *s, cc_clocks_of_t of, const char *id, cc_date_t done_since, int with_names,
                        cc_clock_row_fn fn, void *arg)
{
    assert(s != NULL && id != NULL && fn != NULL && (of == CC_CLOCKS_OF_TEAM || of == CC_CLOCKS_OF_STAFF));
    char since[CC_DATE_STRLEN];
    sqlite3_stmt *st = prepare(s, FEED_SQL[of]);
    if (st == NULL)
        return CC_EDB;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (done_since != CC_DATE_NONE)
        sqlite3_bind_text(st, 2, cc_date_format(done_since, since), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, with_names != 0);
    sqlite3_bind_int(st, 4, CC_NAME_MAX);
    clock_sink_t sink = {fn, arg};
    return stream(st, feed_row, &sink);
}

/* ---- the outbox's statements --------------------------------------------- */

/* Every planning statement works on a range of child ids, [lo, hi): a
 * slice of the council, or one child. hi is bound as an empty blob for "to
 * the end" (every text sorts before every blob), and lo as '' for "from
 * the start". The unary + (and CROSS JOIN, which fixes the join order)
 * keep SQLite on the child-id keys (the clocks' primary key, the outbox's
 * unique key) rather than the status indexes, whose scans would cover the
 * whole council for every slice. */

/* The open clocks of [?2, ?3) whose stages may have come (chased to a
 * date, the agreed one else the due date, on or before the horizon ?1),
 * those at risk (told at once, however far off), and the children whose
 * data is in error (never silent), with their
 * people. Columns: child_id, rule_id, seq, status, due_date, team_id,
 * worker_id, worker's email, iro_id, IRO's email, team manager_id,
 * manager's email, service_manager_id, service manager's email, team
 * webhook, instance, left_care_on, agreed_due, and the acknowledgements in
 * force on ?4 (today) as "STAFF UNTIL" joined by commas (NULL: none; the
 * decisions' index by clock, usually empty). */
static const char PLAN_OPEN_SQL[] =
    "SELECT c.child_id, c.rule_id, c.seq, c.status, c.due_date, ch.team_id, ch.worker_id, w.email, ch.iro_id, "
    "i.email, t.manager_id, tm.email, t.service_manager_id, sm.email, t.webhook, c.instance, c.left_care_on, "
    "c.agreed_due, (SELECT group_concat(a.by_staff || ' ' || a.until, ',') FROM decisions a WHERE "
    "a.child_id = c.child_id AND a.rule_id = c.rule_id AND a.instance = c.instance AND a.kind = 'ack' AND "
    "a.until >= ?4 AND NOT EXISTS (SELECT 1 FROM decisions x WHERE x.withdraws = a.id)) "
    "FROM clocks c JOIN children ch ON ch.id = c.child_id "
    "LEFT JOIN staff w ON w.id = ch.worker_id LEFT JOIN staff i ON i.id = ch.iro_id "
    "LEFT JOIN teams t ON t.id = ch.team_id LEFT JOIN staff tm ON tm.id = t.manager_id "
    "LEFT JOIN staff sm ON sm.id = t.service_manager_id "
    "WHERE c.child_id >= ?2 AND c.child_id < ?3 AND (+c.status IN ('data_error', 'at_risk') OR "
    "(+c.status IN ('open', 'due_soon', 'overdue') "
    "AND +c.due_date IS NOT NULL AND coalesce(+c.agreed_due, +c.due_date) <= ?1)) "
    "ORDER BY c.child_id, c.rule_id, c.instance";

/* The escalations sent for the closed clocks of [?1, ?2) whose "now met"
 * notice is not planned yet. Columns: child_id, rule_id, instance,
 * recipient, channel, role, the clock's status, the recipient's address
 * now (email, or the team's webhook), the clock's seq. */
static const char PLAN_CLOSED_SQL[] =
    "SELECT DISTINCT d.child_id, d.rule_id, d.instance, d.recipient, d.channel, d.role, c.status, "
    "CASE d.channel WHEN 'email' THEN s.email ELSE t.webhook END, c.seq "
    "FROM deliveries d CROSS JOIN clocks c ON c.child_id = d.child_id AND c.rule_id = d.rule_id AND "
    "c.instance = d.instance "
    "LEFT JOIN staff s ON d.channel = 'email' AND s.id = d.recipient "
    "LEFT JOIN teams t ON d.channel = 'webhook' AND t.id = substr(d.recipient, 6) "
    "WHERE d.child_id >= ?1 AND d.child_id < ?2 AND +d.state = 'sent' AND +d.kind = 'escalation' "
    "AND +c.status IN ('met', 'met_late', 'cancelled', 'excepted') "
    "AND NOT EXISTS (SELECT 1 FROM deliveries m WHERE m.child_id = d.child_id AND m.rule_id = d.rule_id "
    "AND m.instance = d.instance AND m.stage = 'met' AND m.recipient = d.recipient AND m.channel = d.channel) "
    "ORDER BY d.child_id, d.rule_id, d.instance, d.recipient, d.channel";

/* Pending and retrying rows of [?2, ?3) whose clock is no longer open (or
 * gone), or is of an episode of care the child left on or before ?4
 * (today); and the at-risk notices of a clock no longer at risk. */
#define PLAN_CANCEL_WHERE                                                                                      \
    "WHERE child_id >= ?2 AND child_id < ?3 AND +state IN ('pending', 'retrying') AND kind != 'met' "             \
    "AND NOT EXISTS (SELECT 1 FROM clocks c WHERE "                                                               \
    "c.child_id = deliveries.child_id AND c.rule_id = deliveries.rule_id AND c.instance = deliveries.instance "   \
    "AND c.status IN ('open', 'due_soon', 'overdue', 'at_risk', 'data_error') "                                   \
    "AND (deliveries.stage != 'at_risk' OR c.status = 'at_risk') "                                                \
    "AND (c.left_care_on IS NULL OR c.left_care_on > ?4))"

/* A row when there is one to cancel (a read, before the write lock). ?1 is
 * unused (bound for the shape shared with PLAN_CANCEL_SQL). */
static const char PLAN_CANCEL_ANY_SQL[] = "SELECT ?1, 1 FROM deliveries " PLAN_CANCEL_WHERE " LIMIT 1";

/* Cancel them at ?1 (now), saying why: the child left care (docs/delivery.md,
 * "After the child leaves care"), or what their clock is now. */
static const char PLAN_CANCEL_SQL[] =
    "UPDATE deliveries SET state = 'cancelled', claimed_by = NULL, updated_at = ?1, next_attempt_at = NULL, "
    "last_error = 'not sent: ' || coalesce((SELECT CASE WHEN c.left_care_on <= ?4 THEN 'the child left care on ' "
    "|| c.left_care_on WHEN deliveries.stage = 'at_risk' AND c.status != 'at_risk' THEN 'the clock is no longer "
    "at risk (' || c.status || ')' ELSE 'the clock is ' || c.status || ' now' END FROM clocks c WHERE c.child_id = "
    "deliveries.child_id AND c.rule_id = deliveries.rule_id AND c.instance = deliveries.instance), "
    "'the clock is gone now') "
    PLAN_CANCEL_WHERE;

/* One claimed delivery (?1, its id) with its clock, child, team and
 * worker. Columns: id, kind, stage, role, child_id, rule_id, seq (the
 * clock's now, else the row's), attempts,
 * first_attempt_at, the clock's title, source, due date (the clock's, else
 * the row's), status (NULL: the clock is gone), met_on, flags, reason, the
 * child's initials, full_name, team_id, the team's name, the worker's
 * name, message_id, and the day the row was first tried (else its stage
 * day): when the notice reached its recipient, for "escalated to you N
 * working days ago"; the agreed date of an extension in force. */
static const char CLAIM_ITEM_SQL[] =
    "SELECT d.id, d.kind, d.stage, d.role, d.child_id, d.rule_id, coalesce(c.seq, d.seq), d.attempts, "
    "d.first_attempt_at, "
    "CASE WHEN c.rule IS NOT NULL THEN coalesce(c.title, r.title) END, "
    "CASE WHEN c.rule IS NULL THEN NULL WHEN c.source IS NULL THEN r.source ELSE nullif(c.source, '') END, "
    "coalesce(" CC__DATE_SQL("c.due_day") ", d.due_date), " CC__STATUS_NAME_SQL("c.status") ", "
    CC__DATE_SQL("c.met_day") ", c.flags, c.reason, ch.initials, "
    "ch.full_name, ch.team_id, t.name, w.name, d.message_id, coalesce(substr(d.first_attempt_at, 1, 10), "
    "d.stage_date), " CC__DATE_SQL("c.agreed_day") " "
    "FROM deliveries d LEFT JOIN clock_rules r ON r.rule_id = d.rule_id LEFT JOIN clock_rows c ON "
    "c.child_id = d.child_id AND c.rule = r.code AND c.instance = d.instance "
    "LEFT JOIN children ch ON ch.id = d.child_id LEFT JOIN teams t ON t.id = ch.team_id "
    "LEFT JOIN staff w ON w.id = ch.worker_id WHERE d.id = ?1";

/* Every row of a clock instance goes, or none: the instance is closed (or
 * gone), none of its rows can still be sent, and none changed since the
 * cutoff ?1. Then nothing is planned for it again: the planner plans only
 * open clocks, and "now met" notices only for closed ones with sent
 * escalations still in the table. updated_at is UTC text, so a date
 * "YYYY-MM-DD" as the cutoff means "before that day began (UTC)". */
static const char PRUNE_SQL[] =
    "DELETE FROM deliveries WHERE (child_id, rule_id, instance) IN ("
    "SELECT d.child_id, d.rule_id, d.instance FROM deliveries d LEFT JOIN clock_rules r ON r.rule_id = d.rule_id "
    "LEFT JOIN clock_rows c ON c.child_id = d.child_id AND c.rule = r.code AND c.instance = d.instance "
    "WHERE c.status IS NULL OR c.status IN (5, 6, 7, 8) "
    "GROUP BY d.child_id, d.rule_id, d.instance "
    "HAVING max(d.updated_at) < ?1 AND sum(d.state IN ('pending', 'retrying', 'sending')) = 0)";

static const char *const OUTBOX_SQL[] = {
    [CC__CLOCKS_PLAN_OPEN] = PLAN_OPEN_SQL,         [CC__CLOCKS_PLAN_CLOSED] = PLAN_CLOSED_SQL,
    [CC__CLOCKS_PLAN_CANCEL_ANY] = PLAN_CANCEL_ANY_SQL, [CC__CLOCKS_PLAN_CANCEL] = PLAN_CANCEL_SQL,
    [CC__CLOCKS_CLAIM_ITEM] = CLAIM_ITEM_SQL,       [CC__CLOCKS_PRUNE] = PRUNE_SQL,
};

_Static_assert(sizeof(OUTBOX_SQL) / sizeof(OUTBOX_SQL[0]) == CC__CLOCKS_NSQL, "one SQL text per statement");

const char *cc__clocks_sql(cc__clocks_sql_t which)
{
    assert((unsigned)which < CC__CLOCKS_NSQL && OUTBOX_SQL[which] != NULL);
    return OUTBOX_SQL[which];
}
