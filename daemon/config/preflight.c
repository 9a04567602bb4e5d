/* The pre-flight check. See include/careclock/preflight.h.
 *
 * Design note: every check reports through problem() or note(), which count
 * and format; none stops the others, so one run lists everything to fix.
 * The service user's view of a path is judged by walking every directory
 * above it (search permission) and then the path's own mode bits, unless
 * the check runs as that user, when access(2) answers (ACLs included).
 */
#include "careclock/preflight.h"
#include "careclock/env.h"
#include "careclock/error.h"
#include "careclock/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CC_UNITDIR
#define CC_UNITDIR "/usr/local/lib/systemd/system"
#endif

#define UNIT_NAME "careclockd.service"
#define MAX_CREDS 32
#define MAX_GROUPS 64

typedef struct {
    char name[64];
    char source[PATH_MAX + 64]; /* where the name came from, in words */
    uid_t uid;
    gid_t gid;
    gid_t groups[MAX_GROUPS];
    int ngroups;
    int known;                  /* the user exists: permissions can be judged */
    int self;                   /* the check runs as this user: access(2) */
} svc_user_t;

typedef struct {
    char id[128];
    char source[PATH_MAX];      /* "" when given inline (SetCredential=) or by name only */
} credential_t;

typedef struct {
    char path[PATH_MAX];        /* the unit file read, "" when none was found */
    char user[64];
    credential_t creds[MAX_CREDS];
    size_t ncreds;
} unit_t;

typedef struct {
    const cc_config_t *config;
    cc_preflight_options_t opt;
    cc_preflight_report_fn report;
    void *data;
    svc_user_t user;
    unit_t unit;
    int problems;
} pf_t;

