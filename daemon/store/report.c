/* Timeliness report. See include/careclock/report.h; the definitions are
 * repeated in README.md, docs/import.md and docs/dashboard.md for the
 * people who read the figures.
 *
 * Design notes:
 *  - One way of counting for everyone: cc_report_build feeds the clock
 *    instances of cc_clocks_credited (each credited to who held the child
 *    on its due date) to the same cc_report_add the dashboard feeds from
 *    its own copy, and both render through the functions below. So the
 *    dashboard's figures and its CSV are the CLI's.
 *  - While building, groups (clock, period, team, worker) are kept flat,
 *    found by a hash of their key; cc_report_end sorts them (clocks in rule
 *    order, periods in time order, then team and worker ids) and nests
 *    them: clock -> period -> group.
 *  - Percentages are rounded once, in integers (cc_report_percent_tenths),
 *    so the table, the CSV and the JSON say the same; the JSON writes reals
 *    with 15 significant digits, which print tenths/10 as exactly that
 *    ("39.6", never 39.600000000000001).
 *  - This file holds no SQL: the rows come from clocks.c and people.c.
 *    It sits in the store layer because cc_report_build takes a store.
 */
#include "careclock/report.h"
#include "careclock/clocks.h"
#include "careclock/csv.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/events.h"
#include "careclock/people.h"
#include "store/internal.h"
#include "util/grow.h"
#include "util/strmap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const BUCKETS[] = {"on_time", "late", "overdue", "not_yet_due", "cancelled", "excepted"};

_Static_assert(sizeof(BUCKETS) / sizeof(BUCKETS[0]) == CC_REPORT_NBUCKETS, "one name per bucket");

const char *cc_report_bucket_name(cc_report_bucket_t b)
{
    return (unsigned)b < CC_REPORT_NBUCKETS ? BUCKETS[b] : "";
}

int cc_report_bucket_of(const char *status)
{
    switch (cc_status_parse(status ? status : "")) {
    case CC_STATUS_MET: return CC_REPORT_ON_TIME;
    case CC_STATUS_MET_LATE: return CC_REPORT_LATE;
    case CC_STATUS_OVERDUE: return CC_REPORT_OVERDUE;
    case CC_STATUS_OPEN:
    case CC_STATUS_DUE_SOON:
    case CC_STATUS_AT_RISK: return CC_REPORT_NOT_YET_DUE;
    case CC_STATUS_CANCELLED: return CC_REPORT_CANCELLED;
    case CC_STATUS_EXCEPTED: return CC_REPORT_EXCEPTED;
    default: return -1;
    }
}

size_t cc_report_due(const cc_report_counts_t *c)
{
    return c->n[CC_REPORT_ON_TIME] + c->n[CC_REPORT_LATE] + c->n[CC_REPORT_OVERDUE] + c->n[CC_REPORT_NOT_YET_DUE];
}

int cc_report_percent(const cc_report_counts_t *c, double *pct)
{
    size_t judged = c->n[CC_REPORT_ON_TIME] + c->n[CC_REPORT_LATE] + c->n[CC_REPORT_OVERDUE];
    if (judged == 0)
        return 0;
    *pct = 100.0 * (double)c->n[CC_REPORT_ON_TIME] / (double)judged;
    return 1;
}

int cc_report_percent_tenths(const cc_report_counts_t *c, long *tenths)
{
    unsigned long long on = c->n[CC_REPORT_ON_TIME],
                       judged = on + c->n[CC_REPORT_LATE] + c->n[CC_REPORT_OVERDUE];
    if (judged == 0)
        return 0;
    *tenths = (long)((2000ULL * on + judged) / (2ULL * judged));
    return 1;
}

static void counts_add(cc_report_counts_t *sum, const cc_report_counts_t *c)
{
    for (int b = 0; b < CC_REPORT_NBUCKETS; b++)
        sum->n[b] += c->n[b];
    sum->late_extended += c->late_extended;
}

/* ---- periods ------------------------------------------------------------- */

static const char *const BY_NAMES[] = {"", "month", "quarter", "year"};

const char *cc_report_by_name(cc_report_by_t by)
{
    return (unsigned)by < sizeof(BY_NAMES) / sizeof(BY_NAMES[0]) ? BY_NAMES[by] : "";
}

