/* Unit tests for the dashboard's pure parts (issue 20): HTML escaping
 * (core/html.c), the SVG charts (core/svgchart.c), the request pieces the
 * web module parses itself (cookies, form bodies, CSRF tokens, the path to
 * go to after signing in: http/webapp.c), proxy address ranges
 * (util/netaddr.c), the report's periods and rounding (store/report.c),
 * and the sign-in links and sessions against a real SQLite file
 * (store/sessions.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/buf.h"
#include "careclock/html.h"
#include "careclock/netaddr.h"
#include "careclock/report.h"
#include "careclock/sessions.h"
#include "careclock/svgchart.h"
#include "fixture.h"
#include "http/pages.h"
#include "http/web_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const char *html_of(const char *text)
{
    static char out[1024];
    cc_buf_t b;
    cc_buf_init(&b);
    assert_int_equal(cc_html_text(&b, text), 0);
    snprintf(out, sizeof(out), "%s", cc_buf_str(&b));
    cc_buf_free(&b);
    return out;
}

/* Every value from the database or a request is text, never markup: the
 * five characters that could end an element or an attribute are
 * references, bad UTF-8 is U+FFFD, control characters are spaces. */
static void test_html_escaping(void **state)
{
    (void)state;
    assert_string_equal(html_of("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    assert_string_equal(html_of("\"a\" & b"), "&quot;a&quot; &amp; b");
    assert_string_equal(html_of("Zo\xc3\xab \xff!"), "Zo\xc3\xab \xef\xbf\xbd!");
    assert_string_equal(html_of("a\rb\x01" "c\nd"), "a b c\nd");
    cc_buf_t b;
    cc_buf_init(&b);
    cc_html_path_segment(&b, "C 1/../x?y#z");
    assert_string_equal(cc_buf_str(&b), "C%201%2F..%2Fx%3Fy%23z");
    cc_buf_reset(&b);
    cc_html_query_value(&b, "a b&c");
    assert_string_equal(cc_buf_str(&b), "a+b%26c");
    cc_buf_reset(&b);
    cc_html_id(&b, "care_plan");
    cc_html_id(&b, "-x\"");
    assert_string_equal(cc_buf_str(&b), "care_5fplan-x_22");
    cc_buf_free(&b);
}

/* A chart is an image with a name and a description, every value written
 * beside its bar, the labels escaped; no bars, a chart that says so. */
static void test_charts(void **state)
{
    (void)state;
    cc_buf_t b;
    cc_buf_init(&b);
    cc_chart_bar_t bars[] = {{"Care <plan>", 39.6, "39.6%"}, {"Review", -1, "no figure"}};
    cc_chart_t c = {.id = "t1", .title = "On time", .desc = "What it shows", .horizontal = 1, .max = 100};
    assert_int_equal(cc_chart_bars(&b, &c, bars, 2), 0);
    const char *s = cc_buf_str(&b);
    assert_non_null(strstr(s, "role=\"img\" aria-labelledby=\"t1-title t1-desc\""));
    assert_non_null(strstr(s, "<title id=\"t1-title\">On time</title><desc id=\"t1-desc\">What it shows</desc>"));
    assert_non_null(strstr(s, "Care &lt;plan&gt;"));
    assert_non_null(strstr(s, ">39.6%</text>"));
    assert_non_null(strstr(s, ">no figure</text>"));
    assert_null(strstr(s, "<script"));
    cc_buf_reset(&b);
    c.horizontal = 0;
    assert_int_equal(cc_chart_bars(&b, &c, NULL, 0), 0);
    assert_non_null(strstr(cc_buf_str(&b), "No figures for this period."));
    cc_buf_free(&b);
}

