/* careclock: the command-line front end. Global options come before the
 * command; each command lives in its own file in daemon/cli/. */
#include "cli/cli.h"
#include "careclock/date.h"
#include "careclock/error.h"
#include "careclock/paths.h"
#include "careclock/time.h"
#include "careclock/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

static void usage(FILE *out)
{
    fputs("usage: careclock [--db PATH] [--config FILE] [--today YYYY-MM-DD] [--now YYYY-MM-DDTHH:MM[:SS]]\n"
          "                 COMMAND [ARGS]\n"
          "       careclock --version | -V | --help | help [COMMAND [SUBCOMMAND]]\n"
          "  --db PATH       the plan database (else $CARECLOCK_DB, else [careclock] database)\n"
          "  --config FILE   the configuration (else $CARECLOCK_CONFIG, else /etc/careclock/careclock.conf\n"
          "                  when it exists, else built-in defaults)\n"
          "  --today DATE    today's date, instead of the date now in [careclock] timezone\n"
          "  --now T         the current instant, in UTC (a trailing Z is accepted), instead of the\n"
          "                  system clock: today is its date in [careclock] timezone, as careclockd\n"
          "                  computes it (for tests and demonstrations)\n"
          "commands:\n"
          "  calc DATE OFFSET...      date arithmetic on the working-day calendar\n"
          "  calc --between D1 D2     working days after D1 up to and including D2\n"
          "  init                     create the plan database, or migrate it to this version\n"
          "  staff add ID ... | list  add a staff member (worker, team_manager, service_manager, iro); list them\n"
          "  team add|set ID ... | list   add a team, or change its webhook or managers; list them\n"
          "  child add|set ID ...     add a child, or change their team, worker or IRO\n"
          "  event add CHILD TYPE DATE [key=value ...]   record an event; prints its id\n"
          "  event list CHILD         a child's events\n"
          "  event delete EVENT_ID    delete an event (the audit table keeps it)\n"
          "  clocks [filters]         recompute what changed, then list the statutory clocks\n"
          "  explain CHILD CLOCK [N | INSTANCE]  how a due date was derived, in plain words\n"
          "  clock extend|except|ack|inform CHILD CLOCK [N | INSTANCE] ...  record a decision about a clock\n"
          "  clock withdraw DECISION_ID ...     withdraw one; clock decisions CHILD: list them\n"
          "  rules check FILE...      validate rule files\n"
          "  rules list               the rules loaded, by id\n"
          "  feed add --team ID | --staff ID   create a calendar feed; prints its URL, once\n"
          "  feed list | revoke ID    calendar feeds and their last fetch; end one\n"
          "  ics --team ID | --staff ID        a feed's calendar on stdout\n"
          "  import ssda903 PATH...   import the SSDA903 return (header, episodes, reviews CSVs)\n"
          "  report timeliness        clocks due in a period per clock and team: on time, late, overdue\n"
          "  deliveries [--status S]  reminders and escalations in the outbox, and their state\n"
          "  deliveries run [--now T] plan, send what is ready and record it (the daemon's cycle, once)\n"
          "  deliveries retry ID      requeue a failed or undeliverable delivery\n"
          "  deliveries prune         delete the records of closed clocks older than a date or the retention\n"
          "  config check             check the configuration and the machine, as careclockd --check-config\n"
          "  config show              the configuration in effect, secrets elided\n"
          "  backup DEST              a consistent copy of the database, while careclockd runs\n"
          "The configuration: --config, else $CARECLOCK_CONFIG, else /etc/careclock/careclock.conf when it\n"
          "exists. The database: --db, else $CARECLOCK_DB, else its [careclock] database.\n"
          "Run 'careclock help COMMAND' or 'careclock COMMAND --help' for a command's options; man careclock.\n",
          out);
}

static void version(int libraries)
{
    printf("careclock %s\n", cc_version());
    if (!libraries)
        return;
    printf("configuration: %s (or --config, $CARECLOCK_CONFIG)\n", cc_config_default_path());
    char dir[PATH_MAX];
    cc_paths_datadir(dir, sizeof(dir));
    printf("rules and holidays: %s\nlibraries:\n", dir);
    cc_version_libraries(stdout);
}

/* Dispatch argv[0] to its command; returns the exit status. */
static int run_command(cc_cli_t *cli, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "calc") == 0)
        return cc_cli_calc(cli, argc, argv);
    if (strcmp(cmd, "init") == 0)
        return cc_cli_init(cli, argc, argv);
    if (strcmp(cmd, "staff") == 0)
        return cc_cli_staff(cli, argc, argv);
    if (strcmp(cmd, "team") == 0)
        return cc_cli_team(cli, argc, argv);
    if (strcmp(cmd, "child") == 0)
        return cc_cli_child(cli, argc, argv);
    if (strcmp(cmd, "event") == 0)
        return cc_cli_event(cli, argc, argv);
    if (strcmp(cmd, "clocks") == 0)
        return cc_cli_clocks(cli, argc, argv);
    if (strcmp(cmd, "clock") == 0)
        return cc_cli_clock(cli, argc, argv);
    if (strcmp(cmd, "explain") == 0)
        return cc_cli_explain(cli, argc, argv);
    if (strcmp(cmd, "rules") == 0)
        return cc_cli_rules(cli, argc, argv);
    if (strcmp(cmd, "feed") == 0)
        return cc_cli_feed(cli, argc, argv);
    if (strcmp(cmd, "ics") == 0)
        return cc_cli_ics(cli, argc, argv);
    if (strcmp(cmd, "import") == 0)
        return cc_cli_import(cli, argc, argv);
    if (strcmp(cmd, "report") == 0)
        return cc_cli_report(cli, argc, argv);
    if (strcmp(cmd, "deliveries") == 0)
        return cc_cli_deliveries(cli, argc, argv);
    if (strcmp(cmd, "config") == 0)
        return cc_cli_config(cli, argc, argv);
    if (strcmp(cmd, "backup") == 0)
        return cc_cli_backup(cli, argc, argv);
    fprintf(stderr, "careclock: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return CC_EXIT_USAGE;
}

