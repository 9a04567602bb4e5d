/* Working-day calendar.
 *
 * Design: two tables over the fixed span CC_CALENDAR_FIRST_YEAR..LAST_YEAR.
 * rank[i] is the number of working days strictly before day i of the span
 * (so rank has one more entry than the span has days); byrank[k] is the day
 * index of the working day whose rank is k. Adding working days is then two
 * array reads. Holidays are kept sorted for names (explanations only).
 * The tables are only as new as the last cc_calendar_finish(): a holiday
 * added since makes them stale until the next, and queries assert that
 * none is pending (finished).
 */
#include "careclock/calendar.h"
#include "careclock/error.h"
#include "util/grow.h"

#include <assert.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    cc_date_t date;
    size_t order; /* insertion order: the first name given for a date wins */
    char *name;
} holiday_t;

struct cc_calendar {
    cc_date_t span_first;   /* first day of the tables */
    int32_t span_days;      /* days in the tables */
    int32_t *rank;          /* span_days + 1 entries */
    int32_t *byrank;        /* working days, ascending */
    int32_t working_days;   /* entries in byrank */
    unsigned char *closed;  /* 1 for a holiday, by day index */
    holiday_t *holidays;    /* sorted by date after finish */
    size_t nholidays, capholidays;
    int first_year, last_year; /* covered years, 0 when none */
    cc_date_t cov_lo, cov_hi;  /* covered days: [cov_lo, cov_hi), empty when none */
    int finished;              /* the tables hold every holiday added */
};

int cc_calendar_new(cc_calendar_t **out)
{
    assert(out != NULL);
    cc_calendar_t *cal = calloc(1, sizeof(*cal));
    if (cal == NULL)
        return CC_ENOMEM;
    cal->span_first = cc_date_from_ymd(CC_CALENDAR_FIRST_YEAR, 1, 1);
    cal->span_days = cc_date_from_ymd(CC_CALENDAR_LAST_YEAR + 1, 1, 1) - cal->span_first;
    cal->rank = malloc(sizeof(int32_t) * ((size_t)cal->span_days + 1));
    cal->byrank = malloc(sizeof(int32_t) * (size_t)cal->span_days);
    cal->closed = calloc((size_t)cal->span_days, 1);
    if (cal->rank == NULL || cal->byrank == NULL || cal->closed == NULL) {
        cc_calendar_free(cal);
        return CC_ENOMEM;
    }
    *out = cal;
    return cc_calendar_finish(cal);
}

void cc_calendar_free(cc_calendar_t *cal)
{
    if (cal == NULL)
        return;
    for (size_t i = 0; i < cal->nholidays; i++)
        free(cal->holidays[i].name);
    free(cal->holidays);
    free(cal->rank);
    free(cal->byrank);
    free(cal->closed);
    free(cal);
}

static int in_span(const cc_calendar_t *cal, cc_date_t date)
{
    return date >= cal->span_first && date - cal->span_first < cal->span_days;
}

int cc_calendar_add_holiday(cc_calendar_t *cal, cc_date_t date, const char *name)
{
    assert(cal != NULL);
    if (!in_span(cal, date))
        return CC_ERANGE;
    if (cc__grow(&cal->holidays, &cal->capholidays, cal->nholidays + 1, sizeof(holiday_t), 64) != 0)
        return CC_ENOMEM;
    char *copy = strdup(name ? name : "Holiday");
    if (copy == NULL)
        return CC_ENOMEM;
    cal->holidays[cal->nholidays].date = date;
    cal->holidays[cal->nholidays].order = cal->nholidays;
    cal->holidays[cal->nholidays].name = copy;
    cal->nholidays++;
    cal->finished = 0;
    return 0;
}

void cc_calendar_set_coverage(cc_calendar_t *cal, int first_year, int last_year)
{
    assert(cal != NULL);
    assert(CC_DATE_MIN_YEAR <= first_year && first_year <= last_year && last_year <= CC_DATE_MAX_YEAR);
    if (cal->first_year == 0 || first_year < cal->first_year)
        cal->first_year = first_year;
    if (last_year > cal->last_year)
        cal->last_year = last_year;
    cal->cov_lo = cc_date_from_ymd(cal->first_year, 1, 1);
    cal->cov_hi = cc_date_from_ymd(cal->last_year + 1, 1, 1);
}

