#include "careclock/paths.h"
#include "careclock/error.h"

#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CC_DATADIR
#define CC_DATADIR "/usr/local/share/careclock"
#endif

static int has_holidays(const char *dir)
{
    char probe[PATH_MAX + 64];
    struct stat st;
    snprintf(probe, sizeof(probe), "%s/holidays/england-and-wales.ics", dir);
    return stat(probe, &st) == 0;
}

int cc_paths_datadir(char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            static const char *const rel[] = {"../share/careclock", "../config", "../../config"};
            for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
                char joined[PATH_MAX + 32], real[PATH_MAX];
                snprintf(joined, sizeof(joined), "%s/%s", exe, rel[i]);
                if (has_holidays(joined)) {
                    snprintf(buf, len, "%s", realpath(joined, real) ? real : joined);
                    return 0;
                }
            }
        }
    }
    snprintf(buf, len, "%s", CC_DATADIR);
    return has_holidays(buf) ? 0 : CC_ENOTFOUND;
}

void cc_path_dir(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}