/* The parsing the web module does itself. */
static void test_request_pieces(void **state)
{
    (void)state;
    char out[128];
    assert_int_equal(cc__web_cookie("a=1; cc_session=abc; b=2", "cc_session", out, sizeof(out)), 1);
    assert_string_equal(out, "abc");
    assert_int_equal(cc__web_cookie("xcc_session=abc", "cc_session", out, sizeof(out)), 0);
    assert_int_equal(cc__web_cookie(NULL, "cc_session", out, sizeof(out)), 0);
    assert_int_equal(cc__web_cookie("cc_session=0123456789", "cc_session", out, 5), 0); /* too long: none */
    const char body[] = "csrf=ab%2Fcd&email=w1%40council.example&next=%2Fchildren%2FC+1&bad=%zz&nul=%00";
    assert_int_equal(cc__web_form(body, strlen(body), "email", out, sizeof(out)), 1);
    assert_string_equal(out, "w1@council.example");
    assert_int_equal(cc__web_form(body, strlen(body), "next", out, sizeof(out)), 1);
    assert_string_equal(out, "/children/C 1");
    assert_int_equal(cc__web_form(body, strlen(body), "bad", out, sizeof(out)), -1);
    assert_int_equal(cc__web_form(body, strlen(body), "nul", out, sizeof(out)), -1);
    assert_int_equal(cc__web_form(body, strlen(body), "missing", out, sizeof(out)), 0);
    assert_int_equal(cc__web_form("x=%4", 4, "x", out, sizeof(out)), -1); /* a cut escape */
    /* CSRF tokens: fixed for a subject and key, different otherwise. */
    unsigned char key[32] = {1}, other[32] = {2};
    char t1[65], t2[65], t3[65];
    cc__web_csrf(key, "s:abc", t1);
    cc__web_csrf(key, "s:abc", t2);
    assert_string_equal(t1, t2);
    cc__web_csrf(key, "s:abd", t2);
    cc__web_csrf(other, "s:abc", t3);
    assert_string_not_equal(t1, t2);
    assert_string_not_equal(t1, t3);
    assert_int_equal(strlen(t1), 64);
    /* Where a sign-in may lead: a local path only. */
    assert_true(cc__web_safe_next("/children/C1"));
    assert_true(cc__web_safe_next("/timeliness?team=T1&by=month"));
    assert_false(cc__web_safe_next("//evil.example/"));
    assert_false(cc__web_safe_next("https://evil.example/"));
    assert_false(cc__web_safe_next("/\\evil.example"));
    assert_false(cc__web_safe_next("/a//b"));
    assert_false(cc__web_safe_next("/a\r\nSet-Cookie: x"));
    assert_false(cc__web_safe_next(""));
}

static struct sockaddr_storage v4(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, text, &in->sin_addr), 1);
    return ss;
}

static struct sockaddr_storage v6(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in6 *in = (struct sockaddr_in6 *)&ss;
    in->sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, text, &in->sin6_addr), 1);
    return ss;
}

/* [web] proxy_addresses: one address, a range, IPv6, an IPv4 client seen
 * through an IPv6 socket. */
static void test_proxy_addresses(void **state)
{
    (void)state;
    cc_netaddr_t one, range, six;
    assert_int_equal(cc_netaddr_parse("10.0.0.5", &one), 0);
    assert_int_equal(cc_netaddr_parse("192.168.16.0/20", &range), 0);
    assert_int_equal(cc_netaddr_parse("fd00::/8", &six), 0);
    struct sockaddr_storage a = v4("10.0.0.5"), b = v4("10.0.0.6"), c = v4("192.168.31.200"), d = v4("192.168.32.1");
    struct sockaddr_storage e = v6("fd12::1"), f = v6("fe80::1"), g = v6("::ffff:10.0.0.5");
    assert_true(cc_netaddr_match(&one, (struct sockaddr *)&a));
    assert_false(cc_netaddr_match(&one, (struct sockaddr *)&b));
    assert_true(cc_netaddr_match(&range, (struct sockaddr *)&c));
    assert_false(cc_netaddr_match(&range, (struct sockaddr *)&d));
    assert_true(cc_netaddr_match(&six, (struct sockaddr *)&e));
    assert_false(cc_netaddr_match(&six, (struct sockaddr *)&f));
    assert_true(cc_netaddr_match(&one, (struct sockaddr *)&g));
    assert_false(cc_netaddr_match(&one, NULL));
    assert_int_not_equal(cc_netaddr_parse("10.0.0.5/33", &one), 0);
    assert_int_not_equal(cc_netaddr_parse("proxy.council.example", &one), 0);
    assert_int_not_equal(cc_netaddr_parse("10.0.0.5/", &one), 0);
}