int cc_report_by_parse(const char *name)
{
    for (int i = 1; i < (int)(sizeof(BY_NAMES) / sizeof(BY_NAMES[0])); i++)
        if (name != NULL && strcmp(name, BY_NAMES[i]) == 0)
            return i;
    return -1;
}

void cc_report_period_of(cc_report_by_t by, cc_date_t day, char *label, size_t len, cc_date_t *first,
                         cc_date_t *last)
{
    int y, m, d;
    assert(label != NULL && len >= 16 && first != NULL && last != NULL);
    cc_date_to_ymd(day, &y, &m, &d);
    /* The reporting year begins on 1 April: January to March belong to the
     * year that began the April before. */
    int ry = m >= 4 ? y : y - 1;
    switch (by) {
    case CC_REPORT_BY_MONTH:
        snprintf(label, len, "%04d-%02d", y, m);
        *first = cc_date_from_ymd(y, m, 1);
        *last = cc_date_from_ymd(y, m, cc_date_days_in_month(y, m));
        break;
    case CC_REPORT_BY_QUARTER: {
        int q = m >= 4 ? (m - 4) / 3 + 1 : 4;  /* Apr-Jun 1, Jul-Sep 2, Oct-Dec 3, Jan-Mar 4 */
        int fm = q == 4 ? 1 : 4 + 3 * (q - 1); /* its first month */
        int fy = q == 4 ? ry + 1 : ry;
        snprintf(label, len, "%04d-%02d Q%d", ry, (ry + 1) % 100, q);
        *first = cc_date_from_ymd(fy, fm, 1);
        *last = cc_date_from_ymd(fy, fm + 2, cc_date_days_in_month(fy, fm + 2));
        break;
    }
    case CC_REPORT_BY_YEAR:
        snprintf(label, len, "%04d-%02d", ry, (ry + 1) % 100);
        *first = cc_date_from_ymd(ry, 4, 1);
        *last = cc_date_from_ymd(ry + 1, 3, 31);
        break;
    default:
        label[0] = '\0';
        *first = *last = day;
        break;
    }
}

/* ---- building ------------------------------------------------------------ */

typedef struct {
    char *clock, *title;
    size_t order;
} clockinfo_t;

/* A group while building. */
typedef struct {
    size_t clock;           /* index in the build's clocks */
    char *key;              /* clock, period, team, worker joined: the map's key */
    char *period;
    cc_date_t first, last;
    char *team, *team_name, *worker, *worker_name;
    cc_report_counts_t counts;
    cc_report_row_t *rows;
    size_t nrows, caprows;
} flat_t;

struct cc_report_build {
    const cc_ruleset_t *rs;
    clockinfo_t *clocks;
    size_t nclocks, capclocks;
    cc_strmap_t clock_map;  /* clock id -> index */
    flat_t *groups;
    size_t ngroups, capgroups;
    cc_strmap_t group_map;  /* key -> index */
    cc_buf_t key;
};

static void row_free(cc_report_row_t *row)
{
    free(row->child);
    free(row->start);
    free(row->due);
    free(row->status);
    free(row->met_on);
}

static void group_free(cc_report_group_t *g)
{
    for (size_t k = 0; k < g->nrows; k++)
        row_free(&g->rows[k]);
    free(g->rows);
    free(g->team);
    free(g->team_name);
    free(g->worker);
    free(g->worker_name);
}

static void build_free(cc_report_build_t *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->nclocks; i++) {
        free(b->clocks[i].clock);
        free(b->clocks[i].title);
    }
    free(b->clocks);
    for (size_t i = 0; i < b->ngroups; i++) {
        flat_t *f = &b->groups[i];
        cc_report_group_t g = {f->team, f->team_name, f->worker, f->worker_name, f->counts, f->rows, f->nrows,
                               f->caprows};
        group_free(&g);
        free(f->key);
        free(f->period);
    }
    free(b->groups);
    cc_strmap_free(&b->clock_map);
    cc_strmap_free(&b->group_map);
    cc_buf_free(&b->key);
    free(b);
}

void cc_report_free(cc_report_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nclocks; i++) {
        cc_report_clock_t *c = &r->clocks[i];
        for (size_t j = 0; j < c->nperiods; j++) {
            cc_report_period_t *p = &c->periods[j];
            for (size_t k = 0; k < p->ngroups; k++)
                group_free(&p->groups[k]);
            free(p->groups);
            free(p->period);
        }
        free(c->periods);
        free(c->clock);
        free(c->title);
        free(c->sources);
    }
    free(r->clocks);
    build_free(r->build);
    memset(r, 0, sizeof(*r));
}

