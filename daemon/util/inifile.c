#include "util/inifile.h"
#include "careclock/error.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    FILE *file;
    int *line;
    int too_long; /* first line longer than inih's buffer, 0 if none */
} counting_t;

/* inih reads one line, handles it, then reads the next: counting here gives
 * the handler's line. A line longer than inih's buffer would be split and
 * parsed as two; instead its rest is skipped, the line is handed on as a
 * comment, and the parse fails at that line. */
static char *counting_reader(char *str, int num, void *stream)
{
    counting_t *c = stream;
    char *got = fgets(str, num, c->file);
    if (got == NULL)
        return NULL;
    (*c->line)++;
    size_t len = strlen(str);
    if (len > 0 && str[len - 1] != '\n' && !feof(c->file)) {
        int ch;
        while ((ch = fgetc(c->file)) != EOF && ch != '\n')
            ;
        if (c->too_long == 0)
            c->too_long = *c->line;
        snprintf(str, (size_t)num, ";\n");
    }
    return got;
}

int cc__ini_parse(const char *path, ini_handler handler, void *user, int *line)
{
    counting_t c = {fopen(path, "r"), line, 0};
    if (c.file == NULL)
        return CC_EIO;
    *line = 0;
    int rc = ini_parse_stream(counting_reader, &c, handler, user);
    fclose(c.file);
    if (rc < 0)
        return CC_EIO;
    return c.too_long && (rc == 0 || c.too_long < rc) ? c.too_long : rc;
}
