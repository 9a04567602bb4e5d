/* careclock.conf reader. Unknown keys in a section careclock owns are
 * errors (a typo must not silently fall back to a default); sections that
 * later modules own are read by those modules. */
#include "careclock/config.h"
#include "careclock/error.h"
#include "careclock/paths.h"

#include "careclock/inifile.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void set_str(char **slot, const char *value)
{
    free(*slot);
    *slot = dup_or_null(value);
}

static void clear_list(char **list, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free(list[i]);
    *n = 0;
}

int cc_config_defaults(cc_config_t *config)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];
    memset(config, 0, sizeof(*config));
    cc_paths_datadir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/rules/england.rules", dir);
    config->rules[config->nrules++] = strdup(path);
    snprintf(path, sizeof(path), "%s/holidays", dir);
    config->holiday_dir = strdup(path);
    config->division = strdup("england-and-wales");
    config->timezone = strdup("Europe/London");
    config->privacy = CC_PRIVACY_INITIALS;
    if (config->rules[0] == NULL || config->holiday_dir == NULL || config->division == NULL ||
        config->timezone == NULL) {
        cc_config_free(config);
        return CC_ENOMEM;
    }
    return 0;
}

void cc_config_free(cc_config_t *config)
{
    free(config->database);
    clear_list(config->rules, &config->nrules);
    free(config->division);
    free(config->holiday_dir);
    clear_list(config->holidays, &config->nholidays);
    free(config->timezone);
    memset(config, 0, sizeof(*config));
}

const char *cc_privacy_name(cc_privacy_t privacy)
{
    switch (privacy) {
    case CC_PRIVACY_REFERENCE: return "reference";
    case CC_PRIVACY_FULL: return "full";
    default: return "initials";
    }
}

typedef struct {
    cc_config_t *config;
    const char *path;
    char dir[PATH_MAX];
    int line;
    char *err;
    size_t errlen;
    int failed;
    int rules_seen, holidays_seen;
} reader_t;

/* Paths in the file are relative to the file's directory. A path too long
 * for out is cut, and then fails to open with its name in the message. */
static void resolve(const reader_t *r, const char *value, char *out, size_t len)
{
    int n;
    if (value[0] == '/' || r->dir[0] == '\0')
        n = snprintf(out, len, "%s", value);
    else
        n = snprintf(out, len, "%s/%s", r->dir, value);
    if (n < 0 || (size_t)n >= len)
        out[len - 1] = '\0';
}

static int fail(reader_t *r, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Record the first error as "FILE:LINE: key: message"; returns 0 for inih. */
static int fail(reader_t *r, const char *key, const char *fmt, ...)
{
    if (!r->failed) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(r->err, r->errlen, "%s:%d: %s: %s", r->path, r->line, key, msg);
    }
    r->failed = 1;
    return 0;
}

/* Split a list value on commas and whitespace into list (replacing it the
 * first time the key is seen in this file, appending after). */
static int add_list(reader_t *r, const char *key, const char *value, char **list, size_t *n, int *seen)
{
    char copy[4096], path[PATH_MAX];
    if (!*seen)
        clear_list(list, n);
    *seen = 1;
    snprintf(copy, sizeof(copy), "%s", value);
    for (char *save = NULL, *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        if (*n >= CC_CONFIG_MAX_FILES)
            return fail(r, key, "more than 16 files in \"%s\"", value);
        resolve(r, tok, path, sizeof(path));
        list[(*n)++] = strdup(path);
    }
    return 1;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    reader_t *r = user;
    cc_config_t *c = r->config;
    char path[PATH_MAX];
    if (r->failed)
        return 0;
    if (strcmp(section, "careclock") != 0)
        return 1; /* sections of later modules (http, smtp, notify, webhook:*) */
    if (strcmp(key, "database") == 0) {
        resolve(r, value, path, sizeof(path));
        set_str(&c->database, path);
    } else if (strcmp(key, "rules") == 0) {
        return add_list(r, key, value, c->rules, &c->nrules, &r->rules_seen);
    } else if (strcmp(key, "holidays") == 0) {
        return add_list(r, key, value, c->holidays, &c->nholidays, &r->holidays_seen);
    } else if (strcmp(key, "holiday_dir") == 0) {
        resolve(r, value, path, sizeof(path));
        set_str(&c->holiday_dir, path);
    } else if (strcmp(key, "division") == 0) {
        if (strcmp(value, "england-and-wales") != 0 && strcmp(value, "scotland") != 0 &&
            strcmp(value, "northern-ireland") != 0)
            return fail(r, key, "\"%s\" is not england-and-wales, scotland or northern-ireland", value);
        set_str(&c->division, value);
    } else if (strcmp(key, "timezone") == 0) {
        set_str(&c->timezone, value);
    } else if (strcmp(key, "privacy") == 0) {
        if (strcmp(value, "initials") == 0)
            c->privacy = CC_PRIVACY_INITIALS;
        else if (strcmp(value, "reference") == 0)
            c->privacy = CC_PRIVACY_REFERENCE;
        else if (strcmp(value, "full") == 0)
            c->privacy = CC_PRIVACY_FULL;
        else
            return fail(r, key, "\"%s\" is not initials, reference or full", value);
    } else {
        return fail(r, key, "unknown key in [careclock] (value \"%s\")", value);
    }
    return 1;
}

int cc_config_load(cc_config_t *config, const char *path, char *err, size_t errlen)
{
    reader_t r = {.config = config, .path = path, .err = err, .errlen = errlen};
    const char *slash = strrchr(path, '/');
    if (slash != NULL)
        snprintf(r.dir, sizeof(r.dir), "%.*s", (int)(slash - path), path);
    int rc = cc__ini_parse(path, handler, &r, &r.line);
    if (rc == CC_EIO) {
        snprintf(err, errlen, "%s: cannot read configuration file", path);
        return CC_EIO;
    }
    if (r.failed)
        return CC_EPARSE;
    if (rc > 0) {
        snprintf(err, errlen, "%s:%d: not a valid line (expected [section], key = value or a ; comment, at most %d characters)", path, rc, CC_INI_MAX_LINE - 2);
        return CC_EPARSE;
    }
    return 0;
}
