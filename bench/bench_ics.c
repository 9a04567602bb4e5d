/* Benchmark: rendering one calendar feed of many events.
 *
 * Three figures, each the best and the median of --runs passes:
 *  1. render: cc_ics_render() of --events clock rows held in memory (the
 *     pure renderer: libical building and serialising the calendar);
 *  2. load + render: cc_feeds_render() of a team feed with the same number
 *     of clocks in a real SQLite plan database in a temporary directory
 *     (what careclock ics and the daemon do on a cache miss);
 *  3. etag: cc_http_etag() of the rendered body (SHA-256; the daemon
 *     computes it once per render, not per request).
 * Rows are deterministic: --events / 10 children with ten clocks each, in
 * every status, with realistic titles, sources and names.
 *
 * --out FILE writes the rendered feed (for serving the same bytes from a
 * web server in an HTTP benchmark).
 *
 * usage: bench_ics [--events N] [--runs R] [--tmp DIR] [--out FILE]
 */
#include "careclock/buf.h"
#include "careclock/config.h"
#include "careclock/date.h"
#include "careclock/error.h"
#include "careclock/feeds.h"
#include "careclock/http.h"
#include "careclock/ics.h"
#include "careclock/store.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, uint64_t *ns, int runs, size_t events, size_t bytes)
{
    qsort(ns, (size_t)runs, sizeof(*ns), cmp_u64);
    double best = ns[0] / 1e6, median = ns[runs / 2] / 1e6;
    printf("%-14s %zu events, %zu bytes: best %.2f ms, median %.2f ms per feed (%.2f us per event, %.0f MB/s)\n",
           what, events, bytes, best, median, best * 1000.0 / (double)events, (double)bytes / (best / 1e3) / 1e6);
}

static const struct {
    const char *rule, *title, *source, *event;
} RULES[10] = {
    {"care_plan", "Care plan", "CPPCR 2010 reg 4(2); local guidance: care plan within 10 working days of the first "
                               "placement", "placement_start"},
    {"review", "LAC review", "CPPCR 2010 reg 33(1): first review within 20 working days of becoming looked after",
     "looked_after_start"},
    {"permanence_plan", "Permanence plan", "CPPCR 2010 reg 5 and local guidance: permanence plan by the second "
                                           "review", "looked_after_start"},
    {"pep", "Personal Education Plan", "local guidance (education chapter): PEP at placement if planned",
     "placement_start"},
    {"review_minutes", "Review minutes", "local audit standard: minutes within 5 working days", "review_held"},
    {"iro_report", "IRO review report", "local guidance: report circulated within 20 working days", "review_held"},
    {"visit", "Statutory visit", "CPPCR 2010 reg 28: within 1 week of a placement starting, then every 6 weeks",
     "placement_start"},
    {"health_assessment", "Health assessment", "CPPCR 2010 reg 7 and statutory guidance", "looked_after_start"},
    {"sgo_report", "SGO report", "local guidance: special guardianship report within 12 weeks", "sgo_notice"},
    {"review_report_to_iro", "Review report to IRO", "local guidance: 3 working days before the review",
     "review_scheduled"},
};

static const char *const STATUSES[] = {"open", "due_soon", "overdue", "met", "met_late", "open", "open", "cancelled",
                                       "open", "overdue"};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A plan database with one team and events/10 children of ten clocks. */
