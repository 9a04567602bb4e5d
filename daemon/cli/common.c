/* Shared set-up for CLI commands: configuration, rules, calendar. */
#include "cli/cli.h"
#include "careclock/error.h"
#include "careclock/evaluate.h"
#include "careclock/time.h"

#include "careclock/csv.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

void cc_cli_set_db(cc_cli_t *cli, const cc_config_t *config)
{
    if (cli->db_option != NULL && cli->db_option[0] != '\0') {
        cli->db_path = cli->db_option;
        snprintf(cli->db_origin, sizeof(cli->db_origin), "%s", cli->db_option_name);
        return;
    }
    snprintf(cli->db_buf, sizeof(cli->db_buf), "%s", config->database);
    cli->db_path = cli->db_buf;
    int line = cc_config_line(config, "careclock", "database");
    if (line > 0)
        snprintf(cli->db_origin, sizeof(cli->db_origin), "[careclock] database, %s:%d", cli->config_path, line);
    else if (cli->config_path != NULL)
        snprintf(cli->db_origin, sizeof(cli->db_origin), "the built-in default; %s sets no [careclock] database",
                 cli->config_path);
    else
        snprintf(cli->db_origin, sizeof(cli->db_origin), "the built-in default; there is no %s",
                 cc_config_default_path());
}

int cc_cli_resolve_db(cc_cli_t *cli)
{
    cc_config_t config;
    char err[1024];
    if (cli->db_path != NULL)
        return 0;
    if (cc_config_defaults(&config) != 0) {
        fprintf(stderr, "%s: out of memory\n", cli->prog);
        return CC_EXIT_FAIL;
    }
    int rc = cli->config_path ? cc_config_load(&config, cli->config_path, err, sizeof(err)) : 0;
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", cli->prog, err);
        cc_config_free(&config);
        return rc == CC_EIO ? CC_EXIT_FAIL : CC_EXIT_USAGE;
    }
    cc_cli_set_db(cli, &config);
    cc_config_free(&config);
    return 0;
}

int cc_cli_open_db(cc_cli_t *cli, cc_store_t **store)
{
    char err[512];
    int rc = cc_cli_resolve_db(cli);
    if (rc != 0)
        return rc;
    rc = cc_store_open_existing(cli->db_path, store, err, sizeof(err));
    if (rc == CC_ENOTFOUND) {
        if (cli->db_path == cli->db_option)
            fprintf(stderr, "%s: there is no database at %s (%s): check the path, or create it with careclock "
                            "init\n",
                    cli->prog, cli->db_path, cli->db_origin);
        else
            fprintf(stderr,
                    "%s: there is no database at %s (%s): careclockd creates it when it first starts "
                    "(systemctl start careclockd), or run careclock init as the user careclockd runs as; "
                    "--db PATH names another database\n",
                    cli->prog, cli->db_path, cli->db_origin);
        return CC_EXIT_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", cli->prog, err);
        return CC_EXIT_FAIL;
    }
    if (cc_store_backup_path(*store) != NULL) {
        int from, to;
        cc_store_open_info(*store, NULL, &from, &to);
        fprintf(stderr, "%s: migrated %s from schema version %d to %d; the database as it was is in %s\n",
                cli->prog, cli->db_path, from, to, cc_store_backup_path(*store));
    }
    /* A reassignment this command writes holds from --today (assignments). */
    cc_store_set_since(*store, cli->today);
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

int cc_cli_print(void *printer, const char *const *values)
{
    const cc_cli_printer_t *p = printer;
    return p->row(p->arg, values);
}

void cc_cli_table_init(cc_cli_table_t *t, FILE *out, const int *shown, size_t nshown, const char *const *names)
{
    memset(t, 0, sizeof(*t));
    t->out = out;
    t->shown = shown;
    t->nshown = nshown;
    for (size_t i = 0; i < nshown; i++)
        t->width[shown[i]] = (int)strlen(names[shown[i]]);
}

int cc_cli_table_measure(void *arg, const char *const *values)
{
    cc_cli_table_t *t = arg;
    t->rows++;
    for (size_t i = 0; i < t->nshown; i++) {
        int c = t->shown[i], w = values[c] != NULL ? (int)strlen(values[c]) : 0;
        if (w > t->width[c])
            t->width[c] = w;
    }
    return 0;
}

void cc_cli_csv_line(FILE *out, const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cc_csv_fput(out, values[i] != NULL ? values[i] : "");
        fputs(i + 1 < n ? "," : "\r\n", out);
    }
}

json_t *cc_cli_json_row(const char *const *names, const char *const *values, size_t n, uint64_t numbers)
{
    json_t *o = json_object();
    for (size_t i = 0; o != NULL && i < n; i++) {
        json_t *v = values[i] == NULL                       ? json_null()
                    : i < 64 && (numbers >> i & 1) != 0 ? json_integer(strtoll(values[i], NULL, 10))
                                                           : json_string(values[i]);
        json_object_set_new(o, names[i], v);
    }
    return o;
}

