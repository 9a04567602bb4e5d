#include "careclock/env.h"
#include "careclock/error.h"
#include "careclock/holidays.h"
#include "careclock/rulefiles.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* FNV-1a over each file's name and bytes (a missing file counts by name),
 * as 16 hex digits: a changed rule or holiday file changes it. */
static void hash_files(const char *const *files, size_t n, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    unsigned char block[8192];
    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(files[i], "rb");
        for (const char *p = files[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        if (f == NULL)
            continue;
        size_t got;
        while ((got = fread(block, 1, sizeof(block), f)) > 0)
            for (size_t j = 0; j < got; j++)
                h = (h ^ block[j]) * 1099511628211ULL;
        fclose(f);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

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
    hash_files(files, n, env->fingerprint);
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
    rc = cc_rulefiles_load((const char *const *)env->config.rules, env->config.nrules, &env->rules, err, errlen);
    if (rc != 0)
        goto fail;
    rc = cc_holidays_open(env->config.holiday_dir, env->config.division, (const char *const *)env->config.holidays,
                          env->config.nholidays, &env->cal, err, errlen);
    if (rc != 0)
        goto fail;
    cc_config_planner_settings(&env->config, &env->planner);
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
