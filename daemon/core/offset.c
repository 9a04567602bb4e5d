#include "careclock/offset.h"
#include "careclock/error.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* An offset as cc_offset_parse makes them: the callers' precondition. */
static int valid(cc_offset_t off)
{
    return off.unit >= CC_UNIT_WORKING_DAYS && off.unit <= CC_UNIT_MONTHS && off.n >= -CC_OFFSET_MAX &&
           off.n <= CC_OFFSET_MAX;
}

int cc_offset_parse(const char *text, int require_sign, cc_offset_t *out)
{
    assert(out != NULL);
    if (text == NULL)
        return CC_EINVAL;
    const char *p = text;
    int sign = 1;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    } else if (require_sign) {
        return CC_EINVAL;
    }
    if (*p < '0' || *p > '9')
        return CC_EINVAL;
    long n = 0;
    while (*p >= '0' && *p <= '9') {
        n = n * 10 + (*p - '0');
        if (n > CC_OFFSET_MAX)
            return CC_EINVAL;
        p++;
    }
    cc_unit_t unit;
    if (strcmp(p, "wd") == 0)
        unit = CC_UNIT_WORKING_DAYS;
    else if (strcmp(p, "d") == 0)
        unit = CC_UNIT_DAYS;
    else if (strcmp(p, "w") == 0)
        unit = CC_UNIT_WEEKS;
    else if (strcmp(p, "m") == 0)
        unit = CC_UNIT_MONTHS;
    else
        return CC_EINVAL;
    out->n = (int)(sign * n);
    out->unit = unit;
    return 0;
}

static const char *unit_suffix(cc_unit_t unit)
{
    switch (unit) {
    case CC_UNIT_WORKING_DAYS: return "wd";
    case CC_UNIT_DAYS: return "d";
    case CC_UNIT_WEEKS: return "w";
    default: return "m";
    }
}

char *cc_offset_format(cc_offset_t off, char *buf, size_t len)
{
    assert(buf != NULL && len > 0 && valid(off));
    snprintf(buf, len, "%+d%s", off.n, unit_suffix(off.unit));
    return buf;
}

char *cc_offset_words(cc_offset_t off, char *buf, size_t len)
{
    static const char *one[] = {"working day", "day", "week", "month"};
    static const char *many[] = {"working days", "days", "weeks", "months"};
    assert(buf != NULL && len > 0 && valid(off));
    int n = off.n < 0 ? -off.n : off.n;
    snprintf(buf, len, "%d %s", n, n == 1 ? one[off.unit] : many[off.unit]);
    return buf;
}

/* The dates careclock counts with: the calendar's span, 1 Jan
 * CC_CALENDAR_FIRST_YEAR to 31 Dec CC_CALENDAR_LAST_YEAR. */
static int countable(cc_date_t date)
{
    return date >= cc_date_from_ymd(CC_CALENDAR_FIRST_YEAR, 1, 1) &&
           date <= cc_date_from_ymd(CC_CALENDAR_LAST_YEAR, 12, 31);
}

int cc_offset_apply(const cc_calendar_t *cal, cc_date_t date, cc_offset_t off, cc_date_t *out)
{
    assert(out != NULL && valid(off));
    cc_date_t d;
    /* Days, weeks and months are bounded like working days: an answer (or a
     * start) outside the span is CC_ERANGE, never a date whose year no
     * longer fits four digits. |n| <= CC_OFFSET_MAX keeps the sums in range
     * for any start that is countable. */
    if (off.unit != CC_UNIT_WORKING_DAYS && !countable(date))
        return CC_ERANGE;
    switch (off.unit) {
    case CC_UNIT_WORKING_DAYS:
        return cc_calendar_add_working_days(cal, date, off.n, out);
    case CC_UNIT_DAYS:
        d = date + off.n;
        break;
    case CC_UNIT_WEEKS:
        d = date + 7 * off.n;
        break;
    case CC_UNIT_MONTHS:
        d = cc_date_add_months(date, off.n);
        break;
    default:
        return CC_EINVAL;
    }
    if (!countable(d))
        return CC_ERANGE;
    *out = d;
    return 0;
}

/* One line naming a non-working day: "2026-12-28 Boxing Day (substitute day)". */
static void skipped(const cc_calendar_t *cal, cc_date_t d, const char *indent, cc_buf_t *text)
{
    char iso[CC_DATE_STRLEN];
    const char *name = cc_calendar_holiday_name(cal, d);
    cc_buf_printf(text, "%sskip %s %s%s\n", indent, cc_date_format(d, iso), name ? name : cc_date_weekday_name(d),
                  name && cc_date_weekday(d) > 5 ? " (also a weekend)" : "");
}

int cc_offset_explain(const cc_calendar_t *cal, cc_date_t date, cc_offset_t off, const char *indent,
                      cc_buf_t *text, cc_date_t *out)
{
    char a[CC_DATE_STRLEN], b[32], words[48];
    assert(indent != NULL && text != NULL);
    int rc = cc_offset_apply(cal, date, off, out);
    if (rc != 0 && rc != CC_EUNCOVERED)
        return rc;
    cc_offset_words(off, words, sizeof(words));
    cc_date_format_human(date, b, sizeof(b));
    if (off.unit == CC_UNIT_WORKING_DAYS) {
        if (off.n > 0)
            cc_buf_printf(text, "%s%s after %s (%s): the day itself is day 0\n", indent, words, b,
                          cc_date_format(date, a));
        else if (off.n < 0)
            cc_buf_printf(text, "%s%s before %s (%s), not counting that day\n", indent, words, b,
                          cc_date_format(date, a));
        else
            cc_buf_printf(text, "%s0 working days from %s (%s): that day if it is a working day, "
                                "else the working day before it\n",
                          indent, b, cc_date_format(date, a));
        cc_date_t lo = off.n > 0 ? date + 1 : *out;
        cc_date_t hi = off.n > 0 ? *out : date - 1;
        if (off.n == 0) {
            lo = *out + 1;
            hi = date;
        }
        for (cc_date_t d = lo; d <= hi; d++)
            if (!cc_calendar_is_working_day(cal, d))
                skipped(cal, d, indent, text);
    } else {
        cc_buf_printf(text, "%s%s %s %s (%s)%s\n", indent, words, off.n < 0 ? "before" : "after", b,
                      cc_date_format(date, a),
                      off.unit == CC_UNIT_MONTHS ? ": the same day number, or the last day of a shorter month"
                                                 : "");
    }
    cc_date_format_human(*out, b, sizeof(b));
    cc_buf_printf(text, "%s= %s (%s)%s\n", indent, b, cc_date_format(*out, a),
                  off.unit == CC_UNIT_WORKING_DAYS || cc_calendar_is_working_day(cal, *out) ? ""
                                                                                           : ", not a working day");
    return rc;
}