char *cc_cli_actor(char *buf, size_t len)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw != NULL && pw->pw_name != NULL)
        snprintf(buf, len, "cli:%s", pw->pw_name);
    else
        snprintf(buf, len, "cli:uid %u", (unsigned)geteuid());
    return buf;
}

void cc_cli_set_actor(cc_store_t *store)
{
    char actor[96];
    cc_store_set_actor(store, cc_cli_actor(actor, sizeof(actor)));
}

const cc_rule_t *cc_cli_find_clock(const cc_cli_env_t *env, const char *command, const char *clock_id)
{
    const cc_rule_t *rule = cc_ruleset_find(env->rules, clock_id);
    if (rule != NULL)
        return rule;
    fprintf(stderr, "careclock %s: no clock \"%s\"; the clocks are:", command, clock_id);
    for (size_t i = 0; i < cc_ruleset_count(env->rules); i++)
        fprintf(stderr, " %s", cc_ruleset_rule(env->rules, i)->id);
    fputc('\n', stderr);
    return NULL;
}

void cc_cli_out_init(cc_cli_out_t *o, FILE *out)
{
    o->out = out;
    o->n = 0;
    o->failed = 0;
}

static void out_drain(cc_cli_out_t *o)
{
    if (o->n > 0 && !o->failed && fwrite(o->buf, 1, o->n, o->out) != o->n)
        o->failed = 1;
    o->n = 0;
}

void cc_cli_out_write(cc_cli_out_t *o, const char *bytes, size_t len)
{
    if (o->n + len > sizeof(o->buf)) {
        out_drain(o);
        if (len > sizeof(o->buf)) {
            if (!o->failed && fwrite(bytes, 1, len, o->out) != len)
                o->failed = 1;
            return;
        }
    }
    memcpy(o->buf + o->n, bytes, len);
    o->n += len;
}

void cc_cli_out_puts(cc_cli_out_t *o, const char *text)
{
    cc_cli_out_write(o, text, strlen(text));
}

void cc_cli_out_csv_cell(cc_cli_out_t *o, const char *text)
{
    if (text == NULL || text[0] == '\0')
        return;
    /* The rules of cc_csv_cell(): quoted when it holds , " CR or LF;
     * defused (a leading ') when it begins like a formula. One pass finds
     * both the length and whether to quote (strpbrk, then strlen, were a
     * tenth of a council's listing). */
    static const unsigned char special[256] = {[','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1};
    static const unsigned char formula[256] = {['='] = 1, ['+'] = 1, ['-'] = 1, ['@'] = 1, ['\t'] = 1, ['\r'] = 1};
    const unsigned char *u = (const unsigned char *)text;
    size_t len = 0;
    unsigned char quote = 0;
    for (; u[len] != '\0'; len++)
        quote |= special[u[len]];
    int defuse = formula[u[0]];
    if (!quote && !defuse) {
        cc_cli_out_write(o, text, len);
        return;
    }
    cc_cli_out_puts(o, defuse ? "\"'" : "\"");
    for (const char *p = text; *p;) {
        const char *q = strchr(p, '"');
        size_t n = q ? (size_t)(q - p) + 1 : strlen(p);
        cc_cli_out_write(o, p, n);
        if (q == NULL)
            break;
        cc_cli_out_write(o, "\"", 1);
        p = q + 1;
    }
    cc_cli_out_write(o, "\"", 1);
}

void cc_cli_out_csv_line(cc_cli_out_t *o, const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cc_cli_out_csv_cell(o, values[i]);
        cc_cli_out_write(o, i + 1 < n ? "," : "\r\n", i + 1 < n ? 1 : 2);
    }
}

void cc_cli_out_json_string(cc_cli_out_t *o, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    if (text == NULL) {
        cc_cli_out_write(o, "null", 4);
        return;
    }
    cc_cli_out_write(o, "\"", 1);
    const char *run = text;
    for (const unsigned char *p = (const unsigned char *)text;; p++) {
        unsigned char c = *p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        cc_cli_out_write(o, run, (size_t)((const char *)p - run));
        if (c == '\0')
            break;
        char esc[7] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            n = 6;
        }
        cc_cli_out_write(o, esc, n);
        run = (const char *)p + 1;
    }
    cc_cli_out_write(o, "\"", 1);
}

int cc_cli_out_flush(cc_cli_out_t *o)
{
    out_drain(o);
    if (!o->failed && fflush(o->out) != 0)
        o->failed = 1;
    return o->failed ? CC_EIO : 0;
}

void cc_cli_errorf(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "careclock %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