static void say(pf_t *pf, cc_preflight_level_t level, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

static void say(pf_t *pf, cc_preflight_level_t level, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (level == CC_PREFLIGHT_PROBLEM)
        pf->problems++;
    pf->report(pf->data, level, msg);
}

static void problem(pf_t *pf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(pf_t *pf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(pf_t *pf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(pf, CC_PREFLIGHT_PROBLEM, fmt, ap);
    va_end(ap);
}

static void note(pf_t *pf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(pf, CC_PREFLIGHT_NOTE, fmt, ap);
    va_end(ap);
}

/* "FILE:LINE: [section] key" when the file set it, else "[section] key
 * (built-in default)". */
static const char *where(const pf_t *pf, const char *section, const char *key, char *buf, size_t len)
{
    int line = cc_config_line(pf->config, section, key);
    if (line > 0 && pf->config->path != NULL)
        snprintf(buf, len, "%s:%d: [%s] %s", pf->config->path, line, section, key);
    else
        snprintf(buf, len, "[%s] %s (built-in default)", section, key);
    return buf;
}

/* "owner root:careclock, mode 0640" */
static const char *describe(const struct stat *st, char *buf, size_t len)
{
    struct passwd *pw = getpwuid(st->st_uid);
    struct group *gr = getgrgid(st->st_gid);
    char u[32], g[32];
    snprintf(u, sizeof(u), "%u", (unsigned)st->st_uid);
    snprintf(g, sizeof(g), "%u", (unsigned)st->st_gid);
    snprintf(buf, len, "owner %s:%s, mode %04o", pw ? pw->pw_name : u, gr ? gr->gr_name : g,
             (unsigned)(st->st_mode & 07777));
    return buf;
}

/* ---- the service user and the unit ------------------------------------- */

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    size_t lead = strspn(s, " \t");
    memmove(s, s + lead, strlen(s + lead) + 1);
}

static void add_credential(unit_t *u, const char *value, int inline_data)
{
    if (value[0] == '\0') { /* an empty assignment resets the list, as systemd reads it */
        u->ncreds = 0;
        return;
    }
    if (u->ncreds >= MAX_CREDS)
        return;
    credential_t *c = &u->creds[u->ncreds++];
    const char *colon = strchr(value, ':');
    size_t idlen = colon ? (size_t)(colon - value) : strlen(value);
    snprintf(c->id, sizeof(c->id), "%.*s", (int)idlen, value);
    snprintf(c->source, sizeof(c->source), "%s", colon && !inline_data ? colon + 1 : "");
}

/* Read User= and the credentials of [Service] from one unit file or
 * drop-in; later files override, as systemd reads them. */
static int read_unit_file(unit_t *u, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[PATH_MAX + 256];
    int service = 0;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        trim(line);
        if (line[0] == '#' || line[0] == ';' || line[0] == '\0')
            continue;
        if (line[0] == '[') {
            service = strcmp(line, "[Service]") == 0;
            continue;
        }
        char *eq = strchr(line, '=');
        if (!service || eq == NULL)
            continue;
        *eq = '\0';
        char *key = line, *value = eq + 1;
        trim(key);
        trim(value);
        if (strcmp(key, "User") == 0)
            snprintf(u->user, sizeof(u->user), "%s", value);
        else if (strcmp(key, "LoadCredential") == 0 || strcmp(key, "LoadCredentialEncrypted") == 0)
            add_credential(u, value, 0);
        else if (strcmp(key, "SetCredential") == 0 || strcmp(key, "SetCredentialEncrypted") == 0)
            add_credential(u, value, 1);
    }
    fclose(f);
    return 0;
}

static void read_dropins(unit_t *u, const char *dir)
{
    char pattern[PATH_MAX];
    glob_t g;
    snprintf(pattern, sizeof(pattern), "%s/" UNIT_NAME ".d/*.conf", dir);
    if (glob(pattern, 0, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++)
        read_unit_file(u, g.gl_pathv[i]);
    globfree(&g);
}

/* The unit as systemd would load it: the first careclockd.service on its
 * search path, then the drop-ins (systemctl edit writes them in /etc). */
static void load_unit(pf_t *pf)
{
    static const char *const dirs[] = {"/etc/systemd/system", "/run/systemd/system", CC_UNITDIR,
                                       "/usr/local/lib/systemd/system", "/usr/lib/systemd/system",
                                       "/lib/systemd/system"};
    unit_t *u = &pf->unit;
    if (pf->opt.unit != NULL) {
        if (read_unit_file(u, pf->opt.unit) != 0)
            problem(pf, "%s: cannot read the unit file: %s", pf->opt.unit, strerror(errno));
        else
            snprintf(u->path, sizeof(u->path), "%s", pf->opt.unit);
        return;
    }
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/" UNIT_NAME, dirs[i]);
        if (read_unit_file(u, path) == 0) {
            snprintf(u->path, sizeof(u->path), "%s", path);
            read_dropins(u, dirs[i]);
            if (strcmp(dirs[i], "/run/systemd/system") != 0)
                read_dropins(u, "/run/systemd/system");
            if (strcmp(dirs[i], "/etc/systemd/system") != 0)
                read_dropins(u, "/etc/systemd/system");
            return;
        }
    }
}

static void resolve_user(pf_t *pf)
{
    svc_user_t *u = &pf->user;
    char at[PATH_MAX + 64];
    const char *name = NULL;
    struct passwd *pw;
    if (pf->opt.user != NULL) {
        name = pf->opt.user;
        snprintf(u->source, sizeof(u->source), "--user");
    } else if (pf->config->service_user != NULL) {
        name = pf->config->service_user;
        snprintf(u->source, sizeof(u->source), "%s", where(pf, "careclockd", "user", at, sizeof(at)));
    } else if (pf->unit.user[0] != '\0') {
        name = pf->unit.user;
        snprintf(u->source, sizeof(u->source), "User= in %s", pf->unit.path);
    }
    if (name == NULL) {
        pw = getpwuid(geteuid());
        snprintf(u->name, sizeof(u->name), "%s", pw ? pw->pw_name : "?");
        snprintf(u->source, sizeof(u->source),
                 "the user running this check: no [careclockd] user and no " UNIT_NAME " %s",
                 pf->unit.path[0] ? "User=" : "installed");
    } else {
        snprintf(u->name, sizeof(u->name), "%s", name);
        pw = getpwnam(name);
    }
    if (pw == NULL) {
        problem(pf, "the service user %s (%s) does not exist: systemd-sysusers creates the careclock user from "
                    "careclock.sysusers (the package runs it at install), or set [careclockd] user to the user "
                    "careclockd runs as",
                u->name, u->source);
        return;
    }
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    u->ngroups = MAX_GROUPS;
    if (getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &u->ngroups) < 0)
        u->ngroups = 0;
    u->known = 1;
    u->self = geteuid() == pw->pw_uid;
    note(pf, "checking as the service user %s (%s)", u->name, u->source);
}