/* The exit status for a configuration that failed to load with rc (as
 * cc_cli_env_load: 1 when it could not be read, 2 when it is wrong). */
static int config_status(int rc)
{
    return rc == CC_EIO || rc == CC_ENOMEM ? CC_EXIT_FAIL : CC_EXIT_USAGE;
}

/* careclock help [COMMAND [SUBCOMMAND]]: the overview, or the command's
 * own --help. */
static int help(cc_cli_t *cli, int argc, char **argv)
{
    char *words[4];
    if (argc < 2) {
        usage(stdout);
        return CC_EXIT_OK;
    }
    if (argc > 3) {
        fprintf(stderr, "careclock help: at most a command and a subcommand\n");
        return CC_EXIT_USAGE;
    }
    int n = 0;
    for (int i = 1; i < argc; i++)
        words[n++] = argv[i];
    words[n++] = "--help";
    words[n] = NULL;
    return run_command(cli, n, words);
}

/* Commands that must work when the configuration does not load: they
 * report it (config check, config show) or do not need it. */
static int tolerates_bad_config(int argc, char **argv)
{
    return argc > 0 && (strcmp(argv[0], "config") == 0 || strcmp(argv[0], "help") == 0);
}

int main(int argc, char **argv)
{
    cc_cli_t cli = {.prog = "careclock"};
    const char *today = NULL, *now = NULL, *config_option = NULL, *db_option = NULL;
    char err[1024] = "";
    int i = 1, rc;
    /* Every command may hold children's records read from the database, and
     * deliveries run the SMTP password and webhook keys: no core dump and no
     * ptrace by the same user for the whole run (docs/security.md, "Core
     * dumps"). A command is short; a crash still leaves its message. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        perror("careclock: prctl(PR_SET_DUMPABLE)");
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CC_EXIT_OK;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            version(a[1] == 'V');
            return CC_EXIT_OK;
        }
        if (strcmp(a, "--db") != 0 && strcmp(a, "--config") != 0 && strcmp(a, "--today") != 0 &&
            strcmp(a, "--now") != 0) {
            fprintf(stderr, "careclock: unknown option \"%s\"\n", a);
            usage(stderr);
            return CC_EXIT_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "careclock: %s needs a value\n", a);
            return CC_EXIT_USAGE;
        }
        if (strcmp(a, "--db") == 0)
            db_option = argv[++i];
        else if (strcmp(a, "--config") == 0)
            config_option = argv[++i];
        else if (strcmp(a, "--now") == 0)
            now = argv[++i];
        else
            today = argv[++i];
    }
    cli.now = time(NULL);
    if (now != NULL && cc_time_parse_wall(now, 1, &cli.now) != 0) {
        fprintf(stderr, "careclock: --now \"%s\" is not a UTC time YYYY-MM-DDTHH:MM[:SS]\n", now);
        return CC_EXIT_USAGE;
    }
    cli.db_option = db_option ? db_option : getenv("CARECLOCK_DB");
    cli.db_option_name = db_option ? "--db" : "$CARECLOCK_DB";
    cli.config_source = cc_config_locate(config_option, getenv("CARECLOCK_CONFIG"), &cli.config_path);
    /* The configuration (defaults, then the file): the time zone today is
     * taken in, once for the whole process, and the database. A file that
     * does not load stops every command but those that report it. */
    cc_config_t config = {0};
    if ((rc = cc_config_defaults(&config)) != 0 ||
        (cli.config_path != NULL && (rc = cc_config_load(&config, cli.config_path, err, sizeof(err))) != 0) ||
        (rc = cc_time_set_zone(config.timezone, err, sizeof(err))) != 0) {
        if (!tolerates_bad_config(argc - i, argv + i)) {
            fprintf(stderr, "careclock: %s\n", err[0] ? err : cc_strerror(rc));
            cc_config_free(&config);
            return config_status(rc);
        }
    } else {
        cc_cli_set_db(&cli, &config);
    }
    cc_config_free(&config);
    if (today != NULL) {
        if (cc_date_parse_iso(today, &cli.today) != 0) {
            fprintf(stderr, "careclock: --today \"%s\" is not a valid date (expected YYYY-MM-DD)\n", today);
            return CC_EXIT_USAGE;
        }
    } else {
        cli.today = cc_time_local(cli.now).date;
    }
    if (i >= argc) {
        usage(stderr);
        return CC_EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0)
        return help(&cli, argc - i, argv + i);
    return run_command(&cli, argc - i, argv + i);
}
