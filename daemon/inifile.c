#include "careclock/inifile.h"
#include "careclock/error.h"

#include <stdio.h>

typedef struct {
    FILE *file;
    int *line;
} counting_t;

/* inih reads one line, handles it, then reads the next: counting here gives
 * the handler's line. */
static char *counting_reader(char *str, int num, void *stream)
{
    counting_t *c = stream;
    char *got = fgets(str, num, c->file);
    if (got != NULL)
        (*c->line)++;
    return got;
}

int cc__ini_parse(const char *path, ini_handler handler, void *user, int *line)
{
    counting_t c = {fopen(path, "r"), line};
    if (c.file == NULL)
        return CC_EIO;
    *line = 0;
    int rc = ini_parse_stream(counting_reader, &c, handler, user);
    fclose(c.file);
    return rc < 0 ? CC_EIO : rc;
}