/* ---- permissions --------------------------------------------------------- */

static int in_groups(const svc_user_t *u, gid_t gid)
{
    if (gid == u->gid)
        return 1;
    for (int i = 0; i < u->ngroups; i++)
        if (u->groups[i] == gid)
            return 1;
    return 0;
}

/* May the service user access path (whose stat is st) for want (R_OK,
 * W_OK, X_OK or'd)? */
static int user_may(const pf_t *pf, const char *path, const struct stat *st, int want)
{
    const svc_user_t *u = &pf->user;
    if (u->self)
        return faccessat(AT_FDCWD, path, want, AT_EACCESS) == 0;
    if (u->uid == 0)
        return 1;
    unsigned bits = st->st_uid == u->uid ? (st->st_mode >> 6) & 7
                    : in_groups(u, st->st_gid) ? (st->st_mode >> 3) & 7
                                               : st->st_mode & 7;
    unsigned need = ((want & R_OK) ? 4u : 0u) | ((want & W_OK) ? 2u : 0u) | ((want & X_OK) ? 1u : 0u);
    return (bits & need) == need;
}

/* 1 if the service user can search every directory above path; else 0,
 * with the first that stops it in blocker. */
static int user_reaches(const pf_t *pf, const char *path, char *blocker, size_t len)
{
    char dir[PATH_MAX];
    struct stat st;
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = dir[0] == '/' ? dir + 1 : dir; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        const char *d = dir[0] ? dir : "/";
        if (stat(d, &st) == 0 && !user_may(pf, d, &st, X_OK)) {
            char how[160];
            snprintf(blocker, len, "%s (%s)", d, describe(&st, how, sizeof(how)));
            return 0;
        }
        *p = '/';
    }
    return 1;
}

/* Check that the user may access the existing path for want; otherwise
 * report "WHAT: PATH is not VERB by USER (owner, mode): FIX". Returns 1
 * when it may. */
static int check_access(pf_t *pf, const char *what, const char *path, const struct stat *st, int want,
                        const char *verb, const char *fix)
{
    char blocker[PATH_MAX + 160], how[160];
    if (!pf->user.known)
        return 1;
    if (!user_reaches(pf, path, blocker, sizeof(blocker))) {
        problem(pf, "%s: %s cannot reach %s: the directory %s is not searchable by that user: let it through "
                    "(chgrp %s DIRECTORY && chmod g+x DIRECTORY) or keep the file where %s can reach it",
                what, pf->user.name, path, blocker, pf->user.name, pf->user.name);
        return 0;
    }
    if (!user_may(pf, path, st, want)) {
        problem(pf, "%s: %s is not %s by %s (%s): %s", what, path, verb, pf->user.name,
                describe(st, how, sizeof(how)), fix);
        return 0;
    }
    return 1;
}

/* ---- secrets ------------------------------------------------------------- */

static const credential_t *find_credential(const unit_t *u, const char *id)
{
    for (size_t i = 0; i < u->ncreds; i++)
        if (strcmp(u->creds[i].id, id) == 0)
            return &u->creds[i];
    return NULL;
}

/* A secret under /run/credentials/UNIT/ that is not there: the service is
 * not running, so look for the unit's LoadCredential= that will put it
 * there. */
