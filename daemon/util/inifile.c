#include "util/inifile.h"
#include "careclock/error.h"
#include "util/readfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text being read, line by line, as fgets() and fgetc() would read a
 * file holding it: eof is set when a read reached the end, not before. */
typedef struct {
    const char *text;
    size_t len, pos;
    int eof;
    int *line;
    int too_long; /* first line longer than inih's buffer, 0 if none */
} counting_t;

/* fgets() over the text: at most num - 1 bytes, up to and including a
 * newline; NULL when nothing is left. */
static char *text_gets(char *str, int num, counting_t *c)
{
    size_t n = 0;
    if (c->pos >= c->len) {
        c->eof = 1;
        return NULL;
    }
    while (n + 1 < (size_t)num) {
        if (c->pos >= c->len) {
            c->eof = 1;
            break;
        }
        char ch = c->text[c->pos++];
        str[n++] = ch;
        if (ch == '\n')
            break;
    }
    str[n] = '\0';
    return str;
}

/* inih reads one line, handles it, then reads the next: counting here gives
 * the handler's line. A line longer than inih's buffer would be split and
 * parsed as two; instead its rest is skipped, the line is handed on as a
 * comment, and the parse fails at that line. */
static char *counting_reader(char *str, int num, void *stream)
{
    counting_t *c = stream;
    char *got = text_gets(str, num, c);
    if (got == NULL)
        return NULL;
    (*c->line)++;
    size_t len = strlen(str);
    if (len > 0 && str[len - 1] != '\n' && !c->eof) {
        while (c->pos < c->len && c->text[c->pos++] != '\n')
            ;
        if (c->too_long == 0)
            c->too_long = *c->line;
        snprintf(str, (size_t)num, ";\n");
    }
    return got;
}

int cc__ini_parse_text(const char *text, size_t len, ini_handler handler, void *user, int *line)
{
    counting_t c = {.text = text, .len = len, .line = line};
    *line = 0;
    int rc = ini_parse_stream(counting_reader, &c, handler, user);
    if (rc < 0)
        return CC_ENOMEM; /* -2: inih's line buffer (INI_USE_STACK 0 builds) */
    return c.too_long && (rc == 0 || c.too_long < rc) ? c.too_long : rc;
}

int cc__ini_parse(const char *path, ini_handler handler, void *user, int *line)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cc__read_file(path, &text, &len);
    if (rc == 0)
        rc = cc__ini_parse_text(text, len, handler, user, line);
    free(text);
    return rc;
}
