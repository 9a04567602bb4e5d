/* Date offsets: "+10wd", "-3wd", "+12w", "+3m", "+84d".
 *
 * An offset is a signed count and a unit: working days (wd), calendar days
 * (d), weeks of 7 days (w) or calendar months by the corresponding-date rule
 * (m). Pure code.
 */
#ifndef CARECLOCK_OFFSET_H
#define CARECLOCK_OFFSET_H

#include "careclock/buf.h"
#include "careclock/calendar.h"

typedef enum { CC_UNIT_WORKING_DAYS, CC_UNIT_DAYS, CC_UNIT_WEEKS, CC_UNIT_MONTHS } cc_unit_t;

typedef struct {
    int n;          /* signed count */
    cc_unit_t unit;
} cc_offset_t;

/* Largest count accepted in an offset: a century of days. */
#define CC_OFFSET_MAX 36500

/* Parse "+Nwd", "-Nwd", "+Nd", "+Nw", "+Nm" (or negatives) exactly; the sign
 * is required when require_sign is non-zero. Returns 0 or CC_EINVAL. */
int cc_offset_parse(const char *text, int require_sign, cc_offset_t *out);

/* Write the offset back in the same form ("+10wd") into buf of len bytes. */
char *cc_offset_format(cc_offset_t off, char *buf, size_t len);

/* Describe the offset in words: "10 working days", "3 months". */
char *cc_offset_words(cc_offset_t off, char *buf, size_t len);

/* Apply off to date. Returns 0, or CC_EUNCOVERED (answer still written)
 * when a working-day count starts or lands outside the calendar's covered
 * years, or CC_ERANGE (*out untouched) when the start or the answer lies
 * outside CC_CALENDAR_FIRST_YEAR..CC_CALENDAR_LAST_YEAR, the years careclock
 * counts in, whatever the unit. Calendar days, weeks and months need no
 * holiday data and never report CC_EUNCOVERED. */
int cc_offset_apply(const cc_calendar_t *cal, cc_date_t date, cc_offset_t off, cc_date_t *out);

/* As cc_offset_apply(), also appending to out_text one line per step, each
 * starting with indent: every non-working day skipped, with its name. */
int cc_offset_explain(const cc_calendar_t *cal, cc_date_t date, cc_offset_t off, const char *indent,
                      cc_buf_t *out_text, cc_date_t *out);

#endif
