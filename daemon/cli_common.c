/* Shared set-up for CLI commands: configuration, rules, calendar. */
#include "careclock/cli.h"
#include "careclock/error.h"

#include <stdio.h>
#include <string.h>

int cc_cli_env_load(const cc_cli_t *cli, cc_cli_env_t *env)
{
    char err[1024];
    int rc;
    memset(env, 0, sizeof(*env));
    rc = cc_config_defaults(&env->config);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", cli->prog, cc_strerror(rc));
        return CC_EXIT_FAIL;
    }
    if (cli->config_path != NULL) {
        rc = cc_config_load(&env->config, cli->config_path, err, sizeof(err));
        if (rc != 0)
            goto fail;
    }
    rc = cc_ruleset_load((const char *const *)env->config.rules, env->config.nrules, &env->rules, err,
                         sizeof(err));
    if (rc != 0)
        goto fail;
    rc = cc_calendar_open(env->config.holiday_dir, env->config.division,
                          (const char *const *)env->config.holidays, env->config.nholidays, &env->cal, err,
                          sizeof(err));
    if (rc != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "%s: %s\n", cli->prog, err);
    cc_cli_env_free(env);
    return rc == CC_EIO ? CC_EXIT_FAIL : CC_EXIT_USAGE;
}

void cc_cli_env_free(cc_cli_env_t *env)
{
    cc_ruleset_free(env->rules);
    cc_calendar_free(env->cal);
    cc_config_free(&env->config);
    memset(env, 0, sizeof(*env));
}