/* Read the X-CARECLOCK-COVERS property of a VCALENDAR, if any. */
static int read_coverage(icalcomponent *root, int *first, int *last)
{
    for (icalproperty *p = icalcomponent_get_first_property(root, ICAL_X_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(root, ICAL_X_PROPERTY)) {
        const char *name = icalproperty_get_x_name(p);
        const char *value = icalproperty_get_x(p);
        if (name == NULL || value == NULL || strcasecmp(name, "X-CARECLOCK-COVERS") != 0)
            continue;
        char tail;
        if (sscanf(value, "%d-%d%c", first, last, &tail) != 2 || *first > *last || *first < CC_DATE_MIN_YEAR ||
            *last > CC_DATE_MAX_YEAR)
            return CC_EPARSE;
        return 1;
    }
    return 0;
}

static int load_event(cc_calendar_t *cal, icalcomponent *ev, const char *name, char *err, size_t errlen)
{
    struct icaltimetype start = icalcomponent_get_dtstart(ev);
    struct icaltimetype end = icalcomponent_get_dtend(ev);
    const char *summary = icalcomponent_get_summary(ev);
    if (icaltime_is_null_time(start) || !cc_date_valid(start.year, start.month, start.day)) {
        snprintf(err, errlen, "%s: event \"%s\" has no valid DTSTART", name, summary ? summary : "");
        return CC_EPARSE;
    }
    cc_date_t first = cc_date_from_ymd(start.year, start.month, start.day);
    cc_date_t stop = first + 1;
    if (!icaltime_is_null_time(end) && cc_date_valid(end.year, end.month, end.day)) {
        cc_date_t e = cc_date_from_ymd(end.year, end.month, end.day);
        if (e > first)
            stop = e;
    }
    if (stop - first > 366) {
        snprintf(err, errlen, "%s: event \"%s\" spans more than a year", name, summary ? summary : "");
        return CC_EPARSE;
    }
    for (cc_date_t d = first; d < stop; d++) {
        int rc = cc_calendar_add_holiday(cal, d, summary);
        if (rc != 0) {
            snprintf(err, errlen, "%s: event \"%s\": %s", name, summary ? summary : "", cc_strerror(rc));
            return rc;
        }
    }
    return 0;
}

int cc_calendar_add_ics(cc_calendar_t *cal, const char *text, const char *name, char *err, size_t errlen)
{
    int rc = 0;
    assert(cal != NULL && text != NULL && name != NULL);
    icalcomponent *root = icalparser_parse_string(text);
    if (root == NULL || icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
        snprintf(err, errlen, "%s: not an iCalendar file (no VCALENDAR)", name);
        rc = CC_EPARSE;
        goto out;
    }
    int first = 0, last = 0;
    int covers = read_coverage(root, &first, &last);
    if (covers < 0) {
        snprintf(err, errlen, "%s: X-CARECLOCK-COVERS must be YEAR-YEAR", name);
        rc = CC_EPARSE;
        goto out;
    }
    for (icalcomponent *ev = icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT); ev != NULL;
         ev = icalcomponent_get_next_component(root, ICAL_VEVENT_COMPONENT)) {
        rc = load_event(cal, ev, name, err, errlen);
        if (rc != 0)
            goto out;
    }
    if (covers)
        cc_calendar_set_coverage(cal, first, last);
out:
    if (root != NULL)
        icalcomponent_free(root);
    return rc;
}

static int holiday_cmp(const void *a, const void *b)
{
    const holiday_t *x = a, *y = b;
    return (x->date > y->date) - (x->date < y->date);
}

