/* Benchmark: the evaluation layer on an existing plan database, in process.
 *
 * Opens --db with the built-in configuration (the default rules and the
 * england-and-wales calendar, as careclockd without --config), then runs
 * one of the evaluation entry points --runs times and prints, per run, the
 * wall time, the children and clocks evaluated, the rows written and
 * removed, and clocks per second; finally the process's peak RSS (VmHWM).
 *
 *   --mode all      cc_evaluate_all: the full recompute (every child through
 *                   the engine, every row compared, changed rows written)
 *   --mode refresh  cc_evaluate_refresh: what the CLI and careclockd do
 *                   (full when the day or the rules changed, else the queue)
 *   --mode changes  cc_evaluate_changes: the change queue only
 *
 * --today DATE sets the evaluation day (default 2026-11-20); --today2 DATE
 * makes every second run use that day instead (a day change between runs).
 * --cache-kib N sets the connection's page cache first (an experiment: a
 * full recompute sets its own 64 MiB when the connection has less).
 * --commit-rows N sets the rows a first computation commits at a time
 * (cc_evaluate_set_commit_rows; a very large N gives one transaction).
 *
 * usage: bench_eval --db PATH [--mode all|refresh|changes] [--runs N]
 *                   [--today YYYY-MM-DD] [--today2 YYYY-MM-DD] [--cache-kib N]
 *                   [--commit-rows N]
 */
#include "careclock/date.h"
#include "careclock/env.h"
#include "careclock/error.h"
#include "careclock/evaluate.h"
#include "careclock/store.h"
#include "careclock/time.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

int main(int argc, char **argv)
{
    const char *db = NULL, *mode = "all", *today_s = "2026-11-20", *today2_s = NULL;
    int runs = 1;
    long cache_kib = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
            mode = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--today") == 0 && i + 1 < argc)
            today_s = argv[++i];
        else if (strcmp(argv[i], "--today2") == 0 && i + 1 < argc)
            today2_s = argv[++i];
        else if (strcmp(argv[i], "--cache-kib") == 0 && i + 1 < argc)
            cache_kib = atol(argv[++i]);
        else if (strcmp(argv[i], "--commit-rows") == 0 && i + 1 < argc)
            cc_evaluate_set_commit_rows((size_t)strtoull(argv[++i], NULL, 10));
        else {
            fprintf(stderr, "usage: bench_eval --db PATH [--mode all|refresh|changes] [--runs N] [--today DATE] "
                            "[--today2 DATE] [--cache-kib N] [--commit-rows N]\n");
            return 2;
        }
    }
    cc_date_t today, today2;
    if (db == NULL || cc_date_parse(today_s, &today) != 0 || (today2_s && cc_date_parse(today2_s, &today2) != 0)) {
        fprintf(stderr, "bench_eval: --db and valid dates are required\n");
        return 2;
    }
    char err[1024];
    cc_env_t env;
    cc_store_t *store = NULL;
    if (cc_env_load(&env, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_eval: %s\n", err);
        return 1;
    }
    if (cc_store_open_existing(db, &store, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_eval: %s\n", err);
        cc_env_free(&env);
        return 1;
    }
    if (cache_kib > 0) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%ld", cache_kib);
        sqlite3_exec(cc_store_db(store), sql, NULL, NULL, NULL);
    }
    int status = 0;
    for (int r = 0; r < runs && status == 0; r++) {
        cc_eval_stats_t st = {0};
        char now[32];
        cc_date_t day = (today2_s && r % 2 == 1) ? today2 : today;
        cc_time_format_utc(time(NULL), now, sizeof(now));
        double t0 = now_s();
        int rc;
        if (strcmp(mode, "refresh") == 0)
            rc = cc_evaluate_refresh(store, env.rules, env.cal, day, env.fingerprint, now, &st);
        else if (strcmp(mode, "changes") == 0)
            rc = cc_evaluate_changes(store, env.rules, env.cal, day, now, &st);
        else
            rc = cc_evaluate_all(store, env.rules, env.cal, day, env.fingerprint, now, &st);
        double secs = now_s() - t0;
        if (rc != 0) {
            fprintf(stderr, "bench_eval: %s: %s\n", cc_strerror(rc), sqlite3_errmsg(cc_store_db(store)));
            status = 1;
            break;
        }
        char d[CC_DATE_STRLEN];
        printf("eval mode=%s run=%d today=%s seconds=%.3f children=%zu clocks=%zu written=%zu removed=%zu "
               "data_errors=%zu commits=%zu clocks_per_s=%.0f\n",
               mode, r + 1, cc_date_format(day, d), secs, st.children, st.clocks, st.written, st.deleted,
               st.data_errors, st.commits, secs > 0 ? (double)st.clocks / secs : 0.0);
        fflush(stdout);
    }
    printf("eval peak_rss_kb=%ld\n", vm_hwm_kb());
    cc_store_close(store);
    cc_env_free(&env);
    return status;
}
