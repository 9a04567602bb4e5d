/* Civil date arithmetic. Day-count conversions use the days-from-civil
 * algorithm (eras of 400 years), exact for the whole proleptic calendar. */
#include "careclock/date.h"
#include "careclock/error.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int cc_date_days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    assert(month >= 1 && month <= 12);
    if (month == 2 && is_leap(year))
        return 29;
    return days[month - 1];
}

int cc_date_valid(int year, int month, int day)
{
    if (year < CC_DATE_MIN_YEAR || year > CC_DATE_MAX_YEAR)
        return 0;
    if (month < 1 || month > 12)
        return 0;
    return day >= 1 && day <= cc_date_days_in_month(year, month);
}

cc_date_t cc_date_from_ymd(int y, int m, int d)
{
    /* A real day of a real month; any year the arithmetic holds (cc_date_add_months reaches past the
     * parsed years). */
    assert(m >= 1 && m <= 12 && d >= 1 && d <= cc_date_days_in_month(y, m));
    assert(y > -5000000 && y < 5000000);
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (cc_date_t)(era * 146097 + doe - 719468);
}

void cc_date_to_ymd(cc_date_t date, int *year, int *month, int *day)
{
    assert(year != NULL && month != NULL && day != NULL);
    int z = date + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = yoe + era * 400;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int d = doy - (153 * mp + 2) / 5 + 1;
    int m = mp < 10 ? mp + 3 : mp - 9;
    *year = y + (m <= 2);
    *month = m;
    *day = d;
}

int cc_date_weekday(cc_date_t date)
{
    /* 1970-01-01 was a Thursday (4). */
    int w = (int)((date % 7 + 7) % 7);
    return (w + 3) % 7 + 1;
}

const char *cc_date_weekday_name(cc_date_t date)
{
    static const char *names[7] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                   "Friday", "Saturday", "Sunday"};
    return names[cc_date_weekday(date) - 1];
}

/* Read exactly n ASCII digits from s into *out. */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int finish(int y, int m, int d, cc_date_t *out)
{
    assert(out != NULL);
    if (!cc_date_valid(y, m, d))
        return CC_EINVAL;
    *out = cc_date_from_ymd(y, m, d);
    return 0;
}

int cc_date_parse_iso(const char *text, cc_date_t *out)
{
    int y, m, d;
    if (text == NULL || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return CC_EINVAL;
    if (!digits(text, 4, &y) || !digits(text + 5, 2, &m) || !digits(text + 8, 2, &d))
        return CC_EINVAL;
    return finish(y, m, d, out);
}

int cc_date_parse_uk(const char *text, cc_date_t *out)
{
    int y, m, d;
    if (text == NULL || strlen(text) != 10 || text[2] != '/' || text[5] != '/')
        return CC_EINVAL;
    if (!digits(text, 2, &d) || !digits(text + 3, 2, &m) || !digits(text + 6, 4, &y))
        return CC_EINVAL;
    return finish(y, m, d, out);
}

int cc_date_parse(const char *text, cc_date_t *out)
{
    if (text != NULL && strlen(text) == 10 && text[2] == '/')
        return cc_date_parse_uk(text, out);
    return cc_date_parse_iso(text, out);
}

char *cc_date_format(cc_date_t date, char *buf)
{
    assert(buf != NULL);
    int y, m, d;
    cc_date_to_ymd(date, &y, &m, &d);
    snprintf(buf, CC_DATE_STRLEN, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u);
    return buf;
}

char *cc_date_format_human(cc_date_t date, char *buf, size_t len)
{
    static const char *months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, m, d;
    assert(buf != NULL && len > 0);
    cc_date_to_ymd(date, &y, &m, &d);
    snprintf(buf, len, "%.3s %d %s %d", cc_date_weekday_name(date), d, months[m - 1], y);
    return buf;
}

cc_date_t cc_date_add_months(cc_date_t date, int months)
{
    int y, m, d;
    cc_date_to_ymd(date, &y, &m, &d);
    int index = y * 12 + (m - 1) + months;
    int ny = index >= 0 ? index / 12 : -((-index + 11) / 12);
    int nm = index - ny * 12 + 1;
    int last = cc_date_days_in_month(ny, nm);
    return cc_date_from_ymd(ny, nm, d < last ? d : last);
}

int cc_date_age(cc_date_t dob, cc_date_t date)
{
    int by, bm, bd, y, m, d;
    cc_date_to_ymd(dob, &by, &bm, &bd);
    cc_date_to_ymd(date, &y, &m, &d);
    int age = y - by;
    if (m < bm || (m == bm && d < bd))
        age--;
    return age;
}
