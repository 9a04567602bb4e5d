/* Fuzz target: dates as careclock reads them from the command line, the
 * database and SSDA903 files (cc_date_parse, _iso, _uk), and the date
 * arithmetic done on what parsed.
 * Invariants: a parsed date is valid and formats back to the same day; the
 * two forms agree; month arithmetic lands on a real day. */
#include "fuzz_common.h"

#include "careclock/date.h"
#include "careclock/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    const char *text = fz_str(&f);
    int months = (int)(fz_num(&f) % 73001) - 36500;
    cc_date_t d, again;
    int y, m, day;
    char iso[CC_DATE_STRLEN], uk[16], human[64];

    int rc_iso = cc_date_parse_iso(text, &d);
    int rc_uk = cc_date_parse_uk(text, &again);
    int rc = cc_date_parse(text, &d);
    FZ_CHECK(rc == 0 || rc == CC_EINVAL, "rc %d", rc);
    FZ_CHECK((rc == 0) == (rc_iso == 0 || rc_uk == 0), "parse disagrees with its forms on \"%s\"", text);
    if (rc == 0) {
        cc_date_to_ymd(d, &y, &m, &day);
        FZ_CHECK(cc_date_valid(y, m, day), "\"%s\" parsed to %d-%d-%d", text, y, m, day);
        FZ_CHECK(cc_date_from_ymd(y, m, day) == d, "ymd round trip of \"%s\"", text);
        cc_date_format(d, iso);
        FZ_CHECK(cc_date_parse_iso(iso, &again) == 0 && again == d, "\"%s\" -> \"%s\" does not parse back", text,
                 iso);
        snprintf(uk, sizeof(uk), "%02d/%02d/%04d", day, m, y);
        FZ_CHECK(cc_date_parse_uk(uk, &again) == 0 && again == d, "UK form \"%s\" differs", uk);
        int wd = cc_date_weekday(d);
        FZ_CHECK(wd >= 1 && wd <= 7, "weekday %d", wd);
        cc_date_format_human(d, human, sizeof(human));
        FZ_CHECK(human[0] != '\0', "empty human date");
        cc_date_t later = cc_date_add_months(d, months);
        int ly, lm, ld;
        cc_date_to_ymd(later, &ly, &lm, &ld);
        FZ_CHECK(lm >= 1 && lm <= 12 && ld >= 1 && ld <= cc_date_days_in_month(ly, lm), "%s + %dm", iso, months);
        FZ_CHECK(ld <= day, "%s + %dm gives a later day number %d", iso, months, ld);
        int age = cc_date_age(d, later);
        FZ_CHECK(months < 0 || age >= 0, "age %d after %d months", age, months);
    }
    fz_free(&f);
    return 0;
}