static const char *period(cc_report_by_t by, const char *day, char first[CC_DATE_STRLEN], char last[CC_DATE_STRLEN])
{
    static char label[32];
    cc_date_t f, l;
    cc_report_period_of(by, iso(day), label, sizeof(label), &f, &l);
    cc_date_format(f, first);
    cc_date_format(l, last);
    return label;
}

/* The reporting year runs from 1 April to 31 March (as the DfE's SSDA903
 * return does); its quarter 1 is April to June, quarter 4 January to March. */
static void test_periods(void **state)
{
    (void)state;
    char f[CC_DATE_STRLEN], l[CC_DATE_STRLEN];
    assert_string_equal(period(CC_REPORT_BY_YEAR, "2027-03-31", f, l), "2026-27");
    assert_string_equal(f, "2026-04-01");
    assert_string_equal(l, "2027-03-31");
    assert_string_equal(period(CC_REPORT_BY_YEAR, "2026-04-01", f, l), "2026-27");
    assert_string_equal(period(CC_REPORT_BY_YEAR, "2099-12-31", f, l), "2099-00");
    assert_string_equal(period(CC_REPORT_BY_QUARTER, "2026-06-30", f, l), "2026-27 Q1");
    assert_string_equal(f, "2026-04-01");
    assert_string_equal(l, "2026-06-30");
    assert_string_equal(period(CC_REPORT_BY_QUARTER, "2027-02-14", f, l), "2026-27 Q4");
    assert_string_equal(f, "2027-01-01");
    assert_string_equal(l, "2027-03-31");
    assert_string_equal(period(CC_REPORT_BY_MONTH, "2028-02-10", f, l), "2028-02");
    assert_string_equal(l, "2028-02-29");
    assert_int_equal(cc_report_by_parse("quarter"), CC_REPORT_BY_QUARTER);
    assert_int_equal(cc_report_by_parse("week"), -1);
}

/* Percentages to one decimal, rounded half up exactly: 791 of 2,000 on time
 * (the rest late) is 39.55%, shown 39.6. */
static void test_percent_rounding(void **state)
{
    (void)state;
    long t = 0;
    cc_report_counts_t c = {{791, 1209, 0, 0, 0}, 0};
    assert_int_equal(cc_report_percent_tenths(&c, &t), 1);
    assert_int_equal(t, 396);
    cc_report_counts_t third = {{1, 2, 0, 5, 5}, 0};
    assert_int_equal(cc_report_percent_tenths(&third, &t), 1);
    assert_int_equal(t, 333);
    cc_report_counts_t none = {{0, 0, 0, 3, 1}, 0};
    t = -7;
    assert_int_equal(cc_report_percent_tenths(&none, &t), 0);
    assert_int_equal(t, -7);
}

/* Sign-in links and sessions against a real database: a link works once
 * and only before it expires; a session ends when idle, at its absolute
 * expiry, or on sign-out; tokens are stored only as hashes; every step is
 * audited. */