static int holiday_order_cmp(const void *a, const void *b)
{
    const holiday_t *x = a, *y = b;
    int c = holiday_cmp(a, b);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

int cc_calendar_finish(cc_calendar_t *cal)
{
    assert(cal != NULL);
    /* Keep the first name given for a date; drop later duplicates. */
    if (cal->nholidays > 1) {
        qsort(cal->holidays, cal->nholidays, sizeof(holiday_t), holiday_order_cmp);
        size_t kept = 1;
        for (size_t i = 1; i < cal->nholidays; i++) {
            if (cal->holidays[i].date == cal->holidays[kept - 1].date)
                free(cal->holidays[i].name);
            else
                cal->holidays[kept++] = cal->holidays[i];
        }
        cal->nholidays = kept;
        for (size_t i = 0; i < kept; i++)
            cal->holidays[i].order = i;
    }
    memset(cal->closed, 0, (size_t)cal->span_days);
    for (size_t i = 0; i < cal->nholidays; i++)
        cal->closed[cal->holidays[i].date - cal->span_first] = 1;
    int32_t count = 0;
    for (int32_t i = 0; i < cal->span_days; i++) {
        cal->rank[i] = count;
        cc_date_t d = cal->span_first + i;
        if (cc_date_weekday(d) <= 5 && !cal->closed[i])
            cal->byrank[count++] = i;
    }
    cal->rank[cal->span_days] = count;
    cal->working_days = count;
    cal->finished = 1;
    return 0;
}

void cc_calendar_coverage(const cc_calendar_t *cal, int *first_year, int *last_year)
{
    assert(cal != NULL && first_year != NULL && last_year != NULL);
    *first_year = cal->first_year;
    *last_year = cal->last_year;
}

int cc_calendar_covers(const cc_calendar_t *cal, cc_date_t date)
{
    assert(cal != NULL);
    return date >= cal->cov_lo && date < cal->cov_hi;
}

int cc_calendar_is_working_day(const cc_calendar_t *cal, cc_date_t date)
{
    assert(cal != NULL && cal->finished);
    if (!in_span(cal, date))
        return 0;
    int32_t i = date - cal->span_first;
    return cal->rank[i + 1] != cal->rank[i];
}

const char *cc_calendar_holiday_name(const cc_calendar_t *cal, cc_date_t date)
{
    assert(cal != NULL && cal->finished);
    if (!in_span(cal, date) || !cal->closed[date - cal->span_first])
        return NULL;
    holiday_t key = {.date = date};
    holiday_t *h = bsearch(&key, cal->holidays, cal->nholidays, sizeof(key), holiday_cmp);
    return h ? h->name : NULL;
}

/* Both ends inside the covered span (which is contiguous, so everything
 * between them is too): 0, else CC_EUNCOVERED. On the hot path: two
 * comparisons each, no date conversion. */
static int coverage_status(const cc_calendar_t *cal, cc_date_t a, cc_date_t b)
{
    return a >= cal->cov_lo && a < cal->cov_hi && b >= cal->cov_lo && b < cal->cov_hi ? 0 : CC_EUNCOVERED;
}

int cc_calendar_add_working_days(const cc_calendar_t *cal, cc_date_t date, int n, cc_date_t *out)
{
    assert(cal != NULL && cal->finished && out != NULL);
    if (!in_span(cal, date))
        return CC_ERANGE;
    int32_t i = date - cal->span_first;
    int64_t k = n >= 0 ? (int64_t)cal->rank[i + 1] + n - 1 : (int64_t)cal->rank[i] + n;
    if (k < 0 || k >= cal->working_days)
        return CC_ERANGE;
    *out = cal->span_first + cal->byrank[k];
    return coverage_status(cal, date, *out);
}

int cc_calendar_working_days_between(const cc_calendar_t *cal, cc_date_t from, cc_date_t to, int *out)
{
    assert(cal != NULL && cal->finished && out != NULL);
    if (!in_span(cal, from) || !in_span(cal, to))
        return CC_ERANGE;
    *out = (int)(cal->rank[to - cal->span_first + 1] - cal->rank[from - cal->span_first + 1]);
    return coverage_status(cal, from, to);
}
