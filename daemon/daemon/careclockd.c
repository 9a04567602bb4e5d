/* careclockd: the statutory-clock daemon. Options override the
 * configuration file; see `careclockd --help` and README.md. */
#include "daemon/daemon.h"
#include "careclock/env.h"
#include "careclock/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *out)
{
    fputs("usage: careclockd [--config FILE] [--db PATH] [--listen ADDR:PORT] [--foreground]\n"
          "                  [--now YYYY-MM-DDTHH:MM[:SS]] [--check-config]\n"
          "  --config FILE   configuration (default: built-in defaults; see config/careclock.conf)\n"
          "  --db PATH       the plan database, overriding [careclock] database\n"
          "  --listen A:P    the feed server's address, overriding [http] listen\n"
          "  --foreground    accepted for compatibility: careclockd never forks (systemd Type=notify)\n"
          "  --now T         start the daemon's clock at local time T in [careclock] timezone, then run on in\n"
          "                  real time: the one way tests and demonstrations move time\n"
          "  --check-config  validate the configuration, rules and holiday files, then exit (0 valid, 2 not)\n",
          out);
}

int main(int argc, char **argv)
{
    cc_daemon_options_t opts = {0};
    const char *now = NULL;
    int check = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--foreground") == 0) {
            continue;
        } else if (strcmp(a, "--check-config") == 0) {
            check = 1;
        } else if (i + 1 < argc && strcmp(a, "--config") == 0) {
            opts.config_path = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--db") == 0) {
            opts.db_path = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--listen") == 0) {
            opts.listen = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--now") == 0) {
            now = argv[++i];
        } else {
            fprintf(stderr, "careclockd: unknown option or missing value: \"%s\"\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (check) {
        cc_env_t env;
        char err[1024];
        if (cc_env_load(&env, opts.config_path, err, sizeof(err)) != 0) {
            fprintf(stderr, "careclockd: %s\n", err);
            return 2;
        }
        printf("%s: valid (%zu rules, division %s, time zone %s)\n", opts.config_path ? opts.config_path : "defaults",
               cc_ruleset_count(env.rules), env.config.division, env.config.timezone);
        cc_env_free(&env);
        return 0;
    }
    if (now != NULL) {
        /* The zone comes from the configuration; read it first. */
        cc_env_t env;
        char err[1024];
        if (cc_env_load(&env, opts.config_path, err, sizeof(err)) != 0) {
            fprintf(stderr, "careclockd: %s\n", err);
            return 2;
        }
        int bad = cc_time_set_zone(env.config.timezone, err, sizeof(err));
        if (bad)
            fprintf(stderr, "careclockd: %s\n", err);
        else if ((bad = cc_time_parse_wall(now, 0, &opts.now)) != 0)
            fprintf(stderr, "careclockd: --now \"%s\" is not a local time YYYY-MM-DDTHH:MM[:SS]\n", now);
        cc_env_free(&env);
        if (bad)
            return 2;
        opts.has_now = 1;
    }
    return cc_daemon_run(&opts);
}
