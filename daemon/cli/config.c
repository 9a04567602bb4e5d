/* careclock config: the configuration from the command line.
 *   careclock config check [--user USER] [--unit FILE]
 *   careclock config show [--changed]
 *   careclock config path
 * check is careclockd --check-config (preflight.h) on the file careclock
 * reads, which is the one the service reads unless --config or
 * $CARECLOCK_CONFIG name another. */
#include "cli/cli.h"
#include "careclock/http.h"
#include "careclock/preflight.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: careclock config check [--user USER] [--unit FILE]\n"
          "       careclock config show [--changed]\n"
          "       careclock config path\n"
          "  check      load the configuration, rules and holidays, then check the machine as careclockd will\n"
          "             meet it: secret files, the database directory, [smtp], the listen address (exit 0\n"
          "             valid, 2 not; each problem names its fix). The same as careclockd --check-config\n"
          "  --user U   check as this service user (default: [careclockd] user, else User= of the installed\n"
          "             careclockd.service, else you)\n"
          "  --unit F   read User= and LoadCredential= from this unit file\n"
          "  show       the configuration in effect, every key (those not in the file marked \"default\"),\n"
          "             secrets elided; --changed: only the keys the file sets\n"
          "  path       the file careclock reads, and why that one\n",
          out);
}

static int cmd_check(cc_cli_t *cli, int argc, char **argv)
{
    cc_preflight_options_t opt = {.listen_probe = cc_http_listen_probe};
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CC_EXIT_OK;
        }
        if (i + 1 < argc && strcmp(argv[i], "--user") == 0) {
            opt.user = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--unit") == 0) {
            opt.unit = argv[++i];
        } else {
            fprintf(stderr, "careclock config check: unknown option or missing value \"%s\"\n", argv[i]);
            usage(stderr);
            return CC_EXIT_USAGE;
        }
    }
    /* --db / $CARECLOCK_DB stand for the database the service opens. */
    if (cli->db_option != NULL && cli->db_option[0] != '\0')
        opt.database = cli->db_option;
    return cc_preflight_check("careclock config check", cli->config_path, cli->config_source, &opt);
}

static int cmd_show(cc_cli_t *cli, int argc, char **argv)
{
    int changed = 0;
    cc_config_t config;
    char err[1024];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CC_EXIT_OK;
        }
        if (strcmp(argv[i], "--changed") != 0) {
            fprintf(stderr, "careclock config show: unknown option \"%s\"\n", argv[i]);
            usage(stderr);
            return CC_EXIT_USAGE;
        }
        changed = 1;
    }
    if (cc_config_defaults(&config) != 0) {
        fprintf(stderr, "careclock config show: out of memory\n");
        return CC_EXIT_FAIL;
    }
    int rc = cli->config_path ? cc_config_load(&config, cli->config_path, err, sizeof(err)) : 0;
    if (rc != 0) {
        fprintf(stderr, "careclock config show: %s\n", err);
        cc_config_free(&config);
        return CC_EXIT_USAGE;
    }
    if (cli->config_path == NULL)
        printf("; %s does not exist: these are the built-in defaults\n", cc_config_default_path());
    cc_config_show(&config, changed, stdout);
    cc_config_free(&config);
    return CC_EXIT_OK;
}

static int cmd_path(cc_cli_t *cli, int argc)
{
    if (argc != 2) {
        usage(stderr);
        return CC_EXIT_USAGE;
    }
    if (cli->config_path == NULL)
        printf("%s (does not exist: built-in defaults)\n", cc_config_default_path());
    else
        printf("%s (%s)\n", cli->config_path, cc_config_source_name(cli->config_source));
    return CC_EXIT_OK;
}

int cc_cli_config(cc_cli_t *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return cmd_check(cli, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return cmd_show(cli, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "path") == 0) {
        if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            usage(stdout);
            return CC_EXIT_OK;
        }
        return cmd_path(cli, argc);
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return CC_EXIT_OK;
    }
    if (argc < 2)
        fprintf(stderr, "careclock config: needs a subcommand\n");
    else
        fprintf(stderr, "careclock config: unknown subcommand \"%s\"\n", argv[1]);
    usage(stderr);
    return CC_EXIT_USAGE;
}