static char *dup_text(const char *text, int *oom)
{
    char *copy = strdup(text ? text : "");
    if (copy == NULL)
        *oom = 1;
    return copy;
}

int cc_report_begin(cc_report_t *r, const cc_ruleset_t *rs, const cc_report_opts_t *opts, cc_date_t as_of)
{
    assert(r != NULL && opts != NULL);
    memset(r, 0, sizeof(*r));
    r->from = opts->from;
    r->to = opts->to;
    r->as_of = as_of;
    r->team = opts->team;
    r->worker = opts->worker;
    r->clock = opts->clock;
    r->detail = opts->detail;
    r->by = opts->by;
    r->by_worker = opts->by_worker;
    r->earliest_due = r->latest_due = CC_DATE_NONE;
    if ((r->build = calloc(1, sizeof(*r->build))) == NULL)
        return CC_ENOMEM;
    r->build->rs = rs;
    cc_strmap_init(&r->build->clock_map);
    cc_strmap_init(&r->build->group_map);
    cc_buf_init(&r->build->key);
    return 0;
}

static int clock_index(cc_report_t *r, const char *rule_id, const char *title, size_t *out)
{
    cc_report_build_t *b = r->build;
    size_t *found = cc_strmap_get(&b->clock_map, rule_id);
    if (found != NULL) {
        *out = *found;
        return 0;
    }
    int oom = 0;
    if (cc__grow(&b->clocks, &b->capclocks, b->nclocks + 1, sizeof(*b->clocks), 16) != 0)
        return CC_ENOMEM;
    clockinfo_t *c = &b->clocks[b->nclocks];
    c->clock = dup_text(rule_id, &oom);
    c->title = dup_text(title, &oom);
    const cc_rule_t *rule_def = b->rs ? cc_ruleset_find(b->rs, rule_id) : NULL;
    c->order = rule_def ? cc_ruleset_index(b->rs, rule_def) : (size_t)-1;
    if (oom || cc_strmap_put(&b->clock_map, c->clock, b->nclocks, NULL) != 0) {
        free(c->clock);
        free(c->title);
        return CC_ENOMEM;
    }
    *out = b->nclocks++;
    return 0;
}

static const char *or_empty(const char *t)
{
    return t ? t : "";
}

/* The group of item (made when new) into *out. */
static int group_for(cc_report_t *r, size_t clock, const cc_report_item_t *item, flat_t **out)
{
    cc_report_build_t *b = r->build;
    char label[32];
    cc_date_t first, last;
    cc_report_period_of(r->by, item->due, label, sizeof(label), &first, &last);
    if (r->by == CC_REPORT_BY_NONE) {
        first = r->from;
        last = r->to;
    } else {
        if (r->from != CC_DATE_NONE && first < r->from)
            first = r->from;
        if (r->to != CC_DATE_NONE && last > r->to)
            last = r->to;
    }
    const char *worker = r->by_worker ? or_empty(item->worker_id) : "";
    cc_buf_reset(&b->key);
    /* Unit separators: no id holds a control character (the store refuses them). */
    cc_buf_printf(&b->key, "%zu\x1f%s\x1f%s\x1f%s", clock, label, or_empty(item->team_id), worker);
    if (b->key.failed)
        return CC_ENOMEM;
    size_t *found = cc_strmap_get(&b->group_map, cc_buf_str(&b->key));
    if (found != NULL) {
        *out = &b->groups[*found];
        return 0;
    }
    if (cc__grow(&b->groups, &b->capgroups, b->ngroups + 1, sizeof(*b->groups), 64) != 0)
        return CC_ENOMEM;
    int oom = 0;
    flat_t *f = &b->groups[b->ngroups];
    memset(f, 0, sizeof(*f));
    f->clock = clock;
    f->key = dup_text(cc_buf_str(&b->key), &oom);
    f->period = dup_text(label, &oom);
    f->first = first;
    f->last = last;
    f->team = dup_text(item->team_id, &oom);
    f->team_name = dup_text(item->team_name, &oom);
    f->worker = dup_text(worker, &oom);
    f->worker_name = dup_text(r->by_worker ? item->worker_name : "", &oom);
    /* The group counts as made only once the map holds it. */
    if (oom || cc_strmap_put(&b->group_map, f->key, b->ngroups, NULL) != 0) {
        cc_report_group_t g = {f->team, f->team_name, f->worker, f->worker_name, {{0}, 0}, NULL, 0, 0};
        group_free(&g);
        free(f->key);
        free(f->period);
        return CC_ENOMEM;
    }
    b->ngroups++;
    *out = f;
    return 0;
}