static void check_credential(pf_t *pf, const char *what, const char *path)
{
    const char *id = strrchr(path, '/') + 1;
    const credential_t *c = find_credential(&pf->unit, id);
    struct stat st;
    if (pf->unit.path[0] == '\0') {
        problem(pf, "%s: %s does not exist and no " UNIT_NAME " is installed to provide it: install the unit with "
                    "LoadCredential=%s:/etc/careclock/credentials/%s, or point the key at a file that holds the "
                    "secret",
                what, path, id, id);
        return;
    }
    if (c == NULL) {
        problem(pf, "%s: %s is not there (careclockd is not running) and %s has no LoadCredential=%s:... to "
                    "provide it: add LoadCredential=%s:/etc/careclock/credentials/%s (systemctl edit careclockd) "
                    "and put the secret in that file (root-owned, mode 0600)",
                what, path, pf->unit.path, id, id, id);
        return;
    }
    if (c->source[0] != '/') {
        note(pf, "%s: %s comes from the unit's credential %s (%s)", what, path, id,
             c->source[0] ? c->source : "given inline or by name");
        return;
    }
    if (stat(c->source, &st) != 0) {
        problem(pf, "%s: %s comes from LoadCredential=%s:%s in %s, and %s: %s: write the secret there "
                    "(root-owned, mode 0600)",
                what, path, id, c->source, pf->unit.path, c->source, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        problem(pf, "%s: LoadCredential=%s:%s in %s names %s, not a file: name the file that holds the secret",
                what, id, c->source, pf->unit.path, S_ISDIR(st.st_mode) ? "a directory" : "something");
    } else if (st.st_size == 0) {
        problem(pf, "%s: LoadCredential=%s:%s: the file is empty: write the secret into it", what, id, c->source);
    } else {
        note(pf, "%s: %s comes from LoadCredential=%s:%s (present; systemd reads it as root and gives careclockd "
                 "a private copy at start)",
             what, path, id, c->source);
    }
}

static void check_secret(pf_t *pf, const char *section, const char *key, const char *path)
{
    char what[PATH_MAX + 96], fix[512];
    struct stat st;
    where(pf, section, key, what, sizeof(what));
    if (stat(path, &st) != 0) {
        if (errno == ENOENT && strncmp(path, "/run/credentials/", 17) == 0 && strchr(path + 17, '/') != NULL)
            check_credential(pf, what, path);
        else if (errno == ENOENT)
            problem(pf, "%s: %s does not exist: write the secret into it (one line), readable by %s, or point %s "
                        "at the file that holds it",
                    what, path, pf->user.name, key);
        else
            problem(pf, "%s: %s: %s", what, path, strerror(errno));
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        problem(pf, "%s: %s is a directory: name the file that holds the secret", what, path);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        problem(pf, "%s: %s is not a regular file: name the file that holds the secret", what, path);
        return;
    }
    if (st.st_size == 0) {
        problem(pf, "%s: %s is empty: write the secret into it", what, path);
        return;
    }
    snprintf(fix, sizeof(fix),
             "chgrp %s %s && chmod 0640 %s, or give it to the service with LoadCredential= in the unit",
             pf->user.name, path, path);
    check_access(pf, what, path, &st, R_OK, "readable", fix);
}

/* ---- the database and other paths -------------------------------------- */

static void check_database(pf_t *pf)
{
    const char *path = pf->opt.database ? pf->opt.database : pf->config->database;
    char what[PATH_MAX + 96], dir[PATH_MAX], fix[2 * PATH_MAX];
    struct stat st;
    if (pf->opt.database != NULL)
        snprintf(what, sizeof(what), "--db");
    else
        where(pf, "careclock", "database", what, sizeof(what));
    cc_path_dir(path, dir, sizeof(dir));
    if (stat(dir, &st) != 0) {
        problem(pf, "%s: the database directory %s does not exist: systemd-tmpfiles --create makes "
                    "/var/lib/careclock (the package runs it at install), or mkdir -m 0750 %s && chown %s: %s",
                what, dir, dir, pf->user.name, dir);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        problem(pf, "%s: %s is not a directory: the database must be a file in a directory", what, dir);
        return;
    }
    snprintf(fix, sizeof(fix), "chown %s: %s (SQLite writes the -wal and -shm files beside the database)",
             pf->user.name, dir);
    check_access(pf, what, dir, &st, W_OK | X_OK, "writable (no file can be created in it)", fix);
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            note(pf, "%s: %s does not exist yet: careclockd creates it (mode 0600) when it starts", what, path);
        else
            problem(pf, "%s: %s: %s", what, path, strerror(errno));
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        problem(pf, "%s: %s is a directory: name the database file (%s/careclock.db)", what, path, path);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        problem(pf, "%s: %s is not a regular file: name the database file", what, path);
        return;
    }
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char file[PATH_MAX + 8];
        snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
        if (i > 0 && stat(file, &st) != 0)
            continue;
        snprintf(fix, sizeof(fix), "chown %s: %s%s", pf->user.name, path, i == 0 ? " and its -wal and -shm" : "");
        check_access(pf, what, file, &st, R_OK | W_OK, "readable and writable", fix);
    }
}

