/* A CSV reader (RFC 4180 as spreadsheets write it): pure code over a
 * buffer the caller owns, no I/O, no allocation per field.
 *
 * The reader splits the buffer in place: each field becomes a
 * NUL-terminated string inside the buffer (quotes removed, "" unescaped),
 * so the buffer must stay alive, and must have one writable byte after its
 * last (buf[len]), for as long as the fields are used.
 *
 * Accepted: fields quoted or not; "" inside quotes; commas, CR and LF inside
 * quotes; rows ending LF, CRLF or a lone CR; no newline at the end; a UTF-8
 * byte order mark at the start. Blank lines are skipped. Refused
 * (CC_EPARSE, with the line and column of the problem): a quote that is
 * never closed, text after a closing quote ("ab"c), and a NUL byte in a
 * field (it would end the field's C string early).
 */
#ifndef CARECLOCK_CSV_H
#define CARECLOCK_CSV_H

#include "careclock/buf.h"

#include <stddef.h>
#include <stdio.h>

typedef struct {
    char *p, *end;      /* unread input */
    size_t line;        /* line number of p (1-based) */
    char **fields;      /* the current row's fields, pointing into the buffer */
    size_t nfields, cap;
    size_t row_line;    /* line on which the current row starts */
    size_t err_line;    /* where a CC_EPARSE was found */
    size_t err_column;  /* the 1-based field number */
    const char *err;    /* a static description of it */
} cc_csv_t;

/* Start reading buf[0..len); buf[len] must be writable. */
void cc_csv_init(cc_csv_t *r, char *buf, size_t len);

/* Read the next non-blank row into r->fields / r->nfields (valid until the
 * next call). Returns 1 for a row, 0 at the end, CC_EPARSE (err, err_line,
 * err_column set) or CC_ENOMEM. After an error the reader is at the end. */
int cc_csv_next(cc_csv_t *r);

/* Free the field array (not the buffer). NULL-safe; the reader may be
 * reused after cc_csv_init. */
void cc_csv_free(cc_csv_t *r);

/* Append text as one CSV cell for a spreadsheet: quoted when it holds a
 * comma, quote, CR or LF; a cell starting with = + - @ (or a tab or CR,
 * as OWASP advises) gets a leading apostrophe inside quotes, so that Excel
 * or LibreOffice never run it as a formula. Returns 0 or CC_ENOMEM. */
int cc_csv_cell(cc_buf_t *out, const char *text);

/* The same cell written to a stream. Returns 0, CC_ENOMEM or CC_EIO. */
int cc_csv_fput(FILE *out, const char *text);

#endif
