/* Fuzz target: rendering a calendar feed (cc_ics_render) of clocks whose
 * child ids, initials, names, titles, sources, reasons and workers are
 * hostile (line breaks with END:VEVENT, commas, semicolons, backslashes,
 * invalid UTF-8, control characters), then parsing it back with libical.
 * Invariants: CRLF line ends only, lines folded at 75 octets, valid UTF-8;
 * libical reads one VCALENDAR with exactly the events the render reports,
 * each with the UID cc_ics_uid gives; no stored text adds a component. */
#include "fuzz_common.h"

#include "careclock/error.h"
#include "careclock/ics.h"

#include <libical/ical.h>

#define MAXCLOCKS 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    cc_ics_clock_t clocks[MAXCLOCKS];
    cc_date_t today = cc_date_from_ymd(2026, 11, 30);
    unsigned shape = fz_num(&f);
    cc_ics_feed_t feed = {.name = fz_str(&f),
                          .timezone = fz_opt(&f),
                          .ttl_minutes = (int)(shape % 200),
                          .privacy = (cc_privacy_t)((shape >> 8) % 3),
                          .url = fz_opt(&f),
                          .today = today,
                          .retention_days = (int)(shape >> 10 & 63)};
    size_t n = 0;
    while (n < MAXCLOCKS && f.next < f.n) {
        cc_ics_clock_t *c = &clocks[n];
        unsigned k = fz_num(&f);
        memset(c, 0, sizeof(*c));
        c->status = (cc_status_t)(k % CC_STATUS_COUNT);
        c->seq = (int)n + 1;
        c->start = today - 60 + (cc_date_t)(k >> 4 & 31);
        c->due = (k >> 9 & 7) == 0 ? CC_DATE_NONE : today - 45 + (cc_date_t)(k >> 12 & 127);
        c->met_on = (k >> 19 & 1) ? today - (cc_date_t)(k >> 20 & 63) : CC_DATE_NONE;
        c->agreed = (k >> 21 & 1) ? today - 30 + (cc_date_t)(k >> 22 & 63) : CC_DATE_NONE;
        c->sequence = (int64_t)(k >> 26);
        c->child_id = fz_str(&f);
        c->initials = fz_opt(&f);
        c->full_name = fz_opt(&f);
        c->rule_id = fz_str(&f);
        c->title = fz_opt(&f);
        c->source = fz_opt(&f);
        c->start_event = fz_opt(&f);
        c->reason = fz_opt(&f);
        c->worker_name = fz_opt(&f);
        c->updated_at = fz_opt(&f);
        c->instance = fz_str(&f); /* text from the database, as hostile as the rest */
        n++;
    }
    cc_buf_t out;
    cc_ics_info_t info;
    char err[256];
    cc_buf_init(&out);
    int rc = cc_ics_render(&feed, clocks, n, &out, &info, err, sizeof(err));
    FZ_CHECK(rc == 0 || rc == CC_EINVAL, "rc %d", rc);
    if (rc == 0) {
        const char *p = cc_buf_str(&out);
        size_t len = out.len, shown = 0;
        for (size_t i = 0; i < n; i++)
            shown += cc_ics_shown(&feed, &clocks[i]) != 0;
        /* and one event on today per child whose data is in error (issue 17) */
        for (size_t i = 0; i < n; i++) {
            int first = clocks[i].status == CC_STATUS_DATA_ERROR;
            for (size_t j = 0; j < i && first; j++)
                first = !(clocks[j].status == CC_STATUS_DATA_ERROR && strcmp(clocks[j].child_id, clocks[i].child_id) == 0);
            shown += first;
        }
        FZ_CHECK(info.events == shown, "%zu events written, %zu shown", info.events, shown);
        FZ_CHECK(fz_utf8_valid((const unsigned char *)p, len), "invalid UTF-8 in the calendar");
        size_t begins = 0;
        for (size_t i = 0; i < len;) {
            const char *cr = memchr(p + i, '\r', len - i);
            FZ_CHECK(cr != NULL && cr + 1 < p + len && cr[1] == '\n', "a line without CRLF at %zu", i);
            size_t ln = (size_t)(cr - (p + i));
            FZ_CHECK(ln <= 75, "a line of %zu octets", ln);
            FZ_CHECK(memchr(p + i, '\n', ln) == NULL, "a bare LF");
            if (ln == 12 && memcmp(p + i, "BEGIN:VEVENT", 12) == 0)
                begins++;
            i += ln + 2;
        }
        FZ_CHECK(begins == info.events, "%zu BEGIN:VEVENT lines for %zu events", begins, info.events);
        icalcomponent *cal = icalparser_parse_string(p);
        FZ_CHECK(cal != NULL && icalcomponent_isa(cal) == ICAL_VCALENDAR_COMPONENT, "libical cannot read it");
        size_t events = 0;
        for (icalcomponent *e = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); e;
             e = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
            const char *uid = icalcomponent_get_uid(e);
            FZ_CHECK(uid != NULL && strstr(uid, "@careclock") != NULL, "an event without our UID");
            events++;
        }
        FZ_CHECK(events == info.events, "libical reads %zu events, %zu written", events, info.events);
        icalcomponent_free(cal);
    } else {
        FZ_CHECK(err[0] != '\0', "refused without a reason");
    }
    cc_buf_free(&out);
    fz_free(&f);
    return 0;
}