/* A file careclock reads (rules, holidays): a readable file. */
static void check_read_file(pf_t *pf, const char *section, const char *key, const char *path)
{
    char what[PATH_MAX + 96], fix[PATH_MAX + 64];
    struct stat st;
    where(pf, section, key, what, sizeof(what));
    if (stat(path, &st) != 0) {
        problem(pf, "%s: %s: %s", what, path, strerror(errno));
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        problem(pf, "%s: %s is a directory: name the file", what, path);
        return;
    }
    snprintf(fix, sizeof(fix), "chmod a+r %s", path);
    check_access(pf, what, path, &st, R_OK, "readable", fix);
}

static void check_file_channel(pf_t *pf)
{
    const char *path = pf->config->file_channel;
    char what[PATH_MAX + 96], dir[PATH_MAX], fix[PATH_MAX + 64];
    struct stat st;
    if (path == NULL)
        return;
    where(pf, "notify", "file_channel", what, sizeof(what));
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            problem(pf, "%s: %s is not a directory: name a directory for the message files", what, path);
            return;
        }
        snprintf(fix, sizeof(fix), "chown %s: %s", pf->user.name, path);
        check_access(pf, what, path, &st, W_OK | X_OK, "writable", fix);
        return;
    }
    cc_path_dir(path, dir, sizeof(dir));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        problem(pf, "%s: neither %s nor its parent %s exists: create it (mkdir -m 0700 %s && chown %s: %s)", what,
                path, dir, path, pf->user.name, path);
        return;
    }
    snprintf(fix, sizeof(fix), "create %s for it (mkdir -m 0700 %s && chown %s: %s)", path, path, pf->user.name,
             path);
    check_access(pf, what, dir, &st, W_OK | X_OK, "writable", fix);
}

/* ---- [smtp] --------------------------------------------------------------- */

/* The host of an smtp:// URL, without user info, port or brackets. */
static void url_host(const char *url, char *host, size_t len)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    size_t n = strcspn(h, "/?#");
    const char *at = memchr(h, '@', n);
    if (at != NULL) {
        n -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    if (h[0] == '[') {
        const char *close = memchr(h, ']', n);
        n = close ? (size_t)(close - h - 1) : n - 1;
        h++;
    } else {
        const char *colon = memchr(h, ':', n);
        if (colon != NULL)
            n = (size_t)(colon - h);
    }
    snprintf(host, len, "%.*s", (int)n, h);
}

static int loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

static void check_smtp(pf_t *pf)
{
    const cc_config_t *c = pf->config;
    char what[PATH_MAX + 96], host[256];
    if (c->smtp_url == NULL) {
        if (c->smtp_from || c->smtp_username || c->smtp_password_file)
            note(pf, "[smtp] has no url: careclock sends no email, and the other [smtp] keys are not used");
        return;
    }
    if (c->smtp_from == NULL)
        problem(pf, "%s: url is set but from is not: add from = careclock@your-council.example to [smtp] (the "
                    "From: of every email and the domain of its Message-ID)",
                where(pf, "smtp", "url", what, sizeof(what)));
    url_host(c->smtp_url, host, sizeof(host));
    if (!c->smtp_tls_required && strncmp(c->smtp_url, "smtps://", 8) != 0 && !loopback(host))
        problem(pf, "%s: tls = none sends the password and the children's details unencrypted to %s: it is only "
                    "for a relay on this machine (smtp://127.0.0.1:25); use tls = required (STARTTLS) or an "
                    "smtps:// URL",
                where(pf, "smtp", "tls", what, sizeof(what)), host);
    if (c->smtp_username != NULL && c->smtp_password_file == NULL)
        problem(pf, "%s: username is set but password_file is not: add password_file (the file holding the "
                    "password), or remove username for a relay that does not want AUTH",
                where(pf, "smtp", "username", what, sizeof(what)));
    if (c->smtp_password_file != NULL && c->smtp_username == NULL)
        problem(pf, "%s: password_file is set but username is not: add username = the account on the relay",
                where(pf, "smtp", "password_file", what, sizeof(what)));
    if (c->smtp_password_file != NULL && c->file_channel == NULL)
        check_secret(pf, "smtp", "password_file", c->smtp_password_file);
}