static int make_db(const char *path, size_t children, const char *today)
{
    char err[512];
    cc_store_t *s = NULL;
    sqlite3_stmt *child = NULL, *clock = NULL;
    if (cc_store_open(path, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_ics: %s\n", err);
        return -1;
    }
    sqlite3 *db = cc_store_db(s);
    int ok = sqlite3_exec(db,
                          "BEGIN;"
                          "INSERT INTO staff (id, name, role) VALUES ('TM1', 'Tom Manager', 'team_manager'),"
                          " ('W1', 'Wendy Worker', 'worker'), ('W2', 'Siân Ní Bhriain', 'worker');"
                          "INSERT INTO teams (id, name, manager_id) VALUES ('T1', 'Children in care, East', 'TM1');",
                          NULL, NULL, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(db,
                                "INSERT INTO children (id, initials, full_name, dob, team_id, worker_id) VALUES "
                                "(?1, ?2, 'Name Withheld', '2014-05-01', 'T1', ?3)",
                                -1, &child, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(db,
                                "INSERT INTO clocks (child_id, rule_id, seq, title, start_date, due_date, status, "
                                "met_on, source, updated_at, sequence, instance) VALUES (?1, ?2, 1, ?3, "
                                "date(?4, '-20 days'), date(?4, ?5), ?6, CASE WHEN ?6 IN ('met', 'met_late') THEN "
                                "date(?4, '-2 days') END, ?7, '2026-11-20T09:15:00Z', ?8, '1.1')",
                                -1, &clock, NULL) == SQLITE_OK;
    for (size_t c = 0; ok && c < children; c++) {
        char id[32], initials[8], offset[16];
        snprintf(id, sizeof(id), "C%06zu", 100000 + c * 7);
        snprintf(initials, sizeof(initials), "%c.%c.", 'A' + (int)(c % 26), 'A' + (int)((c * 7) % 26));
        sqlite3_reset(child);
        sqlite3_bind_text(child, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(child, 2, initials, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(child, 3, c % 2 ? "W1" : "W2", -1, SQLITE_STATIC);
        ok = sqlite3_step(child) == SQLITE_DONE;
        for (int r = 0; ok && r < 10; r++) {
            snprintf(offset, sizeof(offset), "%+d days", (int)((c * 13 + (size_t)r * 17) % 120) - 40);
            sqlite3_reset(clock);
            sqlite3_bind_text(clock, 1, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(clock, 2, RULES[r].rule, -1, SQLITE_STATIC);
            sqlite3_bind_text(clock, 3, RULES[r].title, -1, SQLITE_STATIC);
            sqlite3_bind_text(clock, 4, today, -1, SQLITE_STATIC);
            sqlite3_bind_text(clock, 5, offset, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(clock, 6, STATUSES[(c + (size_t)r) % 10], -1, SQLITE_STATIC);
            sqlite3_bind_text(clock, 7, RULES[r].source, -1, SQLITE_STATIC);
            sqlite3_bind_int(clock, 8, (int)(c % 4));
            ok = sqlite3_step(clock) == SQLITE_DONE;
        }
    }
    sqlite3_finalize(child);
    sqlite3_finalize(clock);
    ok = ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    if (!ok)
        fprintf(stderr, "bench_ics: building the database failed: %s\n", sqlite3_errmsg(db));
    cc_store_close(s);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    size_t events = 2000;
    int runs = 30;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", *out_path = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--events") == 0)
            events = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--tmp") == 0)
            tmp = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            out_path = argv[i + 1];
    }
    if (events < 10 || runs < 1) {
        fprintf(stderr, "usage: bench_ics [--events N>=10] [--runs R>=1] [--tmp DIR] [--out FILE]\n");
        return 2;
    }
    size_t children = events / 10;
    events = children * 10;
    const char *today_text = "2026-11-30";
    cc_date_t today;
    cc_date_parse_iso(today_text, &today);
    cc_config_t config;
    if (cc_config_defaults(&config) != 0)
        return 1;
    config.feed_retention_days = 3650; /* keep every event in the feed */

    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s/careclock-bench-ics-XXXXXX", tmp);
    if (mkdtemp(dir) == NULL) {
        perror("bench_ics: mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/plan.db", dir);
    int status = 1;
    cc_store_t *store = NULL;
    cc_feed_clocks_t clocks = {0};
    cc_buf_t out;
    char err[512];
    uint64_t *ns = calloc((size_t)runs, sizeof(*ns));
    cc_buf_init(&out);
    if (ns == NULL || make_db(path, children, today_text) != 0 ||
        cc_store_open_existing(path, &store, err, sizeof(err)) != 0)
        goto out;
    /* The in-memory rows: exactly what the database yields. */
    if (cc_feeds_load(store, CC_FEED_TEAM, "T1", CC_DATE_NONE, 0, &clocks, err, sizeof(err)) != 0 ||
        clocks.len != events) {
        fprintf(stderr, "bench_ics: loading the feed failed: %s\n", err);
        goto out;
    }
    cc_ics_feed_t feed = {.name = clocks.name,
                          .timezone = "Europe/London",
                          .ttl_minutes = 60,
                          .privacy = CC_PRIVACY_INITIALS,
                          .today = today,
                          .retention_days = 3650};
    cc_ics_info_t info;
    size_t bytes = 0;
    for (int r = 0; r < runs; r++) {
        cc_buf_reset(&out);
        uint64_t t0 = now_ns();
        if (cc_ics_render(&feed, clocks.items, clocks.len, &out, &info, err, sizeof(err)) != 0) {
            fprintf(stderr, "bench_ics: render failed: %s\n", err);
            goto out;
        }
        ns[r] = now_ns() - t0;
        bytes = out.len;
    }
    if (info.events != events) {
        fprintf(stderr, "bench_ics: %zu events rendered, expected %zu\n", info.events, events);
        goto out;
    }
    report("render:", ns, runs, events, bytes);

    for (int r = 0; r < runs; r++) {
        cc_buf_reset(&out);
        uint64_t t0 = now_ns();
        if (cc_feeds_render(store, CC_FEED_TEAM, "T1", &config, NULL, today, &out, &info, err, sizeof(err)) != 0) {
            fprintf(stderr, "bench_ics: feed render failed: %s\n", err);
            goto out;
        }
        ns[r] = now_ns() - t0;
    }
    report("load+render:", ns, runs, info.events, out.len);

    char etag[CC_HTTP_ETAG_SIZE];
    for (int r = 0; r < runs; r++) {
        uint64_t t0 = now_ns();
        cc_http_etag(out.data, out.len, etag);
        ns[r] = now_ns() - t0;
    }
    report("etag:", ns, runs, info.events, out.len);
    if (out_path != NULL) {
        FILE *f = fopen(out_path, "wb");
        if (f == NULL || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0) {
            perror(out_path);
            goto out;
        }
        printf("feed written to %s, ETag %s\n", out_path, etag);
    }
    status = 0;
out:
    cc_buf_free(&out);
    cc_feeds_clocks_free(&clocks);
    cc_store_close(store);
    cc_config_free(&config);
    free(ns);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return status;
}
