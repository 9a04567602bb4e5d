#include "util/readfile.h"
#include "careclock/error.h"

#include <stdio.h>
#include <stdlib.h>

int cc__read_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t used = 0, cap = 0;
    int rc = 0;
    *text = NULL;
    *len = 0;
    if (f == NULL)
        return CC_EIO;
    for (;;) {
        if (cap - used < 4096) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *grown = realloc(data, ncap + 1); /* + 1: room for the NUL */
            if (grown == NULL) {
                rc = CC_ENOMEM;
                goto out;
            }
            data = grown;
            cap = ncap;
        }
        size_t got = fread(data + used, 1, cap - used, f);
        used += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = CC_EIO;
        goto out;
    }
    data[used] = '\0';
    *text = data;
    *len = used;
    data = NULL;
out:
    free(data);
    fclose(f);
    return rc;
}
