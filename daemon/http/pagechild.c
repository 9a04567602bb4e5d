/* The dashboard's child page: pure HTML from values. See
 * daemon/http/pages.h and the design notes of pages.c.
 */
#include "http/pages.h"
#include "careclock/html.h"

#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>

#define T(text) cc_html_text(out, (text))
#define P(lit) cc_buf_puts(out, (lit))

static void summary_row(cc_buf_t *out, const char *key, const char *value, const char *href)
{
    P("<div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">");
    T(key);
    P("</dt><dd class=\"govuk-summary-list__value\">");
    if (href != NULL) {
        P("<a class=\"govuk-link\" href=\"");
        P(href);
        P("\">");
    }
    T(value && value[0] ? value : "None");
    if (href != NULL)
        P("</a>");
    P("</dd></div>");
}

static void person_value(cc_buf_t *value, const char *name, const char *id)
{
    if (id == NULL || id[0] == '\0')
        return;
    cc_buf_puts(value, name && name[0] ? name : id);
    if (name && name[0]) {
        cc_buf_puts(value, " (");
        cc_buf_puts(value, id);
        cc_buf_puts(value, ")");
    }
}

static int needs_action(const char *status)
{
    return strcmp(status, "overdue") == 0 || strcmp(status, "due_soon") == 0 || strcmp(status, "data_error") == 0;
}

static void child_clock(cc_buf_t *out, const cc__child_page_t *page, const cc__child_clock_t *c)
{
    P("<div class=\"govuk-summary-card\" id=\"");
    cc__page_clock_anchor(out, c->rule_id, c->seq);
    P("\"><div class=\"govuk-summary-card__title-wrapper\"><h3 class=\"govuk-summary-card__title\">");
    T(c->title);
    if (c->seq > 1)
        cc_buf_printf(out, " (%d)", c->seq);
    P(" ");
    cc__page_tag(out, c->status);
    if (c->agreed != NULL) { /* "open, extended to DATE" (issue 17) */
        P(" <span class=\"govuk-body-s cc-extended\">extended to ");
        cc__page_date(out, c->agreed);
        P("</span>");
    }
    P("</h3></div><div class=\"govuk-summary-card__content\"><dl class=\"govuk-summary-list\">");
    if (strcmp(cc__page_or_empty(c->status), "data_error") != 0) {
        cc_buf_t v;
        cc_buf_init(&v);
        summary_row(out, "Clock", c->rule_id, NULL);
        P("<div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">Started</dt>"
          "<dd class=\"govuk-summary-list__value\">");
        cc__page_date(out, c->start);
        P("</dd></div><div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">Due</dt>"
          "<dd class=\"govuk-summary-list__value\">");
        cc__page_date(out, c->due);
        P("</dd></div>");
        if (c->agreed != NULL) {
            P("<div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">Status</dt>"
              "<dd class=\"govuk-summary-list__value\">");
            for (const char *st = c->status; *st; st++) /* due_soon: due soon */
                cc_buf_printf(out, "%c", *st == '_' ? ' ' : *st);
            P(", extended to ");
            cc__page_date(out, c->agreed);
            P(" <span class=\"govuk-hint\">(reminders follow the agreed date; the statutory due date above is "
              "kept)</span></dd></div>");
        }
        if (c->met_on != NULL && c->met_on[0]) {
            P("<div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">Met</dt>"
              "<dd class=\"govuk-summary-list__value\">");
            cc__page_date(out, c->met_on);
            P("</dd></div>");
        }
        if (c->reason != NULL && c->reason[0])
            summary_row(out, "Why", c->reason, NULL);
        summary_row(out, "Source", c->source, NULL);
        cc_buf_free(&v);
    } else {
        summary_row(out, "Why", c->reason, NULL);
    }
    P("</dl>");
    if (c->explanation != NULL && c->explanation[0]) {
        P("<details class=\"govuk-details\"");
        if (needs_action(cc__page_or_empty(c->status)))
            P(" open");
        P("><summary class=\"govuk-details__summary\"><span class=\"govuk-details__summary-text\">"
          "How the due date was worked out</span></summary><div class=\"govuk-details__text cc-explain\">");
        T(c->explanation);
        P("</div></details>");
    }
    cc__page_decision_forms(out, page, c);
    P("</div></div>");
}

void cc__page_child(cc_buf_t *out, const cc__page_t *p, const cc__child_page_t *c)
{
    cc_buf_t v, href;
    cc_buf_init(&v);
    cc_buf_init(&href);
    cc__page_begin(out, p);
    cc__page_decision_errors(out, c);
    P("<span class=\"govuk-caption-l\">Child</span><h1 class=\"govuk-heading-l\">");
    cc__page_child_name(out, c->id, c->label);
    P("</h1><dl class=\"govuk-summary-list\">");
    if (c->team_link && c->team_id != NULL) {
        cc_buf_puts(&href, "/teams/");
        cc_html_path_segment(&href, c->team_id);
    }
    person_value(&v, c->team_name, c->team_id);
    summary_row(out, "Team", cc_buf_str(&v), href.len ? cc_buf_str(&href) : NULL);
    cc_buf_reset(&v);
    person_value(&v, c->worker_name, c->worker_id);
    summary_row(out, "Social worker", cc_buf_str(&v), NULL);
    cc_buf_reset(&v);
    person_value(&v, c->iro_name, c->iro_id);
    summary_row(out, "Independent Reviewing Officer", cc_buf_str(&v), NULL);
    P("<div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">Date of birth</dt>"
      "<dd class=\"govuk-summary-list__value\">");
    cc__page_date(out, c->dob);
    P("</dd></div></dl>");

    size_t act = 0, rest = 0;
    for (size_t i = 0; i < c->nclocks; i++)
        needs_action(cc__page_or_empty(c->clocks[i].status)) ? act++ : rest++;
    P("<h2 class=\"govuk-heading-m\">Clocks that need action</h2>");
    if (act == 0)
        P("<p class=\"govuk-body\">None: nothing is overdue or due soon.</p>");
    for (size_t i = 0; i < c->nclocks; i++)
        if (needs_action(cc__page_or_empty(c->clocks[i].status)))
            child_clock(out, c, &c->clocks[i]);
    P("<h2 class=\"govuk-heading-m\">Other clocks</h2>");
    if (rest == 0)
        P("<p class=\"govuk-body\">None.</p>");
    for (size_t i = 0; i < c->nclocks; i++)
        if (!needs_action(cc__page_or_empty(c->clocks[i].status)))
            child_clock(out, c, &c->clocks[i]);

    cc__page_decisions(out, c);
    P("<h2 class=\"govuk-heading-m\">Events</h2>");
    if (c->nevents == 0) {
        P("<p class=\"govuk-body\">No events recorded.</p>");
    } else {
        P("<table class=\"govuk-table\"><caption class=\"govuk-table__caption govuk-table__caption--s\">What has "
          "happened, by date</caption><thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">"
          "<th scope=\"col\" class=\"govuk-table__header\">Date</th>"
          "<th scope=\"col\" class=\"govuk-table__header\">Event</th>"
          "<th scope=\"col\" class=\"govuk-table__header\">Recorded by</th>"
          "<th scope=\"col\" class=\"govuk-table__header govuk-table__header--numeric\">Event id</th>"
          "</tr></thead><tbody class=\"govuk-table__body\">");
        for (size_t i = 0; i < c->nevents; i++) {
            const cc__child_event_t *e = &c->events[i];
            P("<tr class=\"govuk-table__row\"><td class=\"govuk-table__cell\">");
            cc__page_date(out, e->date);
            P("</td><td class=\"govuk-table__cell\">");
            T(e->type);
            P("</td><td class=\"govuk-table__cell\">");
            T(e->source);
            cc_buf_printf(out, "</td><td class=\"govuk-table__cell govuk-table__cell--numeric\">%lld</td></tr>",
                          (long long)e->id);
        }
        P("</tbody></table>");
    }
    P("<h2 class=\"govuk-heading-m\">Reminders and escalations</h2>");
    if (c->ndeliveries == 0) {
        P("<p class=\"govuk-body\">None sent or planned.</p>");
    } else {
        P("<table class=\"govuk-table\"><caption class=\"govuk-table__caption govuk-table__caption--s\">Newest "
          "first</caption><thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">"
          "<th scope=\"col\" class=\"govuk-table__header\">When</th>"
          "<th scope=\"col\" class=\"govuk-table__header\">Clock</th>"
          "<th scope=\"col\" class=\"govuk-table__header\">What</th>"
          "<th scope=\"col\" class=\"govuk-table__header\">To</th>"
          "<th scope=\"col\" class=\"govuk-table__header\">State</th>"
          "</tr></thead><tbody class=\"govuk-table__body\">");
        for (size_t i = 0; i < c->ndeliveries; i++) {
            const cc__child_delivery_t *d = &c->deliveries[i];
            P("<tr class=\"govuk-table__row\"><td class=\"govuk-table__cell\">");
            T(d->when);
            P("</td><td class=\"govuk-table__cell\">");
            T(d->rule_id);
            if (d->seq > 1)
                cc_buf_printf(out, " (%d)", d->seq);
            P("</td><td class=\"govuk-table__cell\">");
            T(d->kind);
            P(", ");
            T(d->stage);
            P("</td><td class=\"govuk-table__cell\">");
            T(d->recipient);
            P(" (");
            T(d->role);
            P(", ");
            T(d->channel);
            P(")</td><td class=\"govuk-table__cell\">");
            T(d->state);
            P("</td></tr>");
        }
        P("</tbody></table>");
    }
    cc_buf_free(&v);
    cc_buf_free(&href);
    cc__page_end(out, p);
}
