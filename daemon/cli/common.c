/* Shared set-up for CLI commands: configuration, rules, calendar. */
#include "cli/cli.h"
#include "careclock/error.h"
#include "careclock/evaluate.h"
#include "careclock/time.h"

#include <stdio.h>
#include <string.h>

int cc_cli_env_load(const cc_cli_t *cli, cc_cli_env_t *env)
{
    char err[1024];
    int rc = cc_env_load(env, cli->config_path, err, sizeof(err));
    if (rc == 0)
        return 0;
    fprintf(stderr, "%s: %s\n", cli->prog, err);
    return rc == CC_EIO || rc == CC_ENOMEM ? CC_EXIT_FAIL : CC_EXIT_USAGE;
}

void cc_cli_env_free(cc_cli_env_t *env)
{
    cc_env_free(env);
}

int cc_cli_open_db(const cc_cli_t *cli, cc_store_t **store)
{
    char err[512];
    int rc = cc_store_open_existing(cli->db_path, store, err, sizeof(err));
    if (rc == CC_ENOTFOUND) {
        fprintf(stderr, "%s: database \"%s\" does not exist; run careclock init first (or give --db PATH)\n",
                cli->prog, cli->db_path);
        return CC_EXIT_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", cli->prog, err);
        return CC_EXIT_FAIL;
    }
    return 0;
}

int cc_cli_refresh(const cc_cli_t *cli, cc_cli_env_t *env, cc_store_t *store)
{
    char now[32];
    cc_eval_stats_t stats = {0};
    int rc = cc_evaluate_refresh(store, env->rules, env->cal, cli->today, env->fingerprint,
                                 cc_time_format_utc(cli->now, now, sizeof(now)), &stats);
    if (rc != 0) {
        fprintf(stderr, "%s: recomputing clocks failed: %s (%s)\n", cli->prog, cc_strerror(rc),
                cc_store_errmsg(store, NULL));
        return CC_EXIT_FAIL;
    }
    if (stats.uncovered > 0) {
        int first, last;
        cc_calendar_coverage(env->cal, &first, &last);
        fprintf(stderr,
                "%s: warning: %zu clock(s) count working days outside %d-%d, the years the holiday "
                "calendar covers; only weekends were skipped there\n",
                cli->prog, stats.uncovered, first, last);
    }
    return 0;
}
