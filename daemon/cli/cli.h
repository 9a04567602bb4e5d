/* The careclock command: global options shared by every subcommand, and
 * one entry point per subcommand (one file each in daemon/cli/). Each returns a process
 * exit status: 0 success, 1 a failure of the system (I/O, database), 2 a
 * bad argument or bad input, 3 an answer computed outside the holiday
 * calendar's covered years. */
#ifndef CARECLOCK_CLI_H
#define CARECLOCK_CLI_H

#include "careclock/calendar.h"
#include "careclock/config.h"
#include "careclock/date.h"
#include "careclock/decision.h"
#include "careclock/env.h"
#include "careclock/store.h"
#include "careclock/rules.h"

#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

enum { CC_EXIT_OK = 0, CC_EXIT_FAIL = 1, CC_EXIT_USAGE = 2, CC_EXIT_UNCOVERED = 3 };

typedef struct {
    const char *prog;        /* argv[0] for messages */
    const char *db_option;   /* --db, else $CARECLOCK_DB; NULL: the configuration's database */
    const char *db_option_name; /* "--db" or "$CARECLOCK_DB" */
    const char *config_path; /* the file to read (cc_config_locate), NULL: built-in defaults */
    cc_config_source_t config_source;
    time_t now;              /* --now (UTC), else the wall clock at start: the CLI's one reading of it */
    cc_date_t today;         /* --today, else the date at now in [careclock] timezone (as careclockd) */
    /* Filled by cc_cli_resolve_db(): */
    const char *db_path;     /* the database, NULL until resolved */
    char db_buf[PATH_MAX];
    char db_origin[PATH_MAX + 64]; /* how it was chosen, in words, for messages */
} cc_cli_t;

/* Set cli->db_path: --db, else $CARECLOCK_DB, else [careclock] database of
 * the configuration (which is read for it), else the built-in default
 * (/var/lib/careclock/careclock.db): the database careclockd uses. Never
 * the current directory. Returns 0, or an exit status after printing why
 * (the configuration does not load). */
int cc_cli_resolve_db(cc_cli_t *cli);

/* The same from a configuration already loaded (main does it once). */
void cc_cli_set_db(cc_cli_t *cli, const cc_config_t *config);

/* What most commands need: the configuration (defaults, then --config),
 * the rules it names and the calendar (see env.h). */
typedef cc_env_t cc_cli_env_t;

/* Load cli's configuration, rules and calendar into env. On failure prints
 * the reason on stderr and returns the exit status to use (2 for bad
 * configuration or rules, 1 for I/O); env then holds nothing to free.
 * Returns 0 on success; free with cc_cli_env_free(). */
int cc_cli_env_load(const cc_cli_t *cli, cc_cli_env_t *env);
void cc_cli_env_free(cc_cli_env_t *env);

/* Open the database named by cli (cc_cli_resolve_db; it must exist:
 * commands other than init never create one). Returns 0, or an exit status
 * after printing why: a missing database is named with where the name came
 * from and how to make it. */
int cc_cli_open_db(cc_cli_t *cli, cc_store_t **store);

/* Bring the clocks table up to date for cli->today (everything when the day
 * or the rule files changed, else the children in the change queue),
 * warning on stderr about counts outside the holiday calendar's years.
 * Returns 0 or an exit status after printing why. */
int cc_cli_refresh(const cc_cli_t *cli, cc_cli_env_t *env, cc_store_t *store);

/* Record "cli:USER" (the effective user) as the author of the audit rows
 * this connection's writes produce. */
void cc_cli_set_actor(cc_store_t *store);

