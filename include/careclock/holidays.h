/* The holiday files: reading the official list of a division
 * (<holiday_dir>/<division>.ics) and a council's own ICS files into a
 * working-day calendar (calendar.h, which parses the text and reads no
 * file). The shell around the calendar for careclockd, the CLI and tests.
 */
#ifndef CARECLOCK_HOLIDAYS_H
#define CARECLOCK_HOLIDAYS_H

#include "careclock/calendar.h"

#include <stddef.h>

/* The divisions whose official lists careclock ships; NULL-terminated. */
extern const char *const cc_holidays_divisions[];

/* Read the ICS file at path and add its days to cal (cc_calendar_add_ics,
 * with path naming it in messages). Returns 0; CC_EIO ("PATH: cannot read
 * holiday calendar") when the file cannot be read; or the calendar's error,
 * with a message naming the file in err (errlen bytes). */
int cc_holidays_load_ics(cc_calendar_t *cal, const char *path, char *err, size_t errlen);

/* Build a finished calendar from holiday_dir/<division>.ics plus each of the
 * nextra files in extra (a council's own days). Returns 0 with *out owned by
 * the caller (cc_calendar_free), or an error with a message naming the file
 * in err. An unknown division is CC_EINVAL. */
int cc_holidays_open(const char *holiday_dir, const char *division, const char *const *extra, size_t nextra,
                     cc_calendar_t **out, char *err, size_t errlen);

#endif