int cc_preflight_run(const cc_config_t *config, const cc_preflight_options_t *options,
                     cc_preflight_report_fn report, void *data)
{
    pf_t *pf = calloc(1, sizeof(*pf));
    if (pf == NULL)
        return CC_ENOMEM;
    pf->config = config;
    if (options != NULL)
        pf->opt = *options;
    pf->report = report;
    pf->data = data;

    load_unit(pf);
    resolve_user(pf);
    check_database(pf);
    for (size_t i = 0; i < config->nrules; i++)
        check_read_file(pf, "careclock", "rules", config->rules[i]);
    for (size_t i = 0; i < config->nholidays; i++)
        check_read_file(pf, "careclock", "holidays", config->holidays[i]);
    check_smtp(pf);
    for (size_t i = 0; i < config->nwebhooks; i++) {
        char section[80];
        snprintf(section, sizeof(section), "webhook:%s", config->webhooks[i].name);
        if (config->webhooks[i].secret_file != NULL)
            check_secret(pf, section, "secret_file", config->webhooks[i].secret_file);
    }
    check_file_channel(pf);
    if (pf->opt.listen_probe != NULL) {
        const char *listen = pf->opt.listen ? pf->opt.listen : config->listen;
        char msg[1024] = "";
        if (pf->opt.listen_probe(listen, msg, sizeof(msg)) != 0)
            problem(pf, "[http] listen %s: %s", listen, msg);
        else if (msg[0] != '\0')
            note(pf, "[http] listen %s: %s", listen, msg);
        /* /healthz and /metrics listen apart (unless the same address). */
        const char *admin = config->admin_listen;
        msg[0] = '\0';
        if (admin != NULL && strcmp(admin, listen) != 0) {
            if (pf->opt.listen_probe(admin, msg, sizeof(msg)) != 0)
                problem(pf, "[http] admin_listen %s: %s", admin, msg);
            else if (msg[0] != '\0')
                note(pf, "[http] admin_listen %s: %s", admin, msg);
        }
    }
    int problems = pf->problems;
    free(pf);
    return problems;
}

void cc_preflight_print(void *data, cc_preflight_level_t level, const char *message)
{
    (void)data;
    if (level == CC_PREFLIGHT_PROBLEM)
        fprintf(stderr, "  problem: %s\n", message);
    else
        printf("  note: %s\n", message);
}

int cc_preflight_check(const char *prog, const char *path, cc_config_source_t source,
                       const cc_preflight_options_t *options)
{
    cc_env_t env;
    char err[1024];
    if (path == NULL)
        printf("%s: %s does not exist: checking the built-in defaults\n", prog, cc_config_default_path());
    else
        printf("%s: checking %s (%s)\n", prog, path, cc_config_source_name(source));
    fflush(stdout);
    int rc = cc_env_load(&env, path, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "  problem: %s\n%s: the configuration is refused: careclockd would not start\n", err, prog);
        return rc == CC_ENOMEM ? 1 : 2;
    }
    int problems = cc_preflight_run(&env.config, options, cc_preflight_print, NULL);
    fflush(stdout);
    if (problems < 0) {
        fprintf(stderr, "%s: %s\n", prog, cc_strerror(problems));
    } else if (problems > 0) {
        fprintf(stderr, "%s: %d problem%s: careclockd would fail; fix %s and check again\n", prog, problems,
                problems == 1 ? "" : "s", problems == 1 ? "it" : "them");
    } else {
        printf("%s: %s is valid: %zu rules, division %s, time zone %s, database %s\n", prog,
               path ? path : "the built-in configuration", cc_ruleset_count(env.rules), env.config.division,
               env.config.timezone, options && options->database ? options->database : env.config.database);
    }
    cc_env_free(&env);
    return problems < 0 ? 1 : problems > 0 ? 2 : 0;
}