static void test_signin_and_sessions(void **state)
{
    (void)state;
    fixture_db_t *f = fixture_db_new("web");
    assert_non_null(f);
    f->store = fixture_open(f->path);
    exec_sql(f->store, "INSERT INTO staff (id, name, email, role) VALUES ('W1', 'Wendy', 'w1@x.example', 'worker')");
    char token[CC_SESSION_TOKEN_LEN + 1], session[CC_SESSION_TOKEN_LEN + 1], staff[CC_ID_MAX + 1], next[64];
    cc_web_audit_t a = {.staff_id = "W1", .action = "signin_request", .outcome = "sent", .client = "127.0.0.1",
                        .via = "email"};
    time_t t0 = 1790000000;
    assert_int_equal(cc_signin_create(f->store, "W1", t0, 15, "/children/C1", &a, token), 0);
    assert_int_equal(strlen(token), 64);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM web_signin WHERE token_hash = '%s'", token);
    assert_int_equal(query_int(f->store, sql), 0); /* never the token itself */
    size_t n = 9;
    assert_int_equal(cc_signin_count_since(f->store, "W1", t0 - 60, &n), 0);
    assert_int_equal(n, 1);
    cc_signin_result_t r;
    /* Too late. */
    assert_int_equal(cc_signin_redeem(f->store, token, t0 + 15 * 60, 10, "127.0.0.1", &r, session, staff, next,
                                      sizeof(next)),
                     0);
    assert_int_equal(r, CC_SIGNIN_EXPIRED);
    assert_string_equal(session, "");
    /* In time: a session, and the path asked for. */
    assert_int_equal(cc_signin_redeem(f->store, token, t0 + 60, 10, "127.0.0.1", &r, session, staff, next,
                                      sizeof(next)),
                     0);
    assert_int_equal(r, CC_SIGNIN_OK);
    assert_string_equal(staff, "W1");
    assert_string_equal(next, "/children/C1");
    /* Once only. */
    char again[CC_SESSION_TOKEN_LEN + 1];
    assert_int_equal(cc_signin_redeem(f->store, token, t0 + 61, 10, "127.0.0.1", &r, again, staff, next,
                                      sizeof(next)),
                     0);
    assert_int_equal(r, CC_SIGNIN_USED);
    token[0] = token[0] == 'a' ? 'b' : 'a';
    assert_int_equal(cc_signin_redeem(f->store, token, t0 + 62, 10, "127.0.0.1", &r, again, staff, next,
                                      sizeof(next)),
                     0);
    assert_int_equal(r, CC_SIGNIN_UNKNOWN);
    cc_session_t s;
    assert_int_equal(cc_session_get(f->store, session, t0 + 120, 60, "127.0.0.1", &s), 1);
    assert_string_equal(s.staff_id, "W1");
    assert_int_equal(cc_session_get(f->store, "not a token", t0 + 120, 60, "127.0.0.1", &s), 0);
    /* Idle for an hour: ended (and says why). */
    assert_int_equal(cc_session_get(f->store, session, t0 + 120 + 3600, 60, "127.0.0.1", &s), 0);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM web_sessions WHERE ended_why = 'idle'"), 1);
    /* Another, signed out. */
    assert_int_equal(cc_signin_create(f->store, "W1", t0, 15, NULL, &a, token), 0);
    assert_int_equal(cc_signin_redeem(f->store, token, t0 + 5, 10, "127.0.0.1", &r, session, staff, next,
                                      sizeof(next)),
                     0);
    assert_string_equal(next, "");
    assert_int_equal(cc_session_end(f->store, session, t0 + 10, "127.0.0.1"), 0);
    assert_int_equal(cc_session_get(f->store, session, t0 + 11, 60, "127.0.0.1", &s), 0);
    /* A third, past its absolute expiry (10 hours) though never idle. */
    assert_int_equal(cc_signin_create(f->store, "W1", t0, 15, NULL, &a, token), 0);
    assert_int_equal(cc_signin_redeem(f->store, token, t0, 10, "127.0.0.1", &r, session, staff, next, sizeof(next)),
                     0);
    for (time_t t = t0; t < t0 + 10 * 3600; t += 50 * 60)
        assert_int_equal(cc_session_get(f->store, session, t, 60, "127.0.0.1", &s), 1);
    assert_int_equal(cc_session_get(f->store, session, t0 + 10 * 3600, 60, "127.0.0.1", &s), 0);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM web_audit WHERE action = 'signin' AND outcome = 'ok'"),
                     3);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM web_audit WHERE action = 'signin' AND outcome IN "
                                         "('used', 'expired', 'unknown')"),
                     3);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM web_audit WHERE action = 'signout'"), 2);
    size_t deleted = 0;
    assert_int_equal(cc_sessions_prune(f->store, t0 + 30 * 3600, &deleted), 0);
    assert_int_equal(deleted, 6); /* three links, three sessions */
    fixture_db_teardown((void **)&f);
}

