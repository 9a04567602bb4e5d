/* Fuzz target: the CSV reader under the SSDA903 import (cc_csv_next), and
 * the CSV cell writer of the timeliness report (cc_csv_cell) read back by
 * the reader.
 * Invariants: every field lies inside the buffer; a row has a field; a
 * refusal says where; a cell written and read back is the same text (with
 * the apostrophe that defuses a spreadsheet formula). */
#include "fuzz_common.h"

#include "careclock/csv.h"
#include "careclock/error.h"

static void round_trip(const char *text)
{
    cc_buf_t out;
    cc_buf_init(&out);
    FZ_CHECK(cc_csv_cell(&out, text) == 0, "cell failed");
    if (text[0] == '\0') {
        FZ_CHECK(out.len == 0, "empty text gave %zu bytes", out.len);
        cc_buf_free(&out);
        return;
    }
    /* A first cell before it, as in a report row (a byte order mark at the
     * very start of a file is the reader's to skip, not the cell's). */
    cc_buf_t row;
    cc_buf_init(&row);
    cc_buf_puts(&row, "x,");
    cc_buf_append(&row, out.data, out.len);
    cc_buf_puts(&row, "\r\n");
    cc_csv_t r = {0};
    /* the reader wants one writable byte after the text: the buffer's NUL */
    cc_csv_init(&r, row.data, row.len);
    int rc = cc_csv_next(&r);
    FZ_CHECK(rc == 1 && r.nfields == 2, "cell of \"%s\" read back as rc %d, %zu fields (%s)", text, rc, r.nfields,
             cc_buf_str(&out));
    const char *got = r.fields[1];
    int defused = strchr("=+-@\t\r", text[0]) != NULL;
    if (defused)
        FZ_CHECK(got[0] == '\'' && strcmp(got + 1, text) == 0, "defused cell differs");
    else
        FZ_CHECK(strcmp(got, text) == 0, "cell differs: \"%s\" -> \"%s\"", text, got);
    FZ_CHECK(cc_csv_next(&r) == 0, "more than one row");
    cc_csv_free(&r);
    cc_buf_free(&row);
    cc_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    cc_csv_t r = {0};
    cc_csv_init(&r, buf, size);
    int rc;
    size_t rows = 0, last_line = 0;
    while ((rc = cc_csv_next(&r)) == 1) {
        FZ_CHECK(r.nfields >= 1, "a row without fields");
        FZ_CHECK(r.row_line >= 1 && r.row_line >= last_line, "row line %zu after %zu", r.row_line, last_line);
        last_line = r.row_line;
        for (size_t i = 0; i < r.nfields; i++) {
            FZ_CHECK(r.fields[i] >= buf && r.fields[i] <= buf + size, "field outside the buffer");
            FZ_CHECK(r.fields[i] + strlen(r.fields[i]) <= buf + size, "field runs past the buffer");
            if (rows < 4 && i < 8)
                round_trip(r.fields[i]);
        }
        rows++;
    }
    FZ_CHECK(rc == 0 || rc == CC_EPARSE, "rc %d", rc);
    if (rc == CC_EPARSE)
        FZ_CHECK(r.err != NULL && r.err_line >= 1 && r.err_column >= 1, "a refusal without a place");
    cc_csv_free(&r);
    free(buf);
    return 0;
}