int cc_report_add(cc_report_t *r, const cc_report_item_t *item)
{
    assert(r != NULL && r->build != NULL && item != NULL && item->rule_id != NULL);
    int bucket = cc_report_bucket_of(item->status);
    if (bucket < 0 || item->count == 0 || item->due == CC_DATE_NONE)
        return 0;
    if ((r->from != CC_DATE_NONE && item->due < r->from) || (r->to != CC_DATE_NONE && item->due > r->to) ||
        (r->clock != NULL && strcmp(r->clock, item->rule_id) != 0) ||
        (r->team != NULL && strcmp(r->team, or_empty(item->team_id)) != 0) ||
        (r->worker != NULL && strcmp(r->worker, or_empty(item->worker_id)) != 0))
        return 0;
    size_t clock;
    flat_t *g;
    int rc = clock_index(r, item->rule_id, item->title, &clock);
    if (rc == 0)
        rc = group_for(r, clock, item, &g);
    if (rc != 0)
        return rc;
    g->counts.n[bucket] += item->count;
    if (bucket == CC_REPORT_LATE && item->within_extension)
        g->counts.late_extended += item->count;
    r->instances += item->count;
    if (r->earliest_due == CC_DATE_NONE || item->due < r->earliest_due)
        r->earliest_due = item->due;
    if (r->latest_due == CC_DATE_NONE || item->due > r->latest_due)
        r->latest_due = item->due;
    if (!r->detail)
        return 0;
    if (cc__grow(&g->rows, &g->caprows, g->nrows + 1, sizeof(*g->rows), 16) != 0)
        return CC_ENOMEM;
    int oom = 0;
    cc_report_row_t *out = &g->rows[g->nrows++];
    memset(out, 0, sizeof(*out));
    out->child = dup_text(item->child_id, &oom);
    out->seq = item->seq;
    out->start = dup_text(item->start_date, &oom);
    out->due = dup_text(item->due_date, &oom);
    out->status = dup_text(item->status, &oom);
    if (item->met_on != NULL)
        out->met_on = dup_text(item->met_on, &oom);
    out->bucket = (cc_report_bucket_t)bucket;
    cc_date_t met;
    if (bucket == CC_REPORT_LATE && item->met_on != NULL && cc_date_parse(item->met_on, &met) == 0)
        out->days_late = (long)met - (long)item->due;
    else if (bucket == CC_REPORT_OVERDUE)
        out->days_late = (long)r->as_of - (long)item->due;
    out->working_days_late = out->days_late > 0 ? item->working_days_late : 0;
    return oom ? CC_ENOMEM : 0;
}

/* Order of the flat groups: clock (rule order, then id), period, team, worker. */
static int flat_cmp(const void *a, const void *b, void *arg)
{
    const cc_report_build_t *sorting = arg;
    const flat_t *x = a, *y = b;
    const clockinfo_t *cx = &sorting->clocks[x->clock], *cy = &sorting->clocks[y->clock];
    int c;
    if (cx->order != cy->order)
        return cx->order < cy->order ? -1 : 1;
    if ((c = strcmp(cx->clock, cy->clock)) != 0)
        return c;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    if ((c = strcmp(x->period, y->period)) != 0)
        return c;
    if ((c = strcmp(x->team, y->team)) != 0)
        return c;
    return strcmp(x->worker, y->worker);
}