/* A page: one h1, the skip link, the current item marked for screen
 * readers, values escaped. */
static void test_page_frame(void **state)
{
    (void)state;
    cc_buf_t b;
    cc_buf_init(&b);
    cc__page_t p = {.title = "Team <T1>", .user = "Tom \"TM\"", .user_role = "team manager", .csrf = "abc",
                    .email_signout = 1, .nav = "team", .team_id = "T 1", .nav_timeliness = 1};
    cc__page_message(&b, &p, "Hello <b>", "Text & more", NULL, NULL);
    const char *s = cc_buf_str(&b);
    assert_non_null(strstr(s, "<title>Team &lt;T1&gt; - careclock</title>"));
    assert_non_null(strstr(s, "href=\"#main-content\" class=\"govuk-skip-link\""));
    assert_non_null(strstr(s, "href=\"/teams/T%201\" aria-current=\"page\""));
    assert_non_null(strstr(s, "Tom &quot;TM&quot;"));
    assert_non_null(strstr(s, "<h1 class=\"govuk-heading-l\">Hello &lt;b&gt;</h1>"));
    assert_null(strstr(strstr(s, "<h1") + 3, "<h1"));
    assert_non_null(strstr(s, "name=\"csrf\" value=\"abc\""));
    cc_buf_free(&b);
}

/* The child page's decision forms (pagedecide.c): only the forms the
 * clock's flags offer, each posting to the child's decisions with the
 * token, the clock and its instance; a form sent back opens with the GOV.UK
 * error summary first, linking to its field, the field marked and what was
 * typed kept (escaped); the decisions list with who, role and withdrawal. */
