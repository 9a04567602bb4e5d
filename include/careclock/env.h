/* The working environment shared by careclockd and the CLI: the
 * configuration (built-in defaults, then the file), the rule set it names,
 * the working-day calendar, and a fingerprint of the rule and holiday files
 * (a changed fingerprint means every clock must be recomputed). */
#ifndef CARECLOCK_ENV_H
#define CARECLOCK_ENV_H

#include "careclock/calendar.h"
#include "careclock/config.h"
#include "careclock/rules.h"

typedef struct {
    cc_config_t config;
    cc_planner_settings_t planner; /* the planner's view of config (borrows its strings) */
    cc_ruleset_t *rules;
    cc_calendar_t *cal;
    char fingerprint[17];
} cc_env_t;

/* Load defaults, then config_path (may be NULL), then the rules and the
 * calendar into env. Returns 0; or CC_EIO / CC_EPARSE / CC_EINVAL /
 * CC_ENOMEM with the reason (naming file and line) in err, env then empty.
 * Free with cc_env_free(). */
int cc_env_load(cc_env_t *env, const char *config_path, char *err, size_t errlen);

/* Free what env holds; an empty env is fine. */
void cc_env_free(cc_env_t *env);

#endif
