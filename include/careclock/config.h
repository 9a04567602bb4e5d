/* careclock.conf: the configuration shared by careclockd and the CLI.
 * INI, read with inih; documented line by line in config/careclock.conf.
 * Every error names the file, the line and the key. */
#ifndef CARECLOCK_CONFIG_H
#define CARECLOCK_CONFIG_H

#include "careclock/message.h" /* cc_webhook_format_t */
#include "careclock/netaddr.h"
#include "careclock/planner.h"
#include "careclock/privacy.h"

#include <stdio.h>
#include <stddef.h>

#define CC_CONFIG_MAX_FILES 16
#define CC_CONFIG_MAX_WEBHOOKS 32
#define CC_CONFIG_MAX_PROXIES 16

/* [web] auth: how people sign in to the dashboard (docs/dashboard.md). */
typedef enum {
    CC_WEB_AUTH_EMAIL, /* a one-time link sent to a staff address careclock knows (default) */
    CC_WEB_AUTH_PROXY, /* the council's single sign-on proxy names the person in a header */
    CC_WEB_AUTH_OFF    /* no dashboard: its pages answer 404 */
} cc_web_auth_t;

/* [webhook:NAME]: one endpoint; a team names it (careclock team set --webhook NAME). */
typedef struct {
    char *name;
    char *url;
    cc_webhook_format_t format;
    char *secret_file;  /* Standard Webhooks secret ("whsec_" + base64), NULL for unsigned */
} cc_webhook_config_t;

/* Where a key was set: "[section] key" at line of the file read. */
typedef struct {
    char section[64];
    char key[32];
    int line;
} cc_config_origin_t;

typedef struct {
    char *path;                              /* the file read (cc_config_load), NULL: built-in defaults only */
    cc_config_origin_t *origins;             /* each key the file set, in file order */
    size_t norigins;

    char *database;                          /* the plan database: CC_LOCALSTATEDIR/lib/careclock/careclock.db */
    char *rules[CC_CONFIG_MAX_FILES];        /* in load order; later overrides earlier */
    size_t nrules;
    char *division;                          /* england-and-wales by default */
    char *holiday_dir;                       /* directory holding <division>.ics */
    char *holidays[CC_CONFIG_MAX_FILES];     /* a council's own ICS files, added */
    size_t nholidays;
    char *timezone;                          /* Europe/London */
    cc_privacy_t privacy;

    /* [http]: the feed server inside careclockd */
    char *listen;              /* "127.0.0.1:8787" */
    char *public_url;          /* base URL people subscribe to (behind the council's proxy), NULL: from listen */
    int feed_ttl_minutes;      /* REFRESH-INTERVAL and X-PUBLISHED-TTL, 60 */
    int feed_retention_days;   /* met and cancelled clocks stay in feeds this long, 30 */
    char *admin_listen;        /* /healthz and /metrics: "127.0.0.1:8788"; NULL: off; the same as listen: both
                                  on one listener (the operator's choice) */
    int http_max_connections;  /* 512 */
    int http_max_per_client;   /* connections from one client address, 64; 0: no such limit */
    int http_timeout_seconds;  /* idle connection timeout, 10 */
    int http_request_seconds;  /* a request must arrive whole within this, 10 */

    /* [smtp] */
    char *smtp_url;            /* smtp://host:587 (STARTTLS) or smtps://host:465; NULL: no email */
    char *smtp_from;
    int smtp_tls_required;     /* tls = required (1, default) | none (0: loopback relays only) */
    char *smtp_username;
    char *smtp_password_file;  /* a credentials file, never the password itself */
    char *smtp_helo;           /* the EHLO name; NULL: the host's FQDN, else the From domain */
    int smtp_timeout_seconds;  /* one message's transfer, 60 */

    /* [notify] */
    int window_start_minute;   /* 08:00 -> 480 */
    int window_end_minute;     /* 18:00 -> 1080 */
    int digest;                /* 1: one message per recipient per window opening */
    int settle_seconds;        /* careclockd holds a change's notices this long to gather a burst, 120 */
    cc_date_t notify_since;    /* go-live: clocks chased to a date before it are never reminded; CC_DATE_NONE */
    char *file_channel;        /* a directory: write each message there instead of sending (demo), NULL */
    int delivery_retention_days; /* deliveries prune --retention: keep records this many days; 0: not set */

    /* [webhook:NAME] sections */
    cc_webhook_config_t webhooks[CC_CONFIG_MAX_WEBHOOKS];
    size_t nwebhooks;

    /* [web]: the dashboard in careclockd (docs/dashboard.md) */
    cc_web_auth_t web_auth;
    char *web_proxy_header;    /* "X-Remote-Email" */
    int web_proxy_by_id;       /* 0: the header holds a staff email address; 1: a staff id */
    cc_netaddr_t web_proxies[CC_CONFIG_MAX_PROXIES]; /* the only addresses the header is taken from */
    size_t nweb_proxies;
    char *web_proxy_signout;   /* the proxy's sign-out URL, NULL */
    int web_signin_minutes;    /* a sign-in link is good for, 15 */
    int web_idle_minutes;      /* a session ends unused after, 60 */
    int web_session_hours;     /* and in any case after, 10 */
    char *web_assets;          /* the GOV.UK Frontend styles, fonts and careclock.css; NULL: <datadir>/web */
    int web_transport_font;    /* 1: use the GDS Transport font (services on GOV.UK only); 0 (default) */

    /* [careclockd] */
    int recompute_interval_ms; /* PRAGMA data_version poll, 250 */
    int shutdown_grace_seconds;/* in-flight work allowed on SIGTERM, 10 */
    char *service_user;        /* the user careclockd runs as, for the pre-flight check; NULL: the unit's User= */
    int unhealthy_after_seconds; /* recomputes failing this long: /healthz 503, STATUS=degraded; 30 */
} cc_config_t;