static int row_cmp(const void *a, const void *b)
{
    const cc_report_row_t *x = a, *y = b;
    int c = strcmp(x->due, y->due);
    if (c == 0)
        c = strcmp(x->child, y->child);
    return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

int cc_report_end(cc_report_t *r)
{
    assert(r != NULL && r->build != NULL);
    cc_report_build_t *b = r->build;
    if (b->ngroups > 1)
        qsort_r(b->groups, b->ngroups, sizeof(*b->groups), flat_cmp, b);
    /* One clock entry per distinct clock, one period per distinct label. */
    size_t nclocks = 0;
    for (size_t i = 0; i < b->ngroups; i++)
        if (i == 0 || b->groups[i].clock != b->groups[i - 1].clock)
            nclocks++;
    if (nclocks > 0 && (r->clocks = calloc(nclocks, sizeof(*r->clocks))) == NULL)
        return CC_ENOMEM;
    for (size_t i = 0; i < b->ngroups;) {
        size_t end = i, nperiods = 0;
        while (end < b->ngroups && b->groups[end].clock == b->groups[i].clock) {
            if (end == i || strcmp(b->groups[end].period, b->groups[end - 1].period) != 0)
                nperiods++;
            end++;
        }
        cc_report_clock_t *c = &r->clocks[r->nclocks];
        clockinfo_t *ci = &b->clocks[b->groups[i].clock];
        if ((c->periods = calloc(nperiods, sizeof(*c->periods))) == NULL)
            return CC_ENOMEM;
        c->clock = ci->clock;
        c->title = ci->title;
        c->order = ci->order;
        ci->clock = ci->title = NULL; /* moved */
        r->nclocks++;
        for (size_t j = i; j < end;) {
            size_t pend = j;
            while (pend < end && strcmp(b->groups[pend].period, b->groups[j].period) == 0)
                pend++;
            cc_report_period_t *p = &c->periods[c->nperiods++];
            if ((p->groups = calloc(pend - j, sizeof(*p->groups))) == NULL)
                return CC_ENOMEM;
            p->period = b->groups[j].period;
            p->first = b->groups[j].first;
            p->last = b->groups[j].last;
            b->groups[j].period = NULL; /* moved */
            for (size_t k = j; k < pend; k++) {
                flat_t *f = &b->groups[k];
                cc_report_group_t *g = &p->groups[p->ngroups++];
                *g = (cc_report_group_t){f->team, f->team_name, f->worker, f->worker_name, f->counts, f->rows,
                                         f->nrows, f->caprows};
                f->team = f->team_name = f->worker = f->worker_name = NULL;
                f->rows = NULL;
                f->nrows = f->caprows = 0;
                if (g->nrows > 1)
                    qsort(g->rows, g->nrows, sizeof(*g->rows), row_cmp);
                counts_add(&p->total, &g->counts);
            }
            counts_add(&c->total, &p->total);
            j = pend;
        }
        i = end;
    }
    build_free(b);
    r->build = NULL;
    return 0;
}

/* ---- from the clocks table ----------------------------------------------- */

/* Names of teams and staff by id, for the groups' labels. */
typedef struct {
    cc_strmap_t map;
    char **keys, **names;
    size_t n, cap;
} names_t;

static void names_free(names_t *n)
{
    for (size_t i = 0; i < n->n; i++) {
        free(n->keys[i]);
        free(n->names[i]);
    }
    free(n->keys);
    free(n->names);
    cc_strmap_free(&n->map);
}

/* A row of cc_store_team_each (id, name, ...) or cc_store_staff_each (id,
 * role, name, ...): name_col says which column holds the name. */
typedef struct {
    names_t *names;
    int name_col;
} names_fill_t;

static int names_row(void *data, const char *const *cols, int ncols)
{
    names_fill_t *fill = data;
    names_t *n = fill->names;
    size_t cap = n->cap;
    if (cols[0] == NULL || fill->name_col >= ncols)
        return 0;
    if (cc__grow(&n->keys, &cap, n->n + 1, sizeof(*n->keys), 64) != 0)
        return CC_ENOMEM;
    if (cc__grow(&n->names, &n->cap, n->n + 1, sizeof(*n->names), 64) != 0)
        return CC_ENOMEM;
    n->keys[n->n] = strdup(cols[0]);
    n->names[n->n] = strdup(cols[fill->name_col] ? cols[fill->name_col] : "");
    if (n->keys[n->n] == NULL || n->names[n->n] == NULL) {
        free(n->keys[n->n]);
        free(n->names[n->n]);
        return CC_ENOMEM;
    }
    if (cc_strmap_put(&n->map, n->keys[n->n], n->n, NULL) != 0) {
        free(n->keys[n->n]);
        free(n->names[n->n]);
        return CC_ENOMEM;
    }
    n->n++;
    return 0;
}

static const char *name_of(const names_t *n, const char *id)
{
    size_t *i = id && id[0] ? cc_strmap_get(&n->map, id) : NULL;
    return i ? n->names[*i] : "";
}

typedef struct {
    cc_report_t *r;
    const cc_calendar_t *cal;
    names_t teams, staff;
} from_store_t;

static int credited_row(void *arg, const cc_clocks_credit_row_t *row)
{
    from_store_t *fs = arg;
    cc_report_item_t item = {.rule_id = row->rule_id, .title = row->title, .team_id = row->team_id,
                             .team_name = name_of(&fs->teams, row->team_id), .worker_id = row->worker_id,
                             .worker_name = name_of(&fs->staff, row->worker_id), .due = row->due,
                             .status = row->status, .count = 1, .child_id = row->child_id,
                             .start_date = row->start_date, .due_date = row->due_date, .met_on = row->met_on,
                             .seq = row->seq};
    cc_date_t met_on;
    item.within_extension = row->agreed != CC_DATE_NONE && row->met_on != NULL &&
                            cc_date_parse(row->met_on, &met_on) == 0 && met_on > row->due && met_on <= row->agreed;
    if (fs->r->detail && fs->cal != NULL) {
        /* As explain counts them: working days after the due date up to and
         * including the day it was met, or today. */
        int bucket = cc_report_bucket_of(row->status), wd = 0;
        cc_date_t met;
        if (bucket == CC_REPORT_LATE && row->met_on && cc_date_parse(row->met_on, &met) == 0)
            cc_calendar_working_days_between(fs->cal, row->due, met, &wd);
        else if (bucket == CC_REPORT_OVERDUE)
            cc_calendar_working_days_between(fs->cal, row->due, fs->r->as_of, &wd);
        item.working_days_late = wd;
    }
    return cc_report_add(fs->r, &item);
}

/* Data coverage: per clock, the meeting events any source has recorded. */
typedef struct {
    cc_buf_t text;
    int64_t total;
} coverage_t;

static int coverage_row(void *arg, const char *source, int64_t n)
{
    coverage_t *c = arg;
    cc_buf_printf(&c->text, "%s%s %lld", c->text.len ? ", " : "", source, (long long)n);
    c->total += n;
    return c->text.failed ? CC_ENOMEM : 0;
}

int cc_report_coverage(cc_store_t *store, const cc_ruleset_t *rs, cc_report_t *r)
{
    assert(store != NULL && rs != NULL && r != NULL);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->nclocks; i++) {
        cc_report_clock_t *c = &r->clocks[i];
        const cc_rule_t *rule = cc_ruleset_find(rs, c->clock);
        if (rule == NULL || rule->nmet_by == 0)
            continue;
        coverage_t cov = {.total = 0};
        cc_buf_init(&cov.text);
        /* Sources counted per type, then summed: "ssda903 3, cli 1" over
         * several meeting types may name a source twice. */
        for (int t = 0; rc == 0 && t < rule->nmet_by; t++)
            rc = cc_store_event_counts(store, cc_ruleset_type_name(rs, rule->met_by[t]), coverage_row, &cov);
        if (rc == 0) {
            c->coverage_known = 1;
            c->meeting_events = cov.total;
            c->no_data = cov.total == 0;
            c->sources = strdup(cc_buf_str(&cov.text));
            if (c->sources == NULL)
                rc = CC_ENOMEM;
        }
        cc_buf_free(&cov.text);
    }
    return rc;
}

