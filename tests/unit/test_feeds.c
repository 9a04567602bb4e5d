/* Unit tests for daemon/store/feeds.c (and the feed rows of clocks.c)
 * against a real SQLite file in a temporary directory: tokens (shape, hash,
 * only the hash stored), lookup and revocation, access recording, which
 * children each kind of feed shows, retention and privacy at load time,
 * subscription URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/buf.h"
#include "careclock/config.h"
#include "careclock/error.h"
#include "careclock/feeds.h"
#include "careclock/store.h"
#include "fixture.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef fixture_db_t fixture_t;

/* Staff in every role, two teams, four children, and clocks in every
 * status (written directly: the engine is tested elsewhere). */
static const char *const COUNCIL =
    "INSERT INTO staff (id, name, role) VALUES ('W1', 'Wendy Worker', 'worker'), ('W2', 'Will Worker', 'worker'), "
    "('IRO1', 'Indira Reviewing', 'iro'), ('TM1', 'Tom Manager', 'team_manager'), "
    "('TM2', 'Tina Manager', 'team_manager'), ('SM1', 'Sam Service', 'service_manager'), "
    "('NOBODY', 'Nora Nobody', 'worker');"
    "INSERT INTO teams (id, name, manager_id, service_manager_id) VALUES ('T1', 'East', 'TM1', 'SM1'), "
    "('T2', 'West', 'TM2', 'SM1');"
    "INSERT INTO children (id, initials, full_name, dob, team_id, worker_id, iro_id) VALUES "
    "('C1', 'A.B.', 'Alice Brown', '2015-01-01', 'T1', 'W1', 'IRO1'), "
    "('C2', 'C.D.', 'Carl Davies', '2014-01-01', 'T2', 'W2', 'IRO1'), "
    "('C3', 'E.F.', NULL, '2013-01-01', 'T2', 'W2', NULL), "
    "('C4', 'G.H.', 'Gita Hussain', '2012-01-01', 'T1', 'W2', NULL);"
    "INSERT INTO events (id, child_id, type, date) VALUES (1, 'C1', 'placement_start', '2026-11-02');"
    "INSERT INTO clocks (child_id, rule_id, seq, title, start_date, due_date, status, met_on, start_event_id, "
    "reason, source, updated_at, sequence, instance) VALUES "
    "('C1', 'care_plan', 1, 'Care plan', '2026-11-02', '2026-11-16', 'overdue', NULL, 1, NULL, 'reg 4(2)', "
    "'2026-11-17T06:00:00Z', 2, '1.1'), "
    "('C1', 'review', 1, 'LAC review', '2026-09-01', '2026-09-29', 'met', '2026-09-20', NULL, NULL, 'reg 33', "
    "'2026-09-20T06:00:00Z', 1, '1.1'), "
    "('C2', 'review', 1, 'LAC review', '2026-11-02', '2026-11-30', 'due_soon', NULL, NULL, NULL, 'reg 33', "
    "'2026-11-23T06:00:00Z', 1, '1.1'), "
    "('C2', 'pep', 1, 'PEP', '2026-10-01', '2026-10-01', 'cancelled', NULL, NULL, 'left care', 'local', "
    "'2026-10-02T06:00:00Z', 1, '1.1'), "
    "('C3', 'data', 1, 'Child''s data cannot be evaluated', NULL, NULL, 'data_error', NULL, NULL, 'bad date', "
    "NULL, '2026-11-01T06:00:00Z', 0, 'error'), "
    "('C3', 'visit', 1, 'Statutory visit', '2026-11-20', '2026-11-27', 'met_late', '2026-11-28', NULL, NULL, "
    "'reg 28', '2026-11-28T06:00:00Z', 3, '1.1'), "
    "('C4', 'care_plan', 1, 'Care plan', '2026-11-20', '2026-12-04', 'open', NULL, NULL, NULL, 'reg 4(2)', "
    "'2026-11-20T06:00:00Z', 0, '1.1');";

static int setup(void **state)
{
    fixture_t *f = fixture_db_new("feeds");
    if (f == NULL || cc_store_open(f->path, &f->store, f->err, sizeof(f->err)) != 0)
        return -1;
    exec_sql(f->store, COUNCIL);
    *state = f;
    return 0;
}