/* The configuration file both programs read when none is named:
 * SYSCONFDIR/careclock/careclock.conf (/etc/careclock/careclock.conf). */
const char *cc_config_default_path(void);

/* Where the configuration came from. */
typedef enum {
    CC_CONFIG_FROM_OPTION,  /* --config FILE */
    CC_CONFIG_FROM_ENV,     /* $CARECLOCK_CONFIG */
    CC_CONFIG_FROM_DEFAULT, /* cc_config_default_path(), which exists */
    CC_CONFIG_BUILTIN       /* no file: the default path does not exist */
} cc_config_source_t;

/* Choose the file to read: option (--config) if not NULL, else env (the
 * value of $CARECLOCK_CONFIG) if not NULL or empty, else the default path
 * when something exists there (a directory too, so that it is refused, not
 * ignored). *path receives the file, or NULL for the built-in defaults (the
 * default path does not exist). A named file that does not exist is not
 * replaced by defaults: cc_config_load() then refuses it. */
cc_config_source_t cc_config_locate(const char *option, const char *env, const char **path);

/* "--config", "$CARECLOCK_CONFIG", "the default path" or "built-in
 * defaults". */
const char *cc_config_source_name(cc_config_source_t source);

/* Fill *config with the built-in defaults (shipped rules and holidays found
 * through cc_paths_datadir()). Returns 0 or CC_ENOMEM. */
int cc_config_defaults(cc_config_t *config);

/* Read path over the values already in *config. Returns 0, or CC_EIO /
 * CC_EPARSE with "FILE:LINE: key: what is wrong" in err: a file that
 * cannot be read (with the reason), a directory, a syntax error, an
 * unknown section or key, a bad value, a key set twice in one section
 * (except rules and holidays, which add files). Relative paths in the file
 * are taken relative to the file's directory. */
int cc_config_load(cc_config_t *config, const char *path, char *err, size_t errlen);

/* The line of path at which [section] key was set, or 0 when the file did
 * not set it (a built-in default). For webhook sections, section is
 * "webhook:NAME". */
int cc_config_line(const cc_config_t *config, const char *section, const char *key);

/* Write the configuration in effect to out as careclock.conf text: every
 * key of every section, each value as careclock reads it (paths resolved),
 * those the file did not set marked "; default" (only those it set when
 * changed_only), secrets elided: a password in [smtp] url, and the path and
 * query of each webhook URL, which are the endpoint's own credential. Files
 * holding secrets are named, never read. */
void cc_config_show(const cc_config_t *config, int changed_only, FILE *out);

/* Free every string the config holds (the struct is the caller's). */
void cc_config_free(cc_config_t *config);


/* The webhook section named name, or NULL. */
const cc_webhook_config_t *cc_config_webhook(const cc_config_t *config, const char *name);

/* NULL when an email transport is configured ([smtp] url and from, or
 * [notify] file_channel); otherwise what is missing, in words. */
const char *cc_config_email_unavailable(const cc_config_t *config);

/* The planner's view of config (the window, e-mail, the webhook names);
 * out borrows config's strings, so it lives no longer than config. */
void cc_config_planner_settings(const cc_config_t *config, cc_planner_settings_t *out);

#endif
