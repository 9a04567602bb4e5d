/* careclock.conf reader. Unknown keys in a section careclock owns are
 * errors (a typo must not silently fall back to a default); sections that
 * later modules own are read by those modules. */
#include "careclock/config.h"
#include "careclock/error.h"
#include "careclock/paths.h"
#include "careclock/payload.h"
#include "careclock/time.h"

#include "util/inifile.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CC_SYSCONFDIR
#define CC_SYSCONFDIR "/etc/careclock"
#endif
#ifndef CC_LOCALSTATEDIR
#define CC_LOCALSTATEDIR "/var"
#endif

const char *cc_config_default_path(void)
{
    return CC_SYSCONFDIR "/careclock.conf";
}

cc_config_source_t cc_config_locate(const char *option, const char *env, const char **path)
{
    struct stat st;
    if (option != NULL) {
        *path = option;
        return CC_CONFIG_FROM_OPTION;
    }
    if (env != NULL && env[0] != '\0') {
        *path = env;
        return CC_CONFIG_FROM_ENV;
    }
    if (stat(cc_config_default_path(), &st) == 0 || errno != ENOENT) {
        *path = cc_config_default_path();
        return CC_CONFIG_FROM_DEFAULT;
    }
    *path = NULL;
    return CC_CONFIG_BUILTIN;
}

const char *cc_config_source_name(cc_config_source_t source)
{
    switch (source) {
    case CC_CONFIG_FROM_OPTION: return "--config";
    case CC_CONFIG_FROM_ENV: return "$CARECLOCK_CONFIG";
    case CC_CONFIG_FROM_DEFAULT: return "the default path";
    default: return "built-in defaults";
    }
}

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
    config->database = strdup(CC_LOCALSTATEDIR "/lib/careclock/careclock.db");
    config->division = strdup("england-and-wales");
    config->timezone = strdup("Europe/London");
    config->privacy = CC_PRIVACY_INITIALS;
    config->listen = strdup("127.0.0.1:8787");
    config->admin_listen = strdup("127.0.0.1:8788");
    config->feed_ttl_minutes = 60;
    config->feed_retention_days = 30;
    config->http_max_connections = 512;
    config->http_timeout_seconds = 10;
    config->http_max_per_client = 64;
    config->http_request_seconds = 10;
    config->smtp_tls_required = 1;
    config->window_start_minute = 8 * 60;
    config->window_end_minute = 18 * 60;
    config->digest = 1;
    config->settle_seconds = 120;
    config->notify_since = CC_DATE_NONE;
    config->smtp_timeout_seconds = 60;
    config->recompute_interval_ms = 250;
    config->web_auth = CC_WEB_AUTH_EMAIL;
    config->web_proxy_header = strdup("X-Remote-Email");
    cc_netaddr_parse("127.0.0.1", &config->web_proxies[0]);
    cc_netaddr_parse("::1", &config->web_proxies[1]);
    config->nweb_proxies = 2;
    config->web_signin_minutes = 15;
    config->web_idle_minutes = 60;
    config->web_session_hours = 10;
    config->shutdown_grace_seconds = 10;
    config->unhealthy_after_seconds = 30;
    if (config->rules[0] == NULL || config->holiday_dir == NULL || config->division == NULL || config->database == NULL ||
        config->timezone == NULL || config->listen == NULL || config->web_proxy_header == NULL ||
        config->admin_listen == NULL) {
        cc_config_free(config);
        return CC_ENOMEM;
    }
    return 0;
}

void cc_config_free(cc_config_t *config)
{
    free(config->path);
    free(config->origins);
    free(config->service_user);
    free(config->database);
    clear_list(config->rules, &config->nrules);
    free(config->division);
    free(config->holiday_dir);
    clear_list(config->holidays, &config->nholidays);
    free(config->timezone);
    free(config->listen);
    free(config->admin_listen);
    free(config->public_url);
    free(config->smtp_url);
    free(config->smtp_from);
    free(config->smtp_username);
    free(config->smtp_password_file);
    free(config->smtp_helo);
    free(config->file_channel);
    free(config->web_proxy_header);
    free(config->web_proxy_signout);
    free(config->web_assets);
    for (size_t i = 0; i < config->nwebhooks; i++) {
        free(config->webhooks[i].name);
        free(config->webhooks[i].url);
        free(config->webhooks[i].secret_file);
    }
    memset(config, 0, sizeof(*config));
}

