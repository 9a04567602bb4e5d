/* The figures of the dashboard's team, service and timeliness pages. See
 * daemon/http/web_internal.h.
 *
 * Design notes:
 *  - Built off the loop from one read transaction (a consistent snapshot
 *    that holds up no writer): every clock instance from cc_clocks_credited,
 *    the very rows `careclock report timeliness` counts, each kept in 16
 *    bytes (due date, clock, status, team and worker on the due date as
 *    indexes into the names); the counts now by team, worker, clock and
 *    status; the children each team and worker holds. 1.6 million
 *    instances (100,000 children) take about 26 MB.
 *  - A report is then a pass over the instances in its period and scope,
 *    counted first by integers (clock, month, team, worker, status) and fed
 *    to cc_report_add one count each, so it groups, totals and rounds
 *    exactly as the CLI's does. A month is the finest period; quarters and
 *    years are made of months.
 *  - Read-only once built: any number of requests read it at once.
 */
#include "careclock/clocks.h"
#include "careclock/error.h"
#include "careclock/people.h"
#include "careclock/report.h"
#include "http/web_internal.h"
#include "util/grow.h"
#include "util/strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int32_t due;
    uint16_t rule;
    uint8_t status;
    uint8_t pad;
    uint32_t team, worker; /* on the due date: indexes, 0 for nobody */
} inst_t;

_Static_assert(sizeof(inst_t) == 16, "an instance is 16 bytes");

/* Interned ids and their names; index 0 is "" (nobody). */
typedef struct {
    char **ids, **names;
    size_t n, cap;
    cc_strmap_t map;
} names_t;

/* Counts now, keyed by (team, worker, rule, status). */
typedef struct {
    uint32_t team, worker;
    uint16_t rule;
    uint8_t status;
    size_t n;
} now_t;

typedef struct {
    uint32_t team, worker;
    size_t children;
} held_t;

/* An open-addressing map from 64-bit keys to indexes, for counting. */
typedef struct {
    uint64_t *keys;
    size_t *values;
    size_t cap, len;
} keymap_t;

struct cc__webcache {
    time_t built_at;
    double seconds;
    cc_date_t today;
    names_t teams, staff, rules; /* rules: ids and titles */
    inst_t *insts;
    size_t ninsts, capinsts;
    now_t *now;
    size_t nnow, capnow;
    keymap_t now_map;
    held_t *held;
    size_t nheld, capheld;
    const char **sorted_teams; /* team ids but "", sorted */
    size_t nsorted;
};

#define DATA_RULE "data" /* the clock id a data_error row carries */

/* ---- small maps ----------------------------------------------------------- */

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    return k ^ (k >> 33);
}

static void keymap_free(keymap_t *m)
{
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof(*m));
}

/* The value slot of key, made (with value *fresh) when absent; NULL on
 * ENOMEM. Keys are never UINT64_MAX (the empty slot). */
