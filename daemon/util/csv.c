/* CSV reader. See include/careclock/csv.h.
 *
 * Design note: fields are unescaped in place. A write cursor trails the read
 * cursor (unescaping only ever shortens text), and the byte after a field's
 * last character (a delimiter, a closing quote or buf[len]) becomes its NUL.
 */
#include "careclock/csv.h"
#include "careclock/error.h"
#include "util/grow.h"

#include <stdlib.h>
#include <string.h>

void cc_csv_init(cc_csv_t *r, char *buf, size_t len)
{
    char **fields = r->fields;
    size_t cap = r->cap;
    memset(r, 0, sizeof(*r));
    r->fields = fields;
    r->cap = cap;
    r->p = buf;
    r->end = buf + len;
    r->line = 1;
    if (len >= 3 && (unsigned char)buf[0] == 0xef && (unsigned char)buf[1] == 0xbb && (unsigned char)buf[2] == 0xbf)
        r->p += 3;
}

void cc_csv_free(cc_csv_t *r)
{
    if (r == NULL)
        return;
    free(r->fields);
    r->fields = NULL;
    r->cap = r->nfields = 0;
}

static int push_field(cc_csv_t *r, char *field)
{
    if (cc__grow(&r->fields, &r->cap, r->nfields + 1, sizeof(char *), 16) != 0)
        return CC_ENOMEM;
    r->fields[r->nfields++] = field;
    return 0;
}

static int fail(cc_csv_t *r, size_t line, const char *what)
{
    r->err = what;
    r->err_line = line;
    r->err_column = r->nfields + 1;
    r->p = r->end;
    return CC_EPARSE;
}

/* Consume one line ending at p (LF, CRLF or CR); p points at it and c is
 * the byte that was there (the field before it may have put its NUL on
 * it: reading *p instead counted a CRLF as two lines). */
static char *skip_newline(cc_csv_t *r, char *p, char c)
{
    if (c == '\r' && p + 1 < r->end && p[1] == '\n')
        p++;
    r->line++;
    return p + 1;
}

static const char NUL_MESSAGE[] = "a NUL byte in the field (the file is not text; refused rather than read short)";

int cc_csv_next(cc_csv_t *r)
{
    char *p = r->p, *end = r->end;
    /* Skip blank lines. */
    while (p < end && (*p == '\n' || *p == '\r'))
        p = skip_newline(r, p, *p);
    r->nfields = 0;
    r->row_line = r->line;
    if (p >= end) {
        r->p = end;
        return 0;
    }
    for (;;) {
        char *start = p, *w = p;
        if (p < end && *p == '"') {
            size_t open_line = r->line;
            p++;
            for (;;) {
                if (p >= end)
                    return fail(r, open_line, "a quoted field is never closed");
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (*p == '\0')
                    return fail(r, r->line, NUL_MESSAGE);
                if (*p == '\n' || (*p == '\r' && !(p + 1 < end && p[1] == '\n')))
                    r->line++;
                *w++ = *p++;
            }
            if (p < end && *p != ',' && *p != '\n' && *p != '\r')
                return fail(r, r->line, "text after a closing quote (write \"\" for a quote inside a quoted field)");
        } else {
            while (p < end && *p != ',' && *p != '\n' && *p != '\r') {
                if (*p == '\0')
                    return fail(r, r->line, NUL_MESSAGE);
                p++;
            }
            w = p;
        }
        /* A quoted field's text was moved down to start (the write cursor
         * began at its opening quote). Save the delimiter before its byte
         * may become the NUL. */
        char delim = p < end ? *p : '\n';
        *w = '\0';
        if (push_field(r, start) != 0)
            return CC_ENOMEM;
        if (delim == ',') {
            p++;
            continue;
        }
        if (p < end)
            p = skip_newline(r, p, delim);
        r->p = p;
        return 1;
    }
}

int cc_csv_cell(cc_buf_t *out, const char *text)
{
    int quote = strpbrk(text, ",\"\r\n") != NULL;
    int defuse = text[0] != '\0' && strchr("=+-@\t\r", text[0]) != NULL;
    if (quote || defuse)
        cc_buf_puts(out, defuse ? "\"'" : "\"");
    for (const char *p = text; *p; p++) {
        const char *q = strchr(p, '"');
        size_t n = q ? (size_t)(q - p) + 1 : strlen(p);
        cc_buf_append(out, p, n);
        if (q == NULL)
            break;
        cc_buf_puts(out, "\"");
        p = q;
    }
    if (quote || defuse)
        cc_buf_puts(out, "\"");
    return out->failed ? CC_ENOMEM : 0;
}

int cc_csv_fput(FILE *out, const char *text)
{
    cc_buf_t cell;
    cc_buf_init(&cell);
    int rc = cc_csv_cell(&cell, text);
    if (rc == 0 && fputs(cc_buf_str(&cell), out) == EOF)
        rc = CC_EIO;
    cc_buf_free(&cell);
    return rc;
}