static void test_decision_forms(void **state)
{
    (void)state;
    cc_buf_t b;
    const char *codes[] = {"declined", "not_required"};
    cc__child_clock_t clocks[] = {
        {.rule_id = "assessment", .title = "Assessment", .status = "overdue", .due = "2027-01-07", .seq = 1,
         .instance = "16.1", .agreed = "2027-02-15", .forms = CC__FORM_EXTEND | CC__FORM_ACK},
        {.rule_id = "health_assessment", .title = "Health", .status = "open", .seq = 2, .instance = "1.2",
         .forms = CC__FORM_EXCEPT, .except_codes = codes, .nexcept_codes = 2},
        {.rule_id = "review", .title = "Review", .status = "open", .seq = 1, .instance = "1.1", .forms = 0},
    };
    cc__child_decision_t ds[] = {
        {.id = 7, .kind = "extend", .rule_id = "assessment", .title = "Assessment", .seq = 1, .date = "2027-02-15",
         .reason = "parent <ill>", .by = "TM1", .by_name = "Tom", .by_role = "team_manager", .at = "2026-11-30T10:00:00Z",
         .via = "web", .may_withdraw = 1},
    };
    cc__child_page_t c = {.id = "C 5", .clocks = clocks, .nclocks = 3, .decisions = ds, .ndecisions = 1,
                          .csrf = "tok"};
    cc__page_t p = {.title = "Child"};
    cc_buf_init(&b);
    cc__page_child(&b, &p, &c);
    const char *s = cc_buf_str(&b);
    assert_null(strstr(s, "There is a problem"));
    assert_non_null(strstr(s, "<form method=\"post\" novalidate action=\"/children/C%205/decisions\">"));
    assert_non_null(strstr(s, "name=\"kind\" value=\"extend\"><input type=\"hidden\" name=\"clock\" "
                              "value=\"assessment\"><input type=\"hidden\" name=\"instance\" value=\"16.1\">"));
    assert_non_null(strstr(s, "name=\"kind\" value=\"ack\"><input type=\"hidden\" name=\"clock\" "
                              "value=\"assessment\""));
    assert_non_null(strstr(s, "<option value=\"not_required\">not required</option>"));
    assert_null(strstr(s, "value=\"review\""));             /* no form for a clock that offers none */
    assert_null(strstr(s, "name=\"kind\" value=\"extend\"><input type=\"hidden\" name=\"clock\" "
                          "value=\"health_assessment\""));
    assert_non_null(strstr(s, "overdue, extended to <time datetime=\"2027-02-15\">"));
    assert_non_null(strstr(s, "<time datetime=\"2027-01-07\">"));   /* the statutory due date kept */
    assert_non_null(strstr(s, "parent &lt;ill&gt;"));
    assert_non_null(strstr(s, "Tom (TM1), team manager"));
    assert_non_null(strstr(s, "Withdraw decision 7 (Extension of Assessment)"));
    assert_non_null(strstr(s, "name=\"decision\" value=\"7\""));
    /* Sent back: the summary first, linking to the field; the field marked; the text kept. */
    cc__decision_error_t e = {.kind = "extend", .rule_id = "assessment", .seq = 1, .field = "to",
                              .message = "Enter the agreed date", .to = "", .reason = "why <kept>"};
    c.error = &e;
    cc_buf_reset(&b);
    cc__page_child(&b, &p, &c);
    s = cc_buf_str(&b);
    const char *summary = strstr(s, "There is a problem");
    assert_non_null(summary);
    assert_true(summary < strstr(s, "<h1"));
    assert_non_null(strstr(s, "<a href=\"#clock-assessment-1-extend-to\">Enter the agreed date</a>"));
    assert_non_null(strstr(s, "id=\"clock-assessment-1-extend-to-error\" class=\"govuk-error-message\""));
    assert_non_null(strstr(s, "aria-describedby=\"clock-assessment-1-extend-to-hint clock-assessment-1-extend-to-error\""));
    assert_non_null(strstr(s, ">why &lt;kept&gt;</textarea>"));
    assert_non_null(strstr(s, "<details class=\"govuk-details cc-decide\" open><summary class=\"govuk-details__summary\">"
                              "<span class=\"govuk-details__summary-text\">Agree an extension"));
    /* My work: an extended clock shows the statutory date, then the agreed one. */
    cc__work_item_t item = {.child_id = "C5", .rule_id = "assessment", .title = "Assessment", .status = "due_soon",
                            .due_date = "2027-01-07", .agreed = "2027-02-15", .seq = 1, .working_days = 3};
    cc__work_group_t g = {.items = &item, .nitems = 1, .due_soon = 1, .children = 1};
    cc__work_t work = {.groups = &g, .ngroups = 1, .due_soon = 1};
    cc_buf_reset(&b);
    cc__page_work(&b, &p, &work);
    s = cc_buf_str(&b);
    assert_non_null(strstr(s, "<time datetime=\"2027-01-07\">Thu 7 Jan 2027</time><br><span class=\"govuk-body-s\">"
                              "extended to <time datetime=\"2027-02-15\">"));
    cc_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_escaping),     cmocka_unit_test(test_charts),
        cmocka_unit_test(test_request_pieces),    cmocka_unit_test(test_proxy_addresses),
        cmocka_unit_test(test_periods),           cmocka_unit_test(test_percent_rounding),
        cmocka_unit_test(test_signin_and_sessions), cmocka_unit_test(test_page_frame),
        cmocka_unit_test(test_decision_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