static size_t *keymap_slot(keymap_t *m, uint64_t key, size_t fresh)
{
    if ((m->len + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        uint64_t *keys = malloc(cap * sizeof(*keys));
        size_t *values = malloc(cap * sizeof(*values));
        if (keys == NULL || values == NULL) {
            free(keys);
            free(values);
            return NULL;
        }
        memset(keys, 0xff, cap * sizeof(*keys));
        for (size_t i = 0; i < m->cap; i++) {
            if (m->keys[i] == UINT64_MAX)
                continue;
            size_t j = mix(m->keys[i]) & (cap - 1);
            while (keys[j] != UINT64_MAX)
                j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            values[j] = m->values[i];
        }
        free(m->keys);
        free(m->values);
        m->keys = keys;
        m->values = values;
        m->cap = cap;
    }
    size_t j = mix(key) & (m->cap - 1);
    while (m->keys[j] != UINT64_MAX && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (m->keys[j] == UINT64_MAX) {
        m->keys[j] = key;
        m->values[j] = fresh;
        m->len++;
    }
    return &m->values[j];
}

static void names_free(names_t *n)
{
    for (size_t i = 0; i < n->n; i++) {
        free(n->ids[i]);
        free(n->names[i]);
    }
    free(n->ids);
    free(n->names);
    cc_strmap_free(&n->map);
    memset(n, 0, sizeof(*n));
}

/* The index of id (made, with name, when new; a later non-empty name
 * replaces an empty one). (size_t)-1 on ENOMEM. */
static size_t intern(names_t *n, const char *id, const char *name)
{
    size_t *found = cc_strmap_get(&n->map, id ? id : "");
    if (found != NULL) {
        if (name != NULL && name[0] != '\0' && n->names[*found][0] == '\0') {
            char *copy = strdup(name);
            if (copy != NULL) {
                free(n->names[*found]);
                n->names[*found] = copy;
            }
        }
        return *found;
    }
    size_t cap = n->cap;
    if (cc__grow(&n->ids, &cap, n->n + 1, sizeof(*n->ids), 64) != 0 ||
        cc__grow(&n->names, &n->cap, n->n + 1, sizeof(*n->names), 64) != 0)
        return (size_t)-1;
    n->ids[n->n] = strdup(id ? id : "");
    n->names[n->n] = strdup(name ? name : "");
    if (n->ids[n->n] == NULL || n->names[n->n] == NULL ||
        cc_strmap_put(&n->map, n->ids[n->n], n->n, NULL) != 0) {
        free(n->ids[n->n]);
        free(n->names[n->n]);
        return (size_t)-1;
    }
    return n->n++;
}

static size_t find(const names_t *n, const char *id)
{
    size_t *found = cc_strmap_get(&n->map, id ? id : "");
    return found ? *found : (size_t)-1;
}

/* ---- building -------------------------------------------------------------- */

static int team_row(void *data, const char *const *cols, int ncols)
{
    (void)ncols;
    return intern(data, cols[0], cols[1]) == (size_t)-1 ? CC_ENOMEM : 0;
}

static int staff_row(void *data, const char *const *cols, int ncols)
{
    (void)ncols;
    return intern(data, cols[0], cols[2]) == (size_t)-1 ? CC_ENOMEM : 0;
}

static int count_now(cc__webcache_t *c, size_t team, size_t worker, size_t rule, int status, size_t n)
{
    uint64_t key = ((uint64_t)team << 40) | ((uint64_t)worker << 16) | ((uint64_t)rule << 3) | (uint64_t)status;
    size_t *slot = keymap_slot(&c->now_map, key, c->nnow);
    if (slot == NULL)
        return CC_ENOMEM;
    if (*slot == c->nnow) {
        if (cc__grow(&c->now, &c->capnow, c->nnow + 1, sizeof(*c->now), 256) != 0)
            return CC_ENOMEM;
        c->now[c->nnow++] = (now_t){(uint32_t)team, (uint32_t)worker, (uint16_t)rule, (uint8_t)status, 0};
    }
    c->now[*slot].n += n;
    return 0;
}

static int credited_row(void *arg, const cc_clocks_credit_row_t *r)
{
    cc__webcache_t *c = arg;
    int status = cc_status_parse(r->status);
    size_t rule = intern(&c->rules, r->rule_id, r->title);
    size_t team = intern(&c->teams, r->team_id, NULL), worker = intern(&c->staff, r->worker_id, NULL);
    size_t team_now = intern(&c->teams, r->team_now, NULL), worker_now = intern(&c->staff, r->worker_now, NULL);
    if (status < 0)
        return 0;
    if (rule == (size_t)-1 || team == (size_t)-1 || worker == (size_t)-1 || team_now == (size_t)-1 ||
        worker_now == (size_t)-1 || rule > 0x1fff || team > 0xffffff || worker > 0xffffff)
        return CC_ENOMEM;
    if (cc__grow(&c->insts, &c->capinsts, c->ninsts + 1, sizeof(*c->insts), 4096) != 0)
        return CC_ENOMEM;
    c->insts[c->ninsts++] = (inst_t){(int32_t)r->due, (uint16_t)rule, (uint8_t)status, 0, (uint32_t)team,
                                     (uint32_t)worker};
    return count_now(c, team_now, worker_now, rule, status, 1);
}

static int error_row(void *arg, const cc_clock_row_t *r)
{
    cc__webcache_t *c = arg;
    size_t rule = intern(&c->rules, DATA_RULE, "Child's data cannot be evaluated");
    size_t team = intern(&c->teams, r->team_id, NULL), worker = intern(&c->staff, r->worker_id, NULL);
    if (rule == (size_t)-1 || team == (size_t)-1 || worker == (size_t)-1)
        return CC_ENOMEM;
    return count_now(c, team, worker, rule, CC_STATUS_DATA_ERROR, 1);
}

static int held_row(void *data, const char *const *cols, int ncols)
{
    cc__webcache_t *c = data;
    (void)ncols;
    size_t team = intern(&c->teams, cols[0], NULL), worker = intern(&c->staff, cols[1], NULL);
    if (team == (size_t)-1 || worker == (size_t)-1 ||
        cc__grow(&c->held, &c->capheld, c->nheld + 1, sizeof(*c->held), 256) != 0)
        return CC_ENOMEM;
    c->held[c->nheld++] = (held_t){(uint32_t)team, (uint32_t)worker, (size_t)strtoull(cols[2], NULL, 10)};
    return 0;
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int cc__webcache_build(cc_store_t *store, const cc_ruleset_t *rs, cc_date_t today, time_t now, cc__webcache_t **out)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    (void)rs;
    *out = NULL;
    cc__webcache_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return CC_ENOMEM;
    c->built_at = now;
    c->today = today;
    cc_strmap_init(&c->teams.map);
    cc_strmap_init(&c->staff.map);
    cc_strmap_init(&c->rules.map);
    int rc = 0;
    if (intern(&c->teams, "", "") != 0 || intern(&c->staff, "", "") != 0)
        rc = CC_ENOMEM;
    if (rc == 0)
        rc = cc_store_begin_read(store);
    if (rc == 0) {
        cc_clocks_due_t all = {.from = CC_DATE_NONE, .to = CC_DATE_NONE};
        cc_clocks_filter_t errors = {.statuses = {CC_STATUS_DATA_ERROR}, .nstatuses = 1};
        if ((rc = cc_store_team_each(store, team_row, &c->teams)) == 0 &&
            (rc = cc_store_staff_each(store, staff_row, &c->staff)) == 0 &&
            (rc = cc_clocks_credited(store, &all, credited_row, c)) == 0 &&
            (rc = cc_clocks_list(store, &errors, error_row, c)) == 0)
            rc = cc_store_children_held(store, held_row, c);
        cc_store_end_read(store);
    }
    if (rc == 0) {
        if ((c->sorted_teams = malloc((c->teams.n ? c->teams.n : 1) * sizeof(*c->sorted_teams))) == NULL)
            rc = CC_ENOMEM;
        for (size_t i = 1; rc == 0 && i < c->teams.n; i++)
            c->sorted_teams[c->nsorted++] = c->teams.ids[i];
        if (rc == 0 && c->nsorted > 1)
            qsort(c->sorted_teams, c->nsorted, sizeof(*c->sorted_teams), id_cmp);
    }
    if (rc != 0) {
        cc__webcache_free(c);
        return rc;
    }
    c->seconds = seconds_since(&t0);
    *out = c;
    return 0;
}

void cc__webcache_free(cc__webcache_t *c)
{
    if (c == NULL)
        return;
    names_free(&c->teams);
    names_free(&c->staff);
    names_free(&c->rules);
    free(c->insts);
    free(c->now);
    keymap_free(&c->now_map);
    free(c->held);
    free(c->sorted_teams);
    free(c);
}

time_t cc__webcache_built_at(const cc__webcache_t *c)
{
    return c->built_at;
}

double cc__webcache_build_seconds(const cc__webcache_t *c)
{
    return c->seconds;
}

size_t cc__webcache_instances(const cc__webcache_t *c)
{
    return c->ninsts;
}

const char *cc__webcache_team_name(const cc__webcache_t *c, const char *id)
{
    size_t i = find(&c->teams, id);
    return i == (size_t)-1 ? "" : c->teams.names[i];
}

const char *cc__webcache_staff_name(const cc__webcache_t *c, const char *id)
{
    size_t i = find(&c->staff, id);
    return i == (size_t)-1 ? "" : c->staff.names[i];
}

size_t cc__webcache_teams(const cc__webcache_t *c, const char *const **ids)
{
    *ids = c->sorted_teams;
    return c->nsorted;
}

/* ---- scope ------------------------------------------------------------------ */

/* in[i] is 1 for the team indexes of teams (all when teams is NULL). A
 * new array (free it); NULL on ENOMEM. */
static unsigned char *team_set(const cc__webcache_t *c, const char *const *teams, size_t nteams)
{
    unsigned char *in = calloc(c->teams.n ? c->teams.n : 1, 1);
    if (in == NULL)
        return NULL;
    if (teams == NULL) {
        memset(in, 1, c->teams.n);
        return in;
    }
    for (size_t i = 0; i < nteams; i++) {
        size_t t = find(&c->teams, teams[i]);
        if (t != (size_t)-1)
            in[t] = 1;
    }
    return in;
}

/* ---- reports ------------------------------------------------------------------ */

typedef struct {
    uint32_t rule, month, team, worker;
    uint8_t status;
    size_t n;
} agg_t;

/* The period a month (y * 12 + m - 1) falls in, as a number: quarters and
 * years of the reporting year begin in April (month index 3). */
static uint32_t period_key(cc_report_by_t by, uint32_t month)
{
    switch (by) {
    case CC_REPORT_BY_MONTH: return month;
    case CC_REPORT_BY_QUARTER: return (month - 3) / 3;
    case CC_REPORT_BY_YEAR: return (month - 3) / 12;
    default: return 0;
    }
}

int cc__webcache_report(const cc__webcache_t *c, const cc_ruleset_t *rs, const cc__cache_query_t *q, cc_date_t as_of,
                        cc_report_t *out, size_t *groups)
{
    assert(c != NULL && q != NULL && out != NULL);
    cc_report_opts_t o = {.from = q->from, .to = q->to, .clock = q->clock, .by = q->by, .by_worker = q->by_worker};
    int rc = cc_report_begin(out, rs, &o, as_of);
    if (rc != 0)
        return rc;
    unsigned char *in = team_set(c, q->teams, q->nteams);
    size_t clock = q->clock ? find(&c->rules, q->clock) : (size_t)-1;
    size_t worker = q->worker ? find(&c->staff, q->worker) : (size_t)-1;
    keymap_t map = {0};
    agg_t *aggs = NULL;
    size_t naggs = 0, capaggs = 0;
    if (in == NULL)
        rc = CC_ENOMEM;
    if (rc == 0 && ((q->clock && clock == (size_t)-1) || (q->worker && worker == (size_t)-1)))
        goto done; /* nothing of that clock or worker: an empty report */
    for (size_t i = 0; rc == 0 && i < c->ninsts; i++) {
        const inst_t *it = &c->insts[i];
        if ((q->from != CC_DATE_NONE && it->due < q->from) || (q->to != CC_DATE_NONE && it->due > q->to) ||
            !in[it->team] || (q->clock && it->rule != clock) || (q->worker && it->worker != worker))
            continue;
        int y, m, d;
        cc_date_to_ymd(it->due, &y, &m, &d);
        uint32_t month = (uint32_t)(y * 12 + m - 1);
        uint32_t team = q->mode == CC__TEAMS_EACH ? it->team : 0;
        uint32_t who = q->by_worker ? it->worker : 0;
        uint64_t key = ((uint64_t)it->rule << 51) ^ ((uint64_t)month << 33) ^ ((uint64_t)team << 24) ^
                       ((uint64_t)who << 3) ^ it->status;
        /* The key mixes: find the entry and compare it whole. */
        size_t *slot = keymap_slot(&map, key, naggs);
        if (slot == NULL) {
            rc = CC_ENOMEM;
            break;
        }
        while (*slot != naggs && (aggs[*slot].rule != it->rule || aggs[*slot].month != month ||
                                  aggs[*slot].team != team || aggs[*slot].worker != who ||
                                  aggs[*slot].status != it->status)) {
            key = mix(key + 1); /* a collision of two groups: try another key */
            if ((slot = keymap_slot(&map, key, naggs)) == NULL) {
                rc = CC_ENOMEM;
                break;
            }
        }
        if (rc != 0)
            break;
        if (*slot == naggs) {
            if (cc__grow(&aggs, &capaggs, naggs + 1, sizeof(*aggs), 256) != 0) {
                rc = CC_ENOMEM;
                break;
            }
            aggs[naggs++] = (agg_t){it->rule, month, team, who, it->status, 0};
        }
        aggs[*slot].n++;
    }
    if (rc == 0 && q->max_groups > 0) {
        /* Groups are (clock, period, team, worker): count them first. */
        keymap_t seen = {0};
        size_t ngroups = 0;
        for (size_t i = 0; rc == 0 && i < naggs; i++) {
            const agg_t *a = &aggs[i];
            uint64_t key = ((uint64_t)a->rule << 51) ^ ((uint64_t)period_key(q->by, a->month) << 33) ^
                           ((uint64_t)a->team << 24) ^ ((uint64_t)a->worker << 3);
            size_t *slot = keymap_slot(&seen, key, ngroups);
            if (slot == NULL)
                rc = CC_ENOMEM;
            else if (*slot == ngroups)
                ngroups++; /* distinct groups that share a key count once: a floor, near enough */
        }
        keymap_free(&seen);
        if (groups != NULL)
            *groups = ngroups;
        if (rc == 0 && ngroups > q->max_groups) {
            rc = CC_ERANGE;
            goto done;
        }
    }
    for (size_t i = 0; rc == 0 && i < naggs; i++) {
        const agg_t *a = &aggs[i];
        int y = (int)(a->month / 12), m = (int)(a->month % 12) + 1;
        cc_date_t due = cc_date_from_ymd(y, m, 1);
        if (q->from != CC_DATE_NONE && due < q->from)
            due = q->from; /* inside the period, in the same month */
        cc_report_item_t item = {.rule_id = c->rules.ids[a->rule], .title = c->rules.names[a->rule],
                                 .team_id = c->teams.ids[a->team],
                                 .team_name = q->mode == CC__TEAMS_TOGETHER ? "All teams" : c->teams.names[a->team],
                                 .worker_id = c->staff.ids[a->worker], .worker_name = c->staff.names[a->worker],
                                 .due = due, .status = cc_status_name((cc_status_t)a->status), .count = a->n};
        rc = cc_report_add(out, &item);
    }
done:
    if (rc == 0 || rc == CC_ERANGE) {
        int end = cc_report_end(out);
        if (rc == 0)
            rc = end;
    }
    free(in);
    free(aggs);
    keymap_free(&map);
    return rc;
}

/* ---- counts now --------------------------------------------------------------- */

void cc__now_free(cc__now_t *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nrows; i++) {
        free(n->rows[i].id);
        free(n->rows[i].name);
    }
    free(n->rows);
    memset(n, 0, sizeof(*n));
}

/* The row of key (made when new). */
static cc__now_row_t *row_for(cc__now_t *out, size_t *cap, keymap_t *map, size_t key, const char *id,
                              const char *name)
{
    size_t *slot = keymap_slot(map, key, out->nrows);
    if (slot == NULL)
        return NULL;
    if (*slot == out->nrows) {
        if (cc__grow(&out->rows, cap, out->nrows + 1, sizeof(*out->rows), 16) != 0)
            return NULL;
        cc__now_row_t *r = &out->rows[out->nrows];
        memset(r, 0, sizeof(*r));
        r->id = strdup(id);
        r->name = strdup(name);
        if (r->id == NULL || r->name == NULL) {
            free(r->id);
            free(r->name);
            return NULL;
        }
        out->nrows++;
    }
    return &out->rows[*slot];
}

static int row_cmp(const void *a, const void *b)
{
    const cc__now_row_t *x = a, *y = b;
    return strcmp(x->id, y->id);
}

int cc__webcache_now(const cc__webcache_t *c, const char *const *teams, size_t nteams, int by_worker, cc__now_t *out)
{
    memset(out, 0, sizeof(*out));
    unsigned char *in = team_set(c, teams, nteams);
    keymap_t map = {0};
    size_t cap = 0;
    int rc = in ? 0 : CC_ENOMEM;
    /* Every team in scope (or worker) gets a row, even with nothing now. */
    for (size_t i = 0; rc == 0 && i < c->nheld; i++) {
        const held_t *h = &c->held[i];
        if (!in[h->team])
            continue;
        size_t k = by_worker ? h->worker : h->team;
        const names_t *n = by_worker ? &c->staff : &c->teams;
        cc__now_row_t *r = row_for(out, &cap, &map, k, n->ids[k], n->names[k]);
        if (r == NULL) {
            rc = CC_ENOMEM;
            break;
        }
        r->children += h->children;
        out->total.children += h->children;
    }
    for (size_t i = 0; rc == 0 && i < c->nnow; i++) {
        const now_t *e = &c->now[i];
        if (!in[e->team])
            continue;
        size_t k = by_worker ? e->worker : e->team;
        const names_t *n = by_worker ? &c->staff : &c->teams;
        cc__now_row_t *r = row_for(out, &cap, &map, k, n->ids[k], n->names[k]);
        if (r == NULL) {
            rc = CC_ENOMEM;
            break;
        }
        r->n[e->status] += e->n;
        out->total.n[e->status] += e->n;
    }
    if (rc == 0 && teams != NULL && !by_worker) {
        /* Teams in scope with no child at all still get their row. */
        for (size_t i = 0; rc == 0 && i < nteams; i++) {
            size_t t = find(&c->teams, teams[i]);
            if (t != (size_t)-1 && row_for(out, &cap, &map, t, c->teams.ids[t], c->teams.names[t]) == NULL)
                rc = CC_ENOMEM;
        }
    }
    free(in);
    keymap_free(&map);
    if (rc != 0) {
        cc__now_free(out);
        return rc;
    }
    if (out->nrows > 1)
        qsort(out->rows, out->nrows, sizeof(*out->rows), row_cmp);
    return 0;
}

int cc__webcache_now_by_clock(const cc__webcache_t *c, const cc_ruleset_t *rs, const char *const *teams,
                              size_t nteams, cc__now_t *out)
{
    memset(out, 0, sizeof(*out));
    unsigned char *in = team_set(c, teams, nteams);
    keymap_t map = {0};
    size_t cap = 0;
    int rc = in ? 0 : CC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < c->nnow; i++) {
        const now_t *e = &c->now[i];
        if (!in[e->team])
            continue;
        cc__now_row_t *r = row_for(out, &cap, &map, e->rule, c->rules.ids[e->rule], c->rules.names[e->rule]);
        if (r == NULL) {
            rc = CC_ENOMEM;
            break;
        }
        r->n[e->status] += e->n;
        out->total.n[e->status] += e->n;
    }
    free(in);
    keymap_free(&map);
    if (rc != 0) {
        cc__now_free(out);
        return rc;
    }
    /* In the rule files' order; clocks no longer loaded (and data errors) last. */
    for (size_t i = 1; i < out->nrows; i++)
        for (size_t j = i; j > 0; j--) {
            const cc_rule_t *a = rs ? cc_ruleset_find(rs, out->rows[j - 1].id) : NULL;
            const cc_rule_t *b = rs ? cc_ruleset_find(rs, out->rows[j].id) : NULL;
            size_t ia = a ? cc_ruleset_index(rs, a) : (size_t)-1, ib = b ? cc_ruleset_index(rs, b) : (size_t)-1;
            if (ia < ib || (ia == ib && strcmp(out->rows[j - 1].id, out->rows[j].id) <= 0))
                break;
            cc__now_row_t t = out->rows[j];
            out->rows[j] = out->rows[j - 1];
            out->rows[j - 1] = t;
        }
    return 0;
}
