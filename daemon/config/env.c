#include "careclock/env.h"
#include "careclock/error.h"
#include "careclock/evaluate.h"

#include <stdio.h>
#include <string.h>

static void fingerprint(cc_env_t *env)
{
    const char *files[2 * CC_CONFIG_MAX_FILES + 1];
    char divfile[4096];
    size_t n = 0;
    for (size_t i = 0; i < env->config.nrules; i++)
        files[n++] = env->config.rules[i];
    snprintf(divfile, sizeof(divfile), "%s/%s.ics", env->config.holiday_dir, env->config.division);
    files[n++] = divfile;
    for (size_t i = 0; i < env->config.nholidays; i++)
        files[n++] = env->config.holidays[i];
    cc_evaluate_fingerprint(files, n, env->fingerprint);
}

int cc_env_load(cc_env_t *env, const char *config_path, char *err, size_t errlen)
{
    int rc;
    memset(env, 0, sizeof(*env));
    rc = cc_config_defaults(&env->config);
    if (rc != 0) {
        snprintf(err, errlen, "%s", cc_strerror(rc));
        return rc;
    }
    if (config_path != NULL && (rc = cc_config_load(&env->config, config_path, err, errlen)) != 0)
        goto fail;
    rc = cc_ruleset_load((const char *const *)env->config.rules, env->config.nrules, &env->rules, err, errlen);
    if (rc != 0)
        goto fail;
    rc = cc_calendar_open(env->config.holiday_dir, env->config.division, (const char *const *)env->config.holidays,
                          env->config.nholidays, &env->cal, err, errlen);
    if (rc != 0)
        goto fail;
    fingerprint(env);
    return 0;
fail:
    cc_env_free(env);
    return rc;
}

void cc_env_free(cc_env_t *env)
{
    cc_ruleset_free(env->rules);
    cc_calendar_free(env->cal);
    cc_config_free(&env->config);
    memset(env, 0, sizeof(*env));
}
