/* Fuzz target: offsets ("+10wd", "-3wd", "+12w", "+3m", "+84d") as the CLI
 * (careclock calc) and rule files give them, applied to a date on the
 * England and Wales working-day calendar, with and without the explanation.
 * Invariants: an offset formats back to itself; apply and explain agree; a
 * working-day answer is a working day. */
#include "fuzz_common.h"

#include "careclock/buf.h"
#include "careclock/calendar.h"
#include "careclock/holidays.h"
#include "careclock/error.h"
#include "careclock/offset.h"

static cc_calendar_t *cal;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    (void)argc;
    (void)argv;
    if (cc_holidays_open(FZ_HOLIDAYS, "england-and-wales", NULL, 0, &cal, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_offset: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    const char *text = fz_str(&f);
    const char *date_text = fz_str(&f);
    unsigned flags = fz_num(&f);
    cc_offset_t off, back;
    char buf[64], words[64];
    cc_date_t date, out, explained;

    int rc = cc_offset_parse(text, (int)(flags & 1), &off);
    FZ_CHECK(rc == 0 || rc == CC_EINVAL, "rc %d", rc);
    if (rc == 0) {
        FZ_CHECK(off.n >= -CC_OFFSET_MAX && off.n <= CC_OFFSET_MAX, "n %d", off.n);
        cc_offset_format(off, buf, sizeof(buf));
        FZ_CHECK(cc_offset_parse(buf, 1, &back) == 0 && back.n == off.n && back.unit == off.unit,
                 "\"%s\" -> \"%s\"", text, buf);
        cc_offset_words(off, words, sizeof(words));
        FZ_CHECK(words[0] != '\0', "no words");
        if (cc_date_parse(date_text, &date) == 0) {
            int a = cc_offset_apply(cal, date, off, &out);
            cc_buf_t t;
            cc_buf_init(&t);
            int b = cc_offset_explain(cal, date, off, "  ", &t, &explained);
            FZ_CHECK(a == b, "apply %d, explain %d", a, b);
            FZ_CHECK(a == 0 || a == CC_EUNCOVERED || a == CC_ERANGE, "apply rc %d", a);
            if (a == 0 || a == CC_EUNCOVERED) {
                FZ_CHECK(out == explained, "apply and explain differ for %s %s", date_text, buf);
                FZ_CHECK(t.len > 0 && !t.failed, "no explanation");
                if (off.unit == CC_UNIT_WORKING_DAYS)
                    FZ_CHECK(cc_calendar_is_working_day(cal, out), "%s %s lands on a non-working day", date_text,
                             buf);
                if (off.unit == CC_UNIT_WORKING_DAYS && off.n > 0 && a == 0) {
                    int between = 0;
                    if (cc_calendar_working_days_between(cal, date, out, &between) == 0)
                        FZ_CHECK(between == off.n, "%s %s: %d working days between", date_text, buf, between);
                }
            }
            cc_buf_free(&t);
        }
    }
    fz_free(&f);
    return 0;
}
