/* careclock.conf: the configuration shared by careclockd and the CLI.
 * INI, read with inih; documented line by line in config/careclock.conf.
 * Every error names the file, the line and the key. */
#ifndef CARECLOCK_CONFIG_H
#define CARECLOCK_CONFIG_H

#include <stddef.h>

#define CC_CONFIG_MAX_FILES 16

typedef enum { CC_PRIVACY_INITIALS, CC_PRIVACY_REFERENCE, CC_PRIVACY_FULL } cc_privacy_t;

typedef struct {
    char *database;                          /* NULL: the caller's default */
    char *rules[CC_CONFIG_MAX_FILES];        /* in load order; later overrides earlier */
    size_t nrules;
    char *division;                          /* england-and-wales by default */
    char *holiday_dir;                       /* directory holding <division>.ics */
    char *holidays[CC_CONFIG_MAX_FILES];     /* a council's own ICS files, added */
    size_t nholidays;
    char *timezone;                          /* Europe/London */
    cc_privacy_t privacy;
} cc_config_t;

/* Fill *config with the built-in defaults (shipped rules and holidays found
 * through cc_paths_datadir()). Returns 0 or CC_ENOMEM. */
int cc_config_defaults(cc_config_t *config);

/* Read path over the values already in *config. Returns 0, or CC_EIO /
 * CC_EPARSE with "FILE:LINE: key: what is wrong" in err. Relative paths in
 * the file are taken relative to the file's directory. */
int cc_config_load(cc_config_t *config, const char *path, char *err, size_t errlen);

/* Free every string the config holds (the struct is the caller's). */
void cc_config_free(cc_config_t *config);

const char *cc_privacy_name(cc_privacy_t privacy);

#endif
