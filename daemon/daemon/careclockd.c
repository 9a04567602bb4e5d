/* careclockd: the statutory-clock daemon. Options override the
 * configuration file; see `careclockd --help` and README.md. */
#include "daemon/daemon.h"
#include "careclock/env.h"
#include "careclock/http.h"
#include "careclock/paths.h"
#include "careclock/preflight.h"
#include "careclock/time.h"
#include "careclock/version.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: careclockd [--config FILE] [--db PATH] [--listen ADDR:PORT] [--admin-listen ADDR:PORT|off]\n"
            "                  [--foreground] [--now YYYY-MM-DDTHH:MM[:SS]] [--check-config]\n"
            "       careclockd --version | -V | --help\n"
            "  --config FILE   the configuration (default: $CARECLOCK_CONFIG, else %s when it\n"
            "                  exists, else built-in defaults)\n",
            cc_config_default_path());
    fputs("  --db PATH       the plan database, overriding [careclock] database\n"
          "  --listen A:P    the feed server's address, overriding [http] listen\n"
          "  --admin-listen A:P  where /healthz and /metrics are served, overriding [http] admin_listen\n"
          "  --foreground    accepted for compatibility: careclockd never forks (systemd Type=notify)\n"
          "  --now T         start the daemon's clock at local time T, then run on in real time: the one way\n"
          "                  tests and demonstrations move time\n"
          "  --check-config  check the configuration, rules and holiday files, and the machine as the service\n"
          "                  will meet it (credential files, the database directory, [smtp], the listen address),\n"
          "                  then exit: 0 valid, 2 not, each problem naming its fix\n"
          "  --version, -V   the version; -V adds the libraries' versions\n"
          "man careclockd, man careclock.conf\n",
          out);
}

static void version(int libraries)
{
    printf("careclockd %s\n", cc_version());
    if (!libraries)
        return;
    char dir[PATH_MAX];
    cc_paths_datadir(dir, sizeof(dir));
    printf("configuration: %s (or --config, $CARECLOCK_CONFIG)\nrules and holidays: %s\nlibraries:\n",
           cc_config_default_path(), dir);
    cc_version_libraries(stdout);
}

int main(int argc, char **argv)
{
    cc_daemon_options_t opts = {0};
    const char *now = NULL, *config_option = NULL;
    int check = 0;
    /* No core dump, no ptrace by the same user, /proc/PID/mem and environ
     * root's only: careclockd holds the SMTP password, the webhook keys and
     * children's records (docs/security.md, "Core dumps"). The unit also
     * sets LimitCORE=0; this holds wherever it is started. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        perror("careclockd: prctl(PR_SET_DUMPABLE)");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            version(a[1] == 'V');
            return 0;
        } else if (strcmp(a, "--foreground") == 0) {
            continue;
        } else if (strcmp(a, "--check-config") == 0) {
            check = 1;
        } else if (i + 1 < argc && strcmp(a, "--config") == 0) {
            config_option = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--db") == 0) {
            opts.db_path = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--listen") == 0) {
            opts.listen = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--admin-listen") == 0) {
            opts.admin_listen = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--now") == 0) {
            now = argv[++i];
        } else {
            fprintf(stderr, "careclockd: unknown option or missing value: \"%s\"\n", a);
            usage(stderr);
            return 2;
        }
    }
    cc_config_source_t source = cc_config_locate(config_option, getenv("CARECLOCK_CONFIG"), &opts.config_path);
    if (check) {
        cc_preflight_options_t pf = {.database = opts.db_path, .listen = opts.listen,
                                     .listen_probe = cc_http_listen_probe};
        return cc_preflight_check("careclockd", opts.config_path, source, &pf);
    }
    opts.config_source = source;
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