/* "careclock CMD: MESSAGE" and a newline on stderr. */
void cc_cli_errorf(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "cli:USER" (the effective user) into buf; returns buf. */
char *cc_cli_actor(char *buf, size_t len);

/* Decisions about clocks (daemon/cli/decide.c; docs/engine.md, "Decisions").
 *   careclock clock extend CHILD CLOCK [SEQ|INSTANCE] --to DATE --by STAFF --reason TEXT [--with STAFF]
 *   careclock clock except CHILD CLOCK [SEQ|INSTANCE] --reason CODE --by STAFF [--note TEXT]
 *   careclock clock ack CHILD CLOCK [SEQ|INSTANCE] --until DATE --by STAFF [--note TEXT]
 *   careclock clock inform CHILD CLOCK [SEQ|INSTANCE] --to STAFF --by STAFF [--note TEXT]
 *   careclock clock withdraw DECISION_ID --by STAFF --reason TEXT
 *   careclock clock decisions CHILD [CLOCK] [--format table|json]
 * (each taking [--on DATE], the day it was decided, default today). */
int cc_cli_clock(cc_cli_t *cli, int argc, char **argv);

/* One decision as the listings' JSON: id, kind, clock, instance, the
 * kind's fields, who, role, on, at, via, actor, withdrawn_by (the
 * withdrawal's id, or null; from list[0..n) when given). */
json_t *cc_cli_decision_json(const cc_decision_t *d, const cc_decision_t *list, size_t n);

/* The rule named clock_id, or NULL after telling stderr, under the
 * command's name, that there is no such clock and listing the ones there
 * are. */
const cc_rule_t *cc_cli_find_clock(const cc_cli_env_t *env, const char *command, const char *clock_id);

/* The listings (clocks, deliveries): a row is its n columns as text, NULL
 * for NULL.
 *  - csv: one CSV line of the values (NULL as ""), CRLF-terminated;
 *  - json: an object names[i] -> values[i], as an integer where bit i of
 *    numbers is set, null for NULL, else a string (NULL when out of
 *    memory). */
/* What a listing's format does with each row (its columns); the printer
 * travels as the arg of the store's row function. */
typedef struct {
    int (*row)(void *arg, const char *const *values);
    void *arg;
} cc_cli_printer_t;

/* Hand a row's columns to printer (a cc_cli_printer_t): its row's value. */
int cc_cli_print(void *printer, const char *const *values);

/* A listing's table: the columns shown (nshown of them), each one's width
 * (start: its name's), the rows counted by a first pass. */
#define CC_CLI_COLS_MAX 32
typedef struct {
    const int *shown;
    size_t nshown;
    int width[CC_CLI_COLS_MAX];
    int rows;
    FILE *out;
} cc_cli_table_t;

/* Start a table of the columns shown (names[c] heads column c). */
void cc_cli_table_init(cc_cli_table_t *t, FILE *out, const int *shown, size_t nshown, const char *const *names);

/* The first pass, a printer's row function (arg: the table): count the
 * row and widen the columns shown to its values. */
int cc_cli_table_measure(void *arg, const char *const *values);
void cc_cli_csv_line(FILE *out, const char *const *values, size_t n);

/* Buffered output for a listing streamed as it is read: bytes gather in
 * buf and go to out with one write per 64 KiB (stdio's own buffer is
 * bypassed: a row is a few appends, not a call per field). */
typedef struct {
    FILE *out;
    size_t n;
    int failed;               /* a write failed: later output is dropped */
    char buf[1 << 16];
} cc_cli_out_t;

void cc_cli_out_init(cc_cli_out_t *o, FILE *out);
void cc_cli_out_write(cc_cli_out_t *o, const char *bytes, size_t len);
void cc_cli_out_puts(cc_cli_out_t *o, const char *text);
/* A CSV cell, quoted and defused as cc_csv_cell() does (NULL as empty). */
void cc_cli_out_csv_cell(cc_cli_out_t *o, const char *text);
/* A row of n CSV cells ending CRLF, as cc_cli_csv_line(). */
void cc_cli_out_csv_line(cc_cli_out_t *o, const char *const *values, size_t n);
/* text as a JSON string, escaped as jansson's json_dumps() escapes it
 * (NULL as null). */
void cc_cli_out_json_string(cc_cli_out_t *o, const char *text);
/* Write what is buffered: 0, or CC_EIO when any write failed. */
int cc_cli_out_flush(cc_cli_out_t *o);
json_t *cc_cli_json_row(const char *const *names, const char *const *values, size_t n, uint64_t numbers);

/* careclock calc DATE OFFSET... | --between DATE1 DATE2 */
int cc_cli_calc(cc_cli_t *cli, int argc, char **argv);

/* careclock clocks [--child ID] [--team ID] [--worker ID] [--status S,...]
 *                  [--format table|json|csv] [--cached] */
int cc_cli_clocks(cc_cli_t *cli, int argc, char **argv);

/* careclock explain CHILD_ID CLOCK [SEQ | INSTANCE] */
int cc_cli_explain(cc_cli_t *cli, int argc, char **argv);

/* careclock rules check FILE... | rules list */
int cc_cli_rules(cc_cli_t *cli, int argc, char **argv);

/* The configuration (daemon/cli/config.c).
 *   careclock config check [--user USER] [--unit FILE]   what careclockd --check-config checks
 *   careclock config show [--changed]                     the configuration in effect, secrets elided
 *   careclock config path                                 the file careclock reads */
int cc_cli_config(cc_cli_t *cli, int argc, char **argv);

/* careclock backup DEST [--keep N] (daemon/cli/backup.c) */
int cc_cli_backup(cc_cli_t *cli, int argc, char **argv);

/* The administrative commands (daemon/cli/admin.c). Each opens the
 * database at cli->db_path; all but init refuse (exit 2) when it does not
 * exist rather than create an empty one.
 *   careclock init
 *   careclock staff add ID --name N --email E --role R [--manager ID]
 *   careclock team add ID --name N --manager ID [--service-manager ID] [--webhook NAME]
 *   careclock team set ID [--webhook NAME] [--name N] [--manager ID] [--service-manager ID]
 *   careclock child add ID --dob DATE --team T --worker W [--iro I] [--initials AB] [--name NAME]
 *   careclock child set ID [--team T] [--worker W] [--iro I]
 *   careclock event add CHILD_ID TYPE DATE [key=value ...] [--note TEXT]
 *   careclock event list CHILD_ID
 *   careclock event delete EVENT_ID
 *   careclock staff list, careclock team list      ids first, tab-separated (shell completion reads them)
 * argv[0] is the command word. */
int cc_cli_init(cc_cli_t *cli, int argc, char **argv);
int cc_cli_staff(cc_cli_t *cli, int argc, char **argv);
int cc_cli_team(cc_cli_t *cli, int argc, char **argv);
int cc_cli_child(cc_cli_t *cli, int argc, char **argv);
int cc_cli_event(cc_cli_t *cli, int argc, char **argv);

/* Calendar feeds (daemon/cli/feeds.c).
 *   careclock feed add --team ID | --staff ID   prints the subscription URL, once
 *   careclock feed list [--format table|json]   feeds and their last fetch, never tokens
 *   careclock feed revoke FEED_ID
 *   careclock ics --team ID | --staff ID        refresh, then the feed's calendar on stdout */
int cc_cli_feed(cc_cli_t *cli, int argc, char **argv);
int cc_cli_ics(cc_cli_t *cli, int argc, char **argv);

/* The SSDA903 import (daemon/cli/import.c; docs/import.md).
 *   careclock import ssda903 PATH... [--skip-bad-rows] [--dry-run] */
int cc_cli_import(cc_cli_t *cli, int argc, char **argv);

/* Timeliness report (daemon/cli/report.c, daemon/store/report.c).
 *   careclock report timeliness [--from DATE] [--to DATE] [--team ID] [--clock ID]
 *                               [--format table|csv|json] [--detail] */
int cc_cli_report(cc_cli_t *cli, int argc, char **argv);

/* Reminders and escalations (daemon/cli/deliveries.c; docs/delivery.md).
 *   careclock deliveries [--status S[,S...]] [--child ID] [--format table|json|csv]
 *   careclock deliveries run [--now YYYY-MM-DDTHH:MM] [--max-messages N]
 *   careclock deliveries retry ID
 *   careclock deliveries webhooks
 *   careclock deliveries enable-webhook NAME */
int cc_cli_deliveries(cc_cli_t *cli, int argc, char **argv);

/* careclock deliveries test --to ADDRESS | --webhook NAME (daemon/cli/testsend.c):
 * one test message through the configured channel; argv[1] is "test". */
int cc_cli_deliveries_test(cc_cli_t *cli, int argc, char **argv);

#endif