/* ---- tokens ---- */

static void test_tokens(void **state)
{
    (void)state;
    char a[CC_FEED_TOKEN_LEN + 1], b[CC_FEED_TOKEN_LEN + 1], hash[CC_FEED_HASH_LEN + 1];
    assert_int_equal(cc_feeds_token_new(a), 0);
    assert_int_equal(cc_feeds_token_new(b), 0);
    assert_int_equal(strlen(a), 64);
    assert_int_equal(strspn(a, "0123456789abcdef"), 64);
    assert_string_not_equal(a, b);
    char sixty_four_a[65];
    memset(sixty_four_a, 'a', 64);
    sixty_four_a[64] = '\0';
    assert_int_equal(cc_feeds_token_hash(sixty_four_a, hash), 0);
    assert_string_equal(hash, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    const char *bad[] = {"", "abc", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaag", NULL};
    for (int i = 0; bad[i] != NULL; i++)
        assert_int_equal(cc_feeds_token_hash(bad[i], hash), CC_EINVAL);
    assert_int_equal(cc_feeds_token_hash(NULL, hash), CC_EINVAL);
}

/* ---- the feeds table ---- */

static void test_add_lookup_revoke(void **state)
{
    fixture_t *f = *state;
    char token[CC_FEED_TOKEN_LEN + 1], other[CC_FEED_TOKEN_LEN + 1], hash[CC_FEED_HASH_LEN + 1];
    int64_t id = 0, id2 = 0;
    cc_feed_t feed;
    assert_int_equal(cc_feeds_add(f->store, CC_FEED_TEAM, "T1", token, &id, f->err, sizeof(f->err)), 0);
    assert_int_equal(id, 1);
    assert_int_equal(cc_feeds_add(f->store, CC_FEED_STAFF, "W1", other, &id2, f->err, sizeof(f->err)), 0);
    assert_int_equal(id2, 2);

    /* only the hash is stored */
    assert_int_equal(cc_feeds_token_hash(token, hash), 0);
    assert_int_equal(query_int_with(f->store, "SELECT count(*) FROM feeds WHERE token_hash = ?1", hash), 1);
    assert_int_equal(query_int_with(f->store,
                                    "SELECT count(*) FROM feeds WHERE instr(token_hash || target_id || created_at || "
                                    "coalesce(revoked_at, '') || coalesce(last_access_at, ''), ?1) > 0",
                                    token),
                     0);

    assert_int_equal(cc_feeds_lookup(f->store, token, &feed), 0);
    assert_int_equal(feed.id, 1);
    assert_int_equal(feed.kind, CC_FEED_TEAM);
    assert_string_equal(feed.target_id, "T1");
    assert_string_equal(feed.revoked_at, "");
    assert_int_equal(strlen(feed.created_at), 20);
    assert_int_equal(cc_feeds_lookup_hash(f->store, hash, &feed), 0);
    assert_int_equal(cc_feeds_lookup(f->store, other, &feed), 0);
    assert_int_equal(feed.kind, CC_FEED_STAFF);

    /* unknown and malformed tokens are not found, alike */
    char unknown[CC_FEED_TOKEN_LEN + 1];
    assert_int_equal(cc_feeds_token_new(unknown), 0);
    assert_int_equal(cc_feeds_lookup(f->store, unknown, &feed), CC_ENOTFOUND);
    assert_int_equal(cc_feeds_lookup(f->store, "not-a-token", &feed), CC_ENOTFOUND);
    assert_int_equal(cc_feeds_lookup(f->store, hash, &feed), CC_ENOTFOUND); /* the hash is not the token */
    assert_int_equal(cc_feeds_lookup_hash(f->store, "short", &feed), CC_ENOTFOUND);

    /* access */
    assert_int_equal(cc_feeds_record_access(f->store, 1, "2026-11-30T09:00:00Z", 3), 0);
    assert_int_equal(cc_feeds_record_access(f->store, 1, "2026-11-30T10:00:00Z", 1), 0);
    assert_int_equal(cc_feeds_record_access(f->store, 42, "2026-11-30T10:00:00Z", 1), CC_ENOTFOUND);
    assert_int_equal(cc_feeds_get(f->store, 1, &feed), 0);
    assert_int_equal(feed.access_count, 4);
    assert_string_equal(feed.last_access_at, "2026-11-30T10:00:00Z");

    /* revoke: at once, once */
    assert_int_equal(cc_feeds_revoke(f->store, 1, "2026-11-30T11:00:00Z", f->err, sizeof(f->err)), 0);
    assert_int_equal(cc_feeds_lookup(f->store, token, &feed), CC_ENOTFOUND);
    /* by hash, the server learns it was revoked, to answer an empty calendar */
    assert_int_equal(cc_feeds_lookup_hash(f->store, hash, &feed), CC_ESTATE);
    assert_string_equal(feed.revoked_at, "2026-11-30T11:00:00Z");
    assert_int_equal(cc_feeds_lookup(f->store, other, &feed), 0);
    assert_int_equal(cc_feeds_revoke(f->store, 1, "2026-11-30T12:00:00Z", f->err, sizeof(f->err)), CC_ESTATE);
    assert_string_equal(f->err, "feed 1 was revoked already, at 2026-11-30T11:00:00Z");
    assert_int_equal(cc_feeds_revoke(f->store, 9, "2026-11-30T12:00:00Z", f->err, sizeof(f->err)), CC_ENOTFOUND);
    assert_string_equal(f->err, "feed 9 does not exist");

    cc_feed_t *all = NULL;
    size_t n = 0;
    assert_int_equal(cc_feeds_list(f->store, &all, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(all[0].revoked_at, "2026-11-30T11:00:00Z");
    assert_string_equal(all[1].target_id, "W1");
    assert_string_equal(all[1].last_access_at, "");
    free(all);

    /* targets must exist */
    assert_int_equal(cc_feeds_add(f->store, CC_FEED_TEAM, "T9", token, NULL, f->err, sizeof(f->err)), CC_ENOTFOUND);
    assert_string_equal(f->err, "team \"T9\" does not exist");
    assert_int_equal(cc_feeds_add(f->store, CC_FEED_STAFF, "X", token, NULL, f->err, sizeof(f->err)), CC_ENOTFOUND);
    assert_string_equal(f->err, "staff member \"X\" does not exist");
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM feeds"), 2);
}

/* ---- what each feed shows ---- */

static void children_of(fixture_t *f, cc_feed_kind_t kind, const char *target, char *out, size_t len)
{
    cc_feed_clocks_t clocks;
    assert_int_equal(cc_feeds_load(f->store, kind, target, CC_DATE_NONE, 0, &clocks, f->err, sizeof(f->err)), 0);
    out[0] = '\0';
    const char *last = "";
    for (size_t i = 0; i < clocks.len; i++) {
        if (strcmp(clocks.items[i].child_id, last) != 0) {
            size_t at = strlen(out);
            snprintf(out + at, len - at, "%s%s", at ? " " : "", clocks.items[i].child_id);
        }
        last = clocks.items[i].child_id;
    }
    cc_feeds_clocks_free(&clocks);
}

static void test_who_sees_what(void **state)
{
    fixture_t *f = *state;
    static const struct {
        cc_feed_kind_t kind;
        const char *target, *children;
    } cases[] = {
        {CC_FEED_TEAM, "T1", "C1 C4"},   {CC_FEED_TEAM, "T2", "C2 C3"},
        {CC_FEED_STAFF, "W1", "C1"},     {CC_FEED_STAFF, "W2", "C2 C3 C4"},
        {CC_FEED_STAFF, "IRO1", "C1 C2"}, {CC_FEED_STAFF, "TM1", "C1 C4"},
        {CC_FEED_STAFF, "TM2", "C2 C3"}, {CC_FEED_STAFF, "SM1", "C1 C2 C3 C4"},
        {CC_FEED_STAFF, "NOBODY", ""},
    };
    char got[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        children_of(f, cases[i].kind, cases[i].target, got, sizeof(got));
        if (strcmp(got, cases[i].children) != 0)
            fail_msg("%s %s: \"%s\", want \"%s\"", cc_feed_kind_name(cases[i].kind), cases[i].target, got,
                     cases[i].children);
    }
    /* someone with two hats sees both */
    exec_sql(f->store, "UPDATE teams SET manager_id = 'W1' WHERE id = 'T2'");
    children_of(f, CC_FEED_STAFF, "W1", got, sizeof(got));
    assert_string_equal(got, "C1 C2 C3");
    cc_feed_clocks_t clocks;
    assert_int_equal(cc_feeds_load(f->store, CC_FEED_TEAM, "T9", CC_DATE_NONE, 0, &clocks, f->err, sizeof(f->err)),
                     CC_ENOTFOUND);
    assert_string_equal(f->err, "team \"T9\" does not exist");
}

/* The clocks of a feed as "child/rule/seq" words, in the order loaded. */
static void items_of(fixture_t *f, cc_feed_kind_t kind, const char *target, char *out, size_t len)
{
    cc_feed_clocks_t clocks;
    assert_int_equal(cc_feeds_load(f->store, kind, target, CC_DATE_NONE, 0, &clocks, f->err, sizeof(f->err)), 0);
    out[0] = '\0';
    for (size_t i = 0; i < clocks.len; i++) {
        size_t at = strlen(out);
        snprintf(out + at, len - at, "%s%s/%s/%d", at ? " " : "", clocks.items[i].child_id, clocks.items[i].rule_id,
                 clocks.items[i].seq);
    }
    cc_feeds_clocks_free(&clocks);
}

/* A staff feed picks its children first, then reads their clocks: each
 * clock once, however many ways its child is linked to the person (worker,
 * IRO, manager of the team), in child, rule, instance order; a child linked only
 * as IRO counts as much as any other. */
static void test_staff_feed_each_clock_once_in_order(void **state)
{
    fixture_t *f = *state;
    char got[512];
    exec_sql(f->store,
             "INSERT INTO clocks (child_id, rule_id, seq, title, start_date, due_date, status, updated_at, instance) "
             "VALUES ('C2', 'review', 2, 'LAC review', '2026-11-30', '2027-05-28', 'open', '2026-11-30T06:00:00Z', "
             "'1.2'), ('C2', 'care_plan', 1, 'Care plan', '2026-11-02', '2026-11-16', 'met', '2026-11-16T06:00:00Z', "
             "'1.1');"
             "UPDATE children SET iro_id = 'W2' WHERE id = 'C2';"
             "UPDATE teams SET manager_id = 'W2' WHERE id = 'T2';");
    items_of(f, CC_FEED_STAFF, "W2", got, sizeof(got));
    /* C3's data error too: shown on today's date until mended (issue 17 item 8) */
    assert_string_equal(got, "C2/care_plan/1 C2/pep/1 C2/review/1 C2/review/2 C3/data/1 C3/visit/1 C4/care_plan/1");
    /* the IRO of a child in someone else's team, and no one else's */
    exec_sql(f->store, "UPDATE children SET iro_id = 'NOBODY' WHERE id = 'C3'");
    items_of(f, CC_FEED_STAFF, "NOBODY", got, sizeof(got));
    assert_string_equal(got, "C3/data/1 C3/visit/1");
    items_of(f, CC_FEED_STAFF, "IRO1", got, sizeof(got));
    assert_string_equal(got, "C1/care_plan/1 C1/review/1");
    /* the service manager: every clock of both teams, once */
    items_of(f, CC_FEED_STAFF, "SM1", got, sizeof(got));
    assert_string_equal(got, "C1/care_plan/1 C1/review/1 C2/care_plan/1 C2/pep/1 C2/review/1 C2/review/2 "
                             "C3/data/1 C3/visit/1 C4/care_plan/1");
}

static void test_load_fields_retention_names(void **state)
{
    fixture_t *f = *state;
    cc_feed_clocks_t c;
    /* done since 2026-10-31: C1's review (met 09-20) and C2's pep
     * (cancelled, due 10-01) are left out; C3's data_error loads (shown
     * on today's date until mended, issue 17 item 8) */
    assert_int_equal(cc_feeds_load(f->store, CC_FEED_STAFF, "SM1", iso("2026-10-31"), 0, &c, f->err, sizeof(f->err)),
                     0);
    assert_string_equal(c.name, "careclock: Sam Service");
    assert_int_equal(c.len, 5);
    const cc_ics_clock_t *k = &c.items[0];
    assert_string_equal(k->child_id, "C1");
    assert_string_equal(k->rule_id, "care_plan");
    assert_string_equal(k->initials, "A.B.");
    assert_null(k->full_name);
    assert_string_equal(k->title, "Care plan");
    assert_string_equal(k->source, "reg 4(2)");
    assert_string_equal(k->start_event, "placement_start");
    assert_string_equal(k->worker_name, "Wendy Worker");
    assert_string_equal(k->updated_at, "2026-11-17T06:00:00Z");
    assert_int_equal(k->sequence, 2);
    assert_int_equal(k->seq, 1);
    assert_string_equal(k->instance, "1.1");
    assert_int_equal(k->status, CC_STATUS_OVERDUE);
    assert_int_equal(k->due, iso("2026-11-16"));
    assert_int_equal(k->met_on, CC_DATE_NONE);
    assert_string_equal(c.items[2].rule_id, "data");
    assert_int_equal(c.items[2].status, CC_STATUS_DATA_ERROR);
    assert_string_equal(c.items[2].reason, "bad date");
    assert_string_equal(c.items[3].rule_id, "visit");
    assert_int_equal(c.items[3].status, CC_STATUS_MET_LATE);
    assert_int_equal(c.items[3].met_on, iso("2026-11-28"));
    assert_null(c.items[3].start_event);
    cc_feeds_clocks_free(&c);

    assert_int_equal(cc_feeds_load(f->store, CC_FEED_STAFF, "SM1", CC_DATE_NONE, 1, &c, f->err, sizeof(f->err)), 0);
    assert_int_equal(c.len, 7);
    assert_string_equal(c.items[0].full_name, "Alice Brown");
    cc_feeds_clocks_free(&c);
    cc_feeds_clocks_free(NULL);
}

static void test_render_and_url(void **state)
{
    fixture_t *f = *state;
    cc_config_t config;
    cc_buf_t out;
    cc_ics_info_t info;
    assert_int_equal(cc_config_defaults(&config), 0);
    cc_buf_init(&out);
    assert_int_equal(cc_feeds_render(f->store, CC_FEED_TEAM, "T1", &config, NULL, iso("2026-11-30"), &out, &info, f->err,
                                     sizeof(f->err)),
                     0);
    /* C1's review was met 2026-09-20, more than 30 days before; and C1's
     * overdue care plan is also on today, in C1's overdue event */
    assert_int_equal(info.events, 3);
    assert_non_null(strstr(cc_buf_str(&out), "\r\nUID:C1-overdue-today-0@careclock\r\nDTSTAMP:20261130T000000Z\r\n"
                                             "DTSTART;VALUE=DATE:20261130\r\n"));
    const char *text = cc_buf_str(&out);
    assert_non_null(strstr(text, "\r\nX-WR-CALNAME:careclock: East\r\n"));
    assert_non_null(strstr(text, "\r\nUID:C1-care_plan-1.1@careclock\r\n"));
    assert_non_null(strstr(text, "\r\nSUMMARY:OVERDUE: Care plan due: C1 (A.B.)\r\n"));
    assert_null(strstr(text, "Alice"));
    assert_string_equal(info.last_modified, "2026-11-20T06:00:00Z");

    config.privacy = CC_PRIVACY_FULL;
    cc_buf_reset(&out);
    assert_int_equal(cc_feeds_render(f->store, CC_FEED_TEAM, "T1", &config, NULL, iso("2026-11-30"), &out, NULL, f->err,
                                     sizeof(f->err)),
                     0);
    assert_non_null(strstr(cc_buf_str(&out), "Care plan due: C1 (Alice Brown)"));
    cc_buf_free(&out);

    char url[256];
    const char *token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    cc_feeds_url(&config, token, url, sizeof(url));
    assert_string_equal(url, "http://127.0.0.1:8787/feeds/" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.ics");
    config.public_url = strdup("https://careclock.council.example/calendars//");
    cc_feeds_url(&config, token, url, sizeof(url));
    assert_string_equal(url, "https://careclock.council.example/calendars/feeds/"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.ics");
    cc_config_free(&config);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),
        cmocka_unit_test_setup_teardown(test_add_lookup_revoke, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_who_sees_what, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_staff_feed_each_clock_once_in_order, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_load_fields_retention_names, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_render_and_url, setup, fixture_db_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