const cc_webhook_config_t *cc_config_webhook(const cc_config_t *config, const char *name)
{
    for (size_t i = 0; i < config->nwebhooks; i++)
        if (strcmp(config->webhooks[i].name, name) == 0)
            return &config->webhooks[i];
    return NULL;
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

/* "08:00" -> 480. */
static int parse_hhmm(const char *v, int *minutes)
{
    int h, m;
    char tail;
    if (strlen(v) != 5 || sscanf(v, "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 24 || m < 0 || m > 59 ||
        (h == 24 && m != 0))
        return -1;
    *minutes = h * 60 + m;
    return 0;
}

static int parse_int(const char *v, int lo, int hi, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi)
        return -1;
    *out = (int)n;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "on") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "off") == 0) {
        *out = 0;
        return 0;
    }
    return -1;
}

/* No CR, LF or other control characters: values end up in headers and URLs. */
static int clean(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return 0;
    return 1;
}

static int handle_careclock(reader_t *r, const char *key, const char *value)
{
    cc_config_t *c = r->config;
    char path[PATH_MAX];
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
        if (!cc_time_zone_known(value))
            return fail(r, key, "\"%s\" is not a time zone this machine knows (see /usr/share/zoneinfo)", value);
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

static int handle_http(reader_t *r, const char *key, const char *value)
{
    cc_config_t *c = r->config;
    if (strcmp(key, "listen") == 0 || strcmp(key, "admin_listen") == 0) {
        const char *colon = strrchr(value, ':');
        int port, admin = strcmp(key, "admin_listen") == 0;
        if (admin && strcmp(value, "off") == 0) {
            free(c->admin_listen);
            c->admin_listen = NULL;
            return 1;
        }
        if (colon == NULL || colon == value || parse_int(colon + 1, 0, 65535, &port) != 0 || !clean(value))
            return fail(r, key, "\"%s\" is not ADDRESS:PORT (%s)%s", value, admin ? "127.0.0.1:8788" : "127.0.0.1:8787",
                        admin ? " or off" : "");
        set_str(admin ? &c->admin_listen : &c->listen, value);
    } else if (strcmp(key, "public_url") == 0) {
        if ((strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0) || !clean(value) ||
            strchr(value, ' '))
            return fail(r, key, "\"%s\" is not an http:// or https:// URL", value);
        set_str(&c->public_url, value);
    } else if (strcmp(key, "feed_ttl") == 0) {
        if (parse_int(value, 5, 7 * 24 * 60, &c->feed_ttl_minutes) != 0)
            return fail(r, key, "\"%s\" is not a number of minutes from 5 to 10080", value);
    } else if (strcmp(key, "feed_retention_days") == 0) {
        if (parse_int(value, 0, 3650, &c->feed_retention_days) != 0)
            return fail(r, key, "\"%s\" is not a number of days from 0 to 3650", value);
    } else if (strcmp(key, "max_connections") == 0) {
        if (parse_int(value, 1, 100000, &c->http_max_connections) != 0)
            return fail(r, key, "\"%s\" is not a number from 1 to 100000", value);
    } else if (strcmp(key, "max_connections_per_client") == 0) {
        if (parse_int(value, 0, 100000, &c->http_max_per_client) != 0)
            return fail(r, key, "\"%s\" is not a number from 0 (no limit) to 100000", value);
    } else if (strcmp(key, "timeout") == 0) {
        if (parse_int(value, 1, 3600, &c->http_timeout_seconds) != 0)
            return fail(r, key, "\"%s\" is not a number of seconds from 1 to 3600", value);
    } else if (strcmp(key, "request_timeout") == 0) {
        if (parse_int(value, 1, 3600, &c->http_request_seconds) != 0)
            return fail(r, key, "\"%s\" is not a number of seconds from 1 to 3600", value);
    } else {
        return fail(r, key, "unknown key in [http] (value \"%s\")", value);
    }
    return 1;
}

static int handle_smtp(reader_t *r, const char *key, const char *value)
{
    cc_config_t *c = r->config;
    char path[PATH_MAX];
    if (!clean(value))
        return fail(r, key, "%s", "control characters are not allowed");
    if (strcmp(key, "url") == 0) {
        if (strncmp(value, "smtp://", 7) != 0 && strncmp(value, "smtps://", 8) != 0)
            return fail(r, key, "\"%s\" is not an smtp:// or smtps:// URL", value);
        /* userinfo (before an "@" in the authority) holding ":" carries a
         * password (smtp://user:secret@host, or user;AUTH=x:secret@):
         * refused without echoing the URL, as password = is. A user name
         * alone is no secret. */
        const char *authority = strstr(value, "://") + 3;
        size_t alen = strcspn(authority, "/?#");
        const char *at = memrchr(authority, '@', alen);
        if (at != NULL && memchr(authority, ':', (size_t)(at - authority)) != NULL)
            return fail(r, key, "%s", "the URL holds a password (user:password@): passwords are never written in "
                                      "the configuration; put the user in username and the password in the file "
                                      "password_file names");
        set_str(&c->smtp_url, value);
    } else if (strcmp(key, "from") == 0) {
        if (strchr(value, '@') == NULL || strpbrk(value, " <>") != NULL)
            return fail(r, key, "\"%s\" is not an email address", value);
        for (const unsigned char *p = (const unsigned char *)value; *p; p++)
            if (*p >= 0x80)
                return fail(r, key, "\"%s\" is not an ASCII address (careclock sends 7-bit mail, without SMTPUTF8)",
                            value);
        set_str(&c->smtp_from, value);
    } else if (strcmp(key, "tls") == 0) {
        if (strcmp(value, "required") == 0)
            c->smtp_tls_required = 1;
        else if (strcmp(value, "none") == 0)
            c->smtp_tls_required = 0;
        else
            return fail(r, key, "\"%s\" is not required or none", value);
    } else if (strcmp(key, "helo") == 0) {
        /* A host name: letters, digits, hyphens and dots (RFC 5321's
         * Domain), as the EHLO command and curl's URL path carry it. */
        size_t n = strlen(value);
        if (n == 0 || n > 253 || strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") != n ||
            value[0] == '.' || value[0] == '-')
            return fail(r, key, "\"%s\" is not a host name (letters, digits, '-' and '.')", value);
        set_str(&c->smtp_helo, value);
    } else if (strcmp(key, "timeout") == 0) {
        if (parse_int(value, 1, 600, &c->smtp_timeout_seconds) != 0)
            return fail(r, key, "\"%s\" is not a number of seconds from 1 to 600", value);
    } else if (strcmp(key, "username") == 0) {
        set_str(&c->smtp_username, value);
    } else if (strcmp(key, "password_file") == 0) {
        resolve(r, value, path, sizeof(path));
        set_str(&c->smtp_password_file, path);
    } else if (strcmp(key, "password") == 0) {
        return fail(r, key, "%s", "passwords are never written in the configuration: use password_file");
    } else {
        return fail(r, key, "unknown key in [smtp] (value \"%s\")", value);
    }
    return 1;
}

static int handle_notify(reader_t *r, const char *key, const char *value)
{
    cc_config_t *c = r->config;
    char path[PATH_MAX];
    if (strcmp(key, "window") == 0) {
        char a[8], b[8], tail;
        int start, end;
        if (sscanf(value, "%5[0-9:]-%5[0-9:]%c", a, b, &tail) != 2 || parse_hhmm(a, &start) != 0 ||
            parse_hhmm(b, &end) != 0 || start >= end)
            return fail(r, key, "\"%s\" is not HH:MM-HH:MM with the start first (08:00-18:00)", value);
        c->window_start_minute = start;
        c->window_end_minute = end;
    } else if (strcmp(key, "digest") == 0) {
        if (parse_bool(value, &c->digest) != 0)
            return fail(r, key, "\"%s\" is not yes or no", value);
    } else if (strcmp(key, "settle") == 0) {
        if (parse_int(value, 0, 3600, &c->settle_seconds) != 0)
            return fail(r, key, "\"%s\" is not a number of seconds from 0 to 3600", value);
    } else if (strcmp(key, "since") == 0) {
        if (cc_date_parse(value, &c->notify_since) != 0 || strlen(value) != 10)
            return fail(r, key, "\"%s\" is not a date YYYY-MM-DD (the day careclock went live)", value);
    } else if (strcmp(key, "file_channel") == 0) {
        resolve(r, value, path, sizeof(path));
        set_str(&c->file_channel, path);
    } else if (strcmp(key, "delivery_retention_days") == 0) {
        if (parse_int(value, 1, 36500, &c->delivery_retention_days) != 0)
            return fail(r, key, "\"%s\" is not a number of days from 1 to 36500", value);
    } else {
        return fail(r, key, "unknown key in [notify] (value \"%s\")", value);
    }
    return 1;
}

static int handle_webhook(reader_t *r, const char *name, const char *key, const char *value)
{
    cc_config_t *c = r->config;
    cc_webhook_config_t *w = (cc_webhook_config_t *)cc_config_webhook(c, name);
    char path[PATH_MAX];
    if (w == NULL) {
        if (c->nwebhooks >= CC_CONFIG_MAX_WEBHOOKS)
            return fail(r, key, "more than %d webhook sections", CC_CONFIG_MAX_WEBHOOKS);
        if (name[0] == '\0' || !clean(name))
            return fail(r, key, "%s", "a [webhook:NAME] section needs a name");
        w = &c->webhooks[c->nwebhooks++];
        w->name = strdup(name);
    }
    if (!clean(value))
        return fail(r, key, "%s", "control characters are not allowed");
    if (strcmp(key, "url") == 0) {
        if ((strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0) || strchr(value, ' '))
            return fail(r, key, "\"%s\" is not an http:// or https:// URL", value);
        set_str(&w->url, value);
    } else if (strcmp(key, "format") == 0) {
        if (strcmp(value, "generic") == 0)
            w->format = CC_WEBHOOK_GENERIC;
        else if (strcmp(value, "teams") == 0)
            w->format = CC_WEBHOOK_TEAMS;
        else if (strcmp(value, "slack") == 0)
            w->format = CC_WEBHOOK_SLACK;
        else
            return fail(r, key, "\"%s\" is not generic, teams or slack", value);
    } else if (strcmp(key, "secret_file") == 0) {
        resolve(r, value, path, sizeof(path));
        set_str(&w->secret_file, path);
    } else if (strcmp(key, "secret") == 0) {
        return fail(r, key, "%s", "secrets are never written in the configuration: use secret_file");
    } else {
        return fail(r, key, "unknown key in [webhook:%s] (value \"%s\")", name, value);
    }
    return 1;
}

/* A header name: RFC 9110 token characters. */
static int header_name(const char *v)
{
    if (*v == '\0')
        return 0;
    for (; *v; v++)
        if (!((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *v) != NULL))
            return 0;
    return 1;
}

static int handle_web(reader_t *r, const char *key, const char *value)
{
    cc_config_t *c = r->config;
    char path[PATH_MAX];
    if (!clean(value))
        return fail(r, key, "%s", "control characters are not allowed");
    if (strcmp(key, "auth") == 0) {
        if (strcmp(value, "email") == 0)
            c->web_auth = CC_WEB_AUTH_EMAIL;
        else if (strcmp(value, "proxy") == 0)
            c->web_auth = CC_WEB_AUTH_PROXY;
        else if (strcmp(value, "off") == 0)
            c->web_auth = CC_WEB_AUTH_OFF;
        else
            return fail(r, key, "\"%s\" is not email, proxy or off", value);
    } else if (strcmp(key, "proxy_header") == 0) {
        if (!header_name(value))
            return fail(r, key, "\"%s\" is not a header name", value);
        set_str(&c->web_proxy_header, value);
    } else if (strcmp(key, "proxy_identity") == 0) {
        if (strcmp(value, "email") == 0)
            c->web_proxy_by_id = 0;
        else if (strcmp(value, "id") == 0)
            c->web_proxy_by_id = 1;
        else
            return fail(r, key, "\"%s\" is not email or id", value);
    } else if (strcmp(key, "proxy_addresses") == 0) {
        char copy[4096];
        snprintf(copy, sizeof(copy), "%s", value);
        c->nweb_proxies = 0;
        for (char *save = NULL, *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
            if (c->nweb_proxies >= CC_CONFIG_MAX_PROXIES)
                return fail(r, key, "more than %d addresses in \"%s\"", CC_CONFIG_MAX_PROXIES, value);
            if (cc_netaddr_parse(tok, &c->web_proxies[c->nweb_proxies]) != 0)
                return fail(r, key, "\"%s\" is not an IP address or ADDRESS/PREFIX range", tok);
            c->nweb_proxies++;
        }
    } else if (strcmp(key, "proxy_signout_url") == 0) {
        if ((strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0 && value[0] != '/') ||
            strchr(value, ' ') || strchr(value, '"'))
            return fail(r, key, "\"%s\" is not an http:// or https:// URL or a path", value);
        set_str(&c->web_proxy_signout, value);
    } else if (strcmp(key, "signin_minutes") == 0) {
        if (parse_int(value, 1, 60, &c->web_signin_minutes) != 0)
            return fail(r, key, "\"%s\" is not a number of minutes from 1 to 60", value);
    } else if (strcmp(key, "session_idle_minutes") == 0) {
        if (parse_int(value, 5, 24 * 60, &c->web_idle_minutes) != 0)
            return fail(r, key, "\"%s\" is not a number of minutes from 5 to 1440", value);
    } else if (strcmp(key, "session_hours") == 0) {
        if (parse_int(value, 1, 7 * 24, &c->web_session_hours) != 0)
            return fail(r, key, "\"%s\" is not a number of hours from 1 to 168", value);
    } else if (strcmp(key, "assets") == 0) {
        resolve(r, value, path, sizeof(path));
        set_str(&c->web_assets, path);
    } else if (strcmp(key, "transport_font") == 0) {
        if (parse_bool(value, &c->web_transport_font) != 0)
            return fail(r, key, "\"%s\" is not yes or no", value);
    } else {
        return fail(r, key, "unknown key in [web] (value \"%s\")", value);
    }
    return 1;
}

static int handle_daemon(reader_t *r, const char *key, const char *value)
{
    cc_config_t *c = r->config;
    if (strcmp(key, "poll_interval_ms") == 0) {
        if (parse_int(value, 10, 60000, &c->recompute_interval_ms) != 0)
            return fail(r, key, "\"%s\" is not a number of milliseconds from 10 to 60000", value);
    } else if (strcmp(key, "shutdown_grace") == 0) {
        if (parse_int(value, 0, 600, &c->shutdown_grace_seconds) != 0)
            return fail(r, key, "\"%s\" is not a number of seconds from 0 to 600", value);
    } else if (strcmp(key, "user") == 0) {
        if (value[0] == '\0' || strlen(value) > 32 || strspn(value, "abcdefghijklmnopqrstuvwxyz"
                                                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
                                                          strlen(value) || value[0] == '-')
            return fail(r, key, "\"%s\" is not a user name", value);
        set_str(&c->service_user, value);
    } else if (strcmp(key, "unhealthy_after") == 0) {
        if (parse_int(value, 1, 86400, &c->unhealthy_after_seconds) != 0)
            return fail(r, key, "\"%s\" is not a number of seconds from 1 to 86400", value);
    } else {
        return fail(r, key, "unknown key in [careclockd] (value \"%s\")", value);
    }
    return 1;
}

/* Record where [section] key was set; a key set twice in one section is
 * refused (rules and holidays add files, so they may repeat). Returns 1 to
 * go on, 0 after fail(). */
static int note_origin(reader_t *r, const char *section, const char *key)
{
    cc_config_t *c = r->config;
    int list = strcmp(section, "careclock") == 0 && (strcmp(key, "rules") == 0 || strcmp(key, "holidays") == 0);
    for (size_t i = 0; i < c->norigins && !list; i++)
        if (strcmp(c->origins[i].section, section) == 0 && strcmp(c->origins[i].key, key) == 0)
            return fail(r, key, "set twice in [%s] (first at line %d): keep one of them", section,
                        c->origins[i].line);
    if (strlen(section) >= sizeof(c->origins[0].section) || strlen(key) >= sizeof(c->origins[0].key))
        return 1; /* too long to be a key careclock knows: the section handler refuses it */
    cc_config_origin_t *grown = realloc(c->origins, (c->norigins + 1) * sizeof(*grown));
    if (grown == NULL)
        return fail(r, key, "%s", "out of memory");
    c->origins = grown;
    cc_config_origin_t *o = &c->origins[c->norigins++];
    snprintf(o->section, sizeof(o->section), "%s", section);
    snprintf(o->key, sizeof(o->key), "%s", key);
    o->line = r->line;
    return 1;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    reader_t *r = user;
    if (r->failed || !note_origin(r, section, key))
        return 0;
    if (strcmp(section, "careclock") == 0)
        return handle_careclock(r, key, value);
    if (strcmp(section, "http") == 0)
        return handle_http(r, key, value);
    if (strcmp(section, "smtp") == 0)
        return handle_smtp(r, key, value);
    if (strcmp(section, "notify") == 0)
        return handle_notify(r, key, value);
    if (strcmp(section, "careclockd") == 0)
        return handle_daemon(r, key, value);
    if (strcmp(section, "web") == 0)
        return handle_web(r, key, value);
    if (strncmp(section, "webhook:", 8) == 0)
        return handle_webhook(r, section + 8, key, value);
    return fail(r, key, "unknown section [%s] (expected careclock, careclockd, http, smtp, notify or webhook:NAME)",
                section);
}

int cc_config_load(cc_config_t *config, const char *path, char *err, size_t errlen)
{
    reader_t r = {.config = config, .path = path, .err = err, .errlen = errlen};
    struct stat st;
    const char *slash = strrchr(path, '/');
    if (slash != NULL)
        snprintf(r.dir, sizeof(r.dir), "%.*s", (int)(slash - path), path);
    if (stat(path, &st) != 0) {
        cc_set_err(err, errlen, "%s: cannot read the configuration file: %s", path, strerror(errno));
        return CC_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        cc_set_err(err, errlen, "%s is a directory, not a configuration file: name the file (%s/careclock.conf)",
                   path, path);
        return CC_EPARSE;
    }
    set_str(&config->path, path);
    config->norigins = 0;
    int rc = cc__ini_parse(path, handler, &r, &r.line);
    if (rc == CC_EIO) {
        cc_set_err(err, errlen, "%s: cannot read the configuration file: %s", path,
                   errno ? strerror(errno) : "read error");
        return CC_EIO;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, cc_strerror(rc));
        return rc;
    }
    if (r.failed)
        return CC_EPARSE;
    for (size_t i = 0; i < config->nwebhooks; i++) {
        if (config->webhooks[i].url == NULL) {
            snprintf(err, errlen, "%s: [webhook:%s]: url is required", path, config->webhooks[i].name);
            return CC_EPARSE;
        }
    }
    if (rc > 0) {
        snprintf(err, errlen, "%s:%d: not a valid line (expected [section], key = value or a ; comment, at most %d characters)", path, rc, CC_INI_MAX_LINE - 2);
        return CC_EPARSE;
    }
    return 0;
}

const char *cc_config_email_unavailable(const cc_config_t *config)
{
    if (config->file_channel != NULL)
        return NULL;
    if (config->smtp_url == NULL)
        return "email is not configured ([smtp] url is not set)";
    if (config->smtp_from == NULL)
        return "email is not configured ([smtp] from is not set)";
    return NULL;
}

void cc_config_planner_settings(const cc_config_t *config, cc_planner_settings_t *out)
{
    _Static_assert(CC_CONFIG_MAX_WEBHOOKS <= CC_PLANNER_MAX_WEBHOOKS, "every configured webhook reaches the planner");
    memset(out, 0, sizeof(*out));
    out->window_start_minute = config->window_start_minute;
    out->window_end_minute = config->window_end_minute;
    out->email_unavailable = cc_config_email_unavailable(config);
    out->since = config->notify_since;
    for (size_t i = 0; i < config->nwebhooks; i++)
        out->webhooks[out->nwebhooks++] = config->webhooks[i].name;
}

int cc_config_line(const cc_config_t *config, const char *section, const char *key)
{
    for (size_t i = 0; i < config->norigins; i++)
        if (strcmp(config->origins[i].section, section) == 0 && strcmp(config->origins[i].key, key) == 0)
            return config->origins[i].line;
    return 0;
}

/* ---- config show ---------------------------------------------------------- */

typedef struct {
    const cc_config_t *config;
    const char *section;
    int changed_only;
    FILE *out;
} show_t;

/* One "key = value" line, marked "; default" when the file did not set
 * it; a NULL value (not set) is shown commented out: "; key =". */
static void show_key(show_t *sh, const char *key, const char *value)
{
    int line = cc_config_line(sh->config, sh->section, key);
    if (sh->changed_only && line == 0)
        return;
    if (value == NULL) {
        fprintf(sh->out, "; %s =\n", key);
        return;
    }
    int pad = 44 - (int)(strlen(key) + strlen(value));
    if (line == 0)
        fprintf(sh->out, "%s = %s%*s; default\n", key, value, pad > 1 ? pad : 1, "");
    else
        fprintf(sh->out, "%s = %s\n", key, value);
}

static void show_int(show_t *sh, const char *key, int value)
{
    char text[32];
    snprintf(text, sizeof(text), "%d", value);
    show_key(sh, key, text);
}

static void show_list(show_t *sh, const char *key, char *const *list, size_t n)
{
    char text[CC_CONFIG_MAX_FILES * (PATH_MAX + 2)];
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < n && used < sizeof(text); i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s", i ? ", " : "", list[i]);
    show_key(sh, key, n ? text : NULL);
}

static void show_section(show_t *sh, const char *section)
{
    sh->section = section;
    fprintf(sh->out, "\n[%s]\n", section);
}

/* An SMTP URL without the password a user:password@ part may carry. */
static void elide_smtp_url(const char *url, char *out, size_t len)
{
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end ? scheme_end + 3 : url;
    const char *at = strchr(host, '@');
    const char *slash = strchr(host, '/');
    if (at == NULL || (slash != NULL && slash < at)) {
        snprintf(out, len, "%s", url);
        return;
    }
    const char *colon = memchr(host, ':', (size_t)(at - host));
    if (colon == NULL)
        snprintf(out, len, "%s", url);
    else
        snprintf(out, len, "%.*s:(elided)%s", (int)(colon - url), url, at);
}

/* A webhook URL as scheme://host[:port]/... : its path and query are the
 * endpoint's credential (a Slack hook's path, a Teams workflow's sig=). */
static void elide_webhook_url(const char *url, char *out, size_t len)
{
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end ? scheme_end + 3 : url;
    size_t hostlen = strcspn(host, "/?#");
    const char *at = memchr(host, '@', hostlen);
    if (at != NULL) {
        hostlen -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    snprintf(out, len, "%.*s%.*s%s", (int)(scheme_end ? scheme_end + 3 - url : 0), url, (int)hostlen, host,
             host[hostlen] ? "/...(elided)" : "");
}

void cc_config_show(const cc_config_t *c, int changed_only, FILE *out)
{
    show_t sh = {.config = c, .changed_only = changed_only, .out = out};
    char text[PATH_MAX + 64];
    static const char *const privacy[] = {[CC_PRIVACY_REFERENCE] = "reference", [CC_PRIVACY_INITIALS] = "initials",
                                          [CC_PRIVACY_FULL] = "full"};
    fprintf(out, "; the configuration in effect, %s\n", c->path ? c->path : "built-in defaults (no file read)");
    fprintf(out, "; secrets are read from the files named here and never shown; webhook URLs are shown to the host\n");

    show_section(&sh, "careclock");
    show_key(&sh, "database", c->database);
    show_list(&sh, "rules", c->rules, c->nrules);
    show_key(&sh, "division", c->division);
    show_key(&sh, "holiday_dir", c->holiday_dir);
    show_list(&sh, "holidays", c->holidays, c->nholidays);
    show_key(&sh, "timezone", c->timezone);
    show_key(&sh, "privacy", privacy[c->privacy]);

    show_section(&sh, "careclockd");
    show_int(&sh, "poll_interval_ms", c->recompute_interval_ms);
    show_int(&sh, "shutdown_grace", c->shutdown_grace_seconds);
    show_int(&sh, "unhealthy_after", c->unhealthy_after_seconds);
    show_key(&sh, "user", c->service_user);

    show_section(&sh, "http");
    show_key(&sh, "listen", c->listen);
    show_key(&sh, "admin_listen", c->admin_listen ? c->admin_listen : "off");
    show_key(&sh, "public_url", c->public_url);
    show_int(&sh, "feed_ttl", c->feed_ttl_minutes);
    show_int(&sh, "feed_retention_days", c->feed_retention_days);
    show_int(&sh, "max_connections", c->http_max_connections);
    show_int(&sh, "max_connections_per_client", c->http_max_per_client);
    show_int(&sh, "request_timeout", c->http_request_seconds);
    show_int(&sh, "timeout", c->http_timeout_seconds);

    show_section(&sh, "smtp");
    if (c->smtp_url != NULL)
        elide_smtp_url(c->smtp_url, text, sizeof(text));
    show_key(&sh, "url", c->smtp_url ? text : NULL);
    show_key(&sh, "from", c->smtp_from);
    show_key(&sh, "tls", c->smtp_tls_required ? "required" : "none");
    show_key(&sh, "username", c->smtp_username);
    show_key(&sh, "password_file", c->smtp_password_file);

    show_section(&sh, "notify");
    snprintf(text, sizeof(text), "%02d:%02d-%02d:%02d", c->window_start_minute / 60, c->window_start_minute % 60,
             c->window_end_minute / 60, c->window_end_minute % 60);
    show_key(&sh, "window", text);
    show_key(&sh, "digest", c->digest ? "yes" : "no");
    if (c->notify_since != CC_DATE_NONE)
        cc_date_format(c->notify_since, text);
    show_key(&sh, "since", c->notify_since != CC_DATE_NONE ? text : NULL);
    show_key(&sh, "file_channel", c->file_channel);
    if (c->delivery_retention_days > 0)
        snprintf(text, sizeof(text), "%d", c->delivery_retention_days);
    show_key(&sh, "delivery_retention_days", c->delivery_retention_days > 0 ? text : NULL);

    for (size_t i = 0; i < c->nwebhooks; i++) {
        const cc_webhook_config_t *w = &c->webhooks[i];
        char section[80];
        snprintf(section, sizeof(section), "webhook:%s", w->name);
        show_section(&sh, section);
        elide_webhook_url(w->url, text, sizeof(text));
        show_key(&sh, "url", text);
        show_key(&sh, "format", cc_payload_format_name(w->format));
        show_key(&sh, "secret_file", w->secret_file);
    }
}
