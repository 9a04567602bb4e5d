/* Civil dates (proleptic Gregorian), as a day count.
 *
 * A cc_date_t is the number of days since 1970-01-01: comparisons and
 * differences are integer arithmetic, and a date fits in a register.
 * Pure code: no clock reads, no allocation.
 */
#ifndef CARECLOCK_DATE_H
#define CARECLOCK_DATE_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t cc_date_t;

/* The years a cc_date_t may name; parsing refuses anything else. */
#define CC_DATE_MIN_YEAR 1800
#define CC_DATE_MAX_YEAR 2399

/* Room for "YYYY-MM-DD" and its NUL. */
#define CC_DATE_STRLEN 11

/* Day count of year-month-day. The caller guarantees a valid date. */
cc_date_t cc_date_from_ymd(int year, int month, int day);

/* Split a day count into year, month (1-12) and day (1-31). */
void cc_date_to_ymd(cc_date_t date, int *year, int *month, int *day);

/* 1 if year-month-day names a real date in the supported years, else 0. */
int cc_date_valid(int year, int month, int day);

/* Days in month (1-12) of year. */
int cc_date_days_in_month(int year, int month);

/* Day of week, ISO numbering: 1 Monday ... 7 Sunday. */
int cc_date_weekday(cc_date_t date);

/* English day name ("Monday") of a date; a static string. */
const char *cc_date_weekday_name(cc_date_t date);

/* Parse exactly "YYYY-MM-DD". Returns 0 and sets *out, or CC_EINVAL for an
 * empty string, a wrong shape, trailing characters or a date that does not
 * exist (2023-02-29, 2026-13-01). */
int cc_date_parse_iso(const char *text, cc_date_t *out);

/* Parse exactly "DD/MM/YYYY" (the SSDA903 form); same errors as above. */
int cc_date_parse_uk(const char *text, cc_date_t *out);

/* Parse either form above. */
int cc_date_parse(const char *text, cc_date_t *out);

/* Write "YYYY-MM-DD" into buf (at least CC_DATE_STRLEN bytes). Returns buf. */
char *cc_date_format(cc_date_t date, char *buf);

/* Write a human date, "Mon 2 Nov 2026", into buf of size len. Returns buf. */
char *cc_date_format_human(cc_date_t date, char *buf, size_t len);

/* Add calendar months by the corresponding-date rule (Dodds v Walker): the
 * same day number months later, or the last day of the month that has none.
 * months may be negative. */
cc_date_t cc_date_add_months(cc_date_t date, int months);

/* Whole years of age on date for someone born on dob (birthday on 29 Feb
 * counts from 1 Mar in non-leap years). */
int cc_date_age(cc_date_t dob, cc_date_t date);

#endif
