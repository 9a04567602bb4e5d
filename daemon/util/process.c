/* Processes by pid, from /proc. See include/careclock/process.h. */
#include "careclock/process.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned long long cc_process_start_time(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    /* After ") " come fields 3, 4, ...: field 22 is the 20th. */
    p++;
    unsigned long long value = 0;
    for (int field = 3; field <= 22 && p; field++) {
        while (*p == ' ')
            p++;
        if (field == 22)
            value = strtoull(p, NULL, 10);
        p = strchr(p, ' ');
    }
    return value;
}

int cc_process_alive(long pid, unsigned long long started)
{
    if (pid <= 0)
        return 0;
    unsigned long long now_started = cc_process_start_time(pid);
    if (now_started == 0)
        return 0;
    return started == 0 || now_started == started;
}