int cc_report_build(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, const cc_report_opts_t *opts,
                    cc_date_t as_of, cc_report_t *out)
{
    assert(store != NULL && opts != NULL && out != NULL);
    from_store_t fs = {.r = out, .cal = cal};
    cc_strmap_init(&fs.teams.map);
    cc_strmap_init(&fs.staff.map);
    int rc = cc_report_begin(out, rs, opts, as_of);
    if (rc == 0)
        rc = cc_store_team_each(store, names_row, &(names_fill_t){&fs.teams, 1});
    if (rc == 0)
        rc = cc_store_staff_each(store, names_row, &(names_fill_t){&fs.staff, 2});
    cc_clocks_due_t due = {.from = opts->from, .to = opts->to, .team = opts->team, .worker = opts->worker,
                           .clock = opts->clock};
    if (rc == 0)
        rc = cc_clocks_credited(store, &due, credited_row, &fs);
    if (rc == 0)
        rc = cc_report_end(out);
    if (rc == 0 && rs != NULL)
        rc = cc_report_coverage(store, rs, out);
    if (rc == 0 && opts->worker == NULL)
        rc = cc_clocks_data_error_children(store, opts->team, &out->data_errors);
    names_free(&fs.teams);
    names_free(&fs.staff);
    return rc;
}
