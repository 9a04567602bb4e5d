/* The dashboard's figures: the team, service and timeliness pages, their
 * tables and SVG charts (each with the table it draws). Pure HTML from
 * values. See daemon/http/pages.h and the design notes of pages.c.
 */
#include "http/pages.h"
#include "careclock/html.h"
#include "careclock/svgchart.h"

#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>

#define T(text) cc_html_text(out, (text))
#define P(lit) cc_buf_puts(out, (lit))

static void figures_note(cc_buf_t *out, const cc__figures_t *f)
{
    P("<p class=\"govuk-body-s cc-muted\">");
    T(f->asof);
    P(". A clock's figures count for the team and worker who held the child on its due date.");
    if (f->stale)
        P(" <strong>The figures are being updated: refresh the page in a moment for the latest.</strong>");
    P("</p>");
}

static void num_cell(cc_buf_t *out, size_t n)
{
    cc_buf_printf(out, "<td class=\"govuk-table__cell govuk-table__cell--numeric\">%zu</td>", n);
}

static void num_head(cc_buf_t *out, const char *label)
{
    P("<th scope=\"col\" class=\"govuk-table__header govuk-table__header--numeric\">");
    T(label);
    P("</th>");
}

static void count_cells(cc_buf_t *out, const cc__count_table_t *t, const cc__count_row_t *r)
{
    if (t->show_children)
        num_cell(out, r->children);
    num_cell(out, r->overdue);
    num_cell(out, r->due_soon);
    num_cell(out, r->open);
    if (t->show_done) {
        num_cell(out, r->met);
        num_cell(out, r->met_late);
        num_cell(out, r->cancelled);
    }
    num_cell(out, r->data_errors);
}

void cc__page_count_table(cc_buf_t *out, const cc__count_table_t *t)
{
    P("<table class=\"govuk-table cc-figures\"><caption class=\"govuk-table__caption govuk-table__caption--s\">");
    T(t->caption);
    P("</caption><thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">"
      "<th scope=\"col\" class=\"govuk-table__header\">");
    T(t->first_column);
    P("</th>");
    if (t->show_children)
        num_head(out, "Children");
    num_head(out, "Overdue");
    num_head(out, "Due soon");
    num_head(out, "Open");
    if (t->show_done) {
        num_head(out, "Met");
        num_head(out, "Met late");
        num_head(out, "Cancelled");
    }
    num_head(out, "Data errors");
    P("</tr></thead><tbody class=\"govuk-table__body\">");
    for (size_t i = 0; i < t->nrows; i++) {
        const cc__count_row_t *r = &t->rows[i];
        P("<tr class=\"govuk-table__row\"><th scope=\"row\" class=\"govuk-table__header\">");
        if (r->href != NULL) {
            P("<a class=\"govuk-link\" href=\"");
            T(r->href);
            P("\">");
        }
        T(r->name && r->name[0] ? r->name : r->id);
        if (r->href != NULL)
            P("</a>");
        P("</th>");
        count_cells(out, t, r);
        P("</tr>");
    }
    P("<tr class=\"govuk-table__row cc-total\"><th scope=\"row\" class=\"govuk-table__header\">Total</th>");
    count_cells(out, t, &t->total);
    P("</tr></tbody></table>");
}

static void percent_text(const cc_report_counts_t *c, char *buf, size_t len)
{
    long tenths;
    if (cc_report_percent_tenths(c, &tenths))
        snprintf(buf, len, "%ld.%ld%%", tenths / 10, tenths % 10);
    else
        snprintf(buf, len, "no figure");
}

static double percent_value(const cc_report_counts_t *c)
{
    long tenths;
    return cc_report_percent_tenths(c, &tenths) ? (double)tenths / 10.0 : -1;
}

/* The cells of a clock's counts; its percentage "no data recorded" when no
 * source has recorded its meeting events (issue 17 item 7). */
static void clock_cells(cc_buf_t *out, const cc_report_counts_t *c, int no_data)
{
    char pct[32];
    num_cell(out, cc_report_due(c));
    num_cell(out, c->n[CC_REPORT_ON_TIME]);
    num_cell(out, c->n[CC_REPORT_LATE]);
    num_cell(out, c->n[CC_REPORT_OVERDUE]);
    num_cell(out, c->n[CC_REPORT_NOT_YET_DUE]);
    percent_text(c, pct, sizeof(pct));
    if (no_data)
        snprintf(pct, sizeof(pct), "no data recorded");
    P("<td class=\"govuk-table__cell govuk-table__cell--numeric\">");
    T(pct);
    P("</td>");
    num_cell(out, c->n[CC_REPORT_CANCELLED]);
}

static void counts_cells(cc_buf_t *out, const cc_report_counts_t *c)
{
    clock_cells(out, c, 0);
}

static void counts_heads(cc_buf_t *out)
{
    num_head(out, "Due");
    num_head(out, "On time");
    num_head(out, "Late");
    num_head(out, "Overdue");
    num_head(out, "Not yet due");
    num_head(out, "On time %");
    num_head(out, "Cancelled");
}

/* The periods of a report summed over its clocks, in order. */
typedef struct {
    char label[32];
    cc_date_t first;
    cc_report_counts_t c;
} period_sum_t;

static size_t period_sums(const cc_report_t *r, period_sum_t *sums, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nclocks; i++)
        for (size_t j = 0; j < r->clocks[i].nperiods; j++) {
            const cc_report_period_t *p = &r->clocks[i].periods[j];
            size_t k = 0;
            while (k < n && strcmp(sums[k].label, p->period) != 0)
                k++;
            if (k == n) {
                if (n == max)
                    continue;
                snprintf(sums[n].label, sizeof(sums[n].label), "%s", p->period);
                sums[n].first = p->first;
                memset(&sums[n].c, 0, sizeof(sums[n].c));
                n++;
            }
            for (int b = 0; b < CC_REPORT_NBUCKETS; b++)
                sums[k].c.n[b] += p->total.n[b];
        }
    /* In time order (few: insertion sort). */
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && sums[b - 1].first > sums[b].first; b--) {
            period_sum_t t = sums[b];
            sums[b] = sums[b - 1];
            sums[b - 1] = t;
        }
    return n;
}

#define MAX_PERIODS 400

/* A chart of the on-time % by period, every clock together, and its table. */
static void trend(cc_buf_t *out, const char *id, const char *title, const cc_report_t *r)
{
    static __thread period_sum_t sums[MAX_PERIODS];
    static __thread cc_chart_bar_t bars[MAX_PERIODS];
    static __thread char texts[MAX_PERIODS][32];
    size_t n = period_sums(r, sums, MAX_PERIODS);
    for (size_t i = 0; i < n; i++) {
        percent_text(&sums[i].c, texts[i], sizeof(texts[i]));
        bars[i] = (cc_chart_bar_t){sums[i].label, percent_value(&sums[i].c), texts[i]};
    }
    cc_chart_t chart = {.id = id, .title = title,
                        .desc = "Bars: the percentage of clocks met on time, by period, every clock together. "
                                "The table after the chart gives the same figures.",
                        .horizontal = 0, .max = 100};
    P("<figure class=\"cc-figure\">");
    cc_chart_bars(out, &chart, bars, n);
    P("</figure><table class=\"govuk-table\"><caption class=\"govuk-table__caption govuk-table__caption--s\">");
    T(title);
    P(": the figures</caption><thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">"
      "<th scope=\"col\" class=\"govuk-table__header\">Period</th>");
    counts_heads(out);
    P("</tr></thead><tbody class=\"govuk-table__body\">");
    for (size_t i = 0; i < n; i++) {
        P("<tr class=\"govuk-table__row\"><th scope=\"row\" class=\"govuk-table__header\">");
        T(sums[i].label);
        P("</th>");
        counts_cells(out, &sums[i].c);
        P("</tr>");
    }
    P("</tbody></table>");
}

void cc__page_team(cc_buf_t *out, const cc__page_t *p, const cc__team_page_t *t)
{
    cc__page_begin(out, p);
    P("<span class=\"govuk-caption-l\">Team</span><h1 class=\"govuk-heading-l\">");
    T(t->team_name && t->team_name[0] ? t->team_name : t->team_id);
    P("</h1>");
    if (t->manager_name != NULL) {
        P("<p class=\"govuk-body\">Team manager: ");
        T(t->manager_name);
        P("</p>");
    }
    figures_note(out, &t->figures);
    P("<h2 class=\"govuk-heading-m\">Clocks now, by status</h2>");
    cc__page_count_table(out, &t->by_clock);
    P("<h2 class=\"govuk-heading-m\">Workers' loads</h2>");
    cc__page_count_table(out, &t->by_worker);
    P("<h2 class=\"govuk-heading-m\">The last 12 months</h2>");
    if (t->trend != NULL)
        trend(out, "team-trend", "Clocks met on time, by month", t->trend);
    if (t->timeliness_href != NULL) {
        P("<p class=\"govuk-body\"><a class=\"govuk-link\" href=\"");
        T(t->timeliness_href);
        P("\">Timeliness of this team by clock, month and worker</a></p>");
    }
    cc__page_end(out, p);
}

void cc__page_service(cc_buf_t *out, const cc__page_t *p, const cc__service_page_t *s)
{
    cc__page_begin(out, p);
    P("<h1 class=\"govuk-heading-l\">");
    T(s->heading);
    P("</h1>");
    figures_note(out, &s->figures);
    P("<h2 class=\"govuk-heading-m\">Teams now</h2>");
    cc__page_count_table(out, &s->by_team);
    P("<h2 class=\"govuk-heading-m\">The last 12 months</h2>");
    if (s->trend != NULL)
        trend(out, "service-trend", "Clocks met on time, by month, all these teams", s->trend);
    if (s->by_team_year != NULL && s->by_team_year->nclocks > 0) {
        /* Every clock together, per team: sum the report's groups. */
        P("<table class=\"govuk-table\"><caption class=\"govuk-table__caption govuk-table__caption--s\">Clocks that "
          "fell due in the last 12 months, by team</caption><thead class=\"govuk-table__head\">"
          "<tr class=\"govuk-table__row\"><th scope=\"col\" class=\"govuk-table__header\">Team</th>");
        counts_heads(out);
        P("</tr></thead><tbody class=\"govuk-table__body\">");
        const cc_report_t *r = s->by_team_year;
        /* Teams in id order across clocks: gather the distinct ids. */
        const char *ids[512];
        const char *names[512];
        size_t nids = 0;
        for (size_t i = 0; i < r->nclocks; i++)
            for (size_t j = 0; j < r->clocks[i].nperiods; j++)
                for (size_t k = 0; k < r->clocks[i].periods[j].ngroups; k++) {
                    const cc_report_group_t *g = &r->clocks[i].periods[j].groups[k];
                    size_t m = 0;
                    while (m < nids && strcmp(ids[m], g->team) != 0)
                        m++;
                    if (m == nids && nids < 512) {
                        ids[nids] = g->team;
                        names[nids++] = g->team_name;
                    }
                }
        for (size_t m = 0; m < nids; m++) {
            cc_report_counts_t sum = {.late_extended = 0};
            for (size_t i = 0; i < r->nclocks; i++)
                for (size_t j = 0; j < r->clocks[i].nperiods; j++)
                    for (size_t k = 0; k < r->clocks[i].periods[j].ngroups; k++) {
                        const cc_report_group_t *g = &r->clocks[i].periods[j].groups[k];
                        if (strcmp(g->team, ids[m]) == 0)
                            for (int b = 0; b < CC_REPORT_NBUCKETS; b++)
                                sum.n[b] += g->counts.n[b];
                    }
            P("<tr class=\"govuk-table__row\"><th scope=\"row\" class=\"govuk-table__header\">");
            T(names[m][0] ? names[m] : ids[m][0] ? ids[m] : "(no team)");
            P("</th>");
            counts_cells(out, &sum);
            P("</tr>");
        }
        P("</tbody></table>");
    }
    P("<p class=\"govuk-body\"><a class=\"govuk-link\" href=\"/timeliness\">Timeliness by clock, period, team and "
      "worker</a></p>");
    cc__page_end(out, p);
}

/* ---- timeliness --------------------------------------------------------- */

static void select_field(cc_buf_t *out, const char *id, const char *label, const cc__option_t *opts, size_t n,
                         const char *chosen)
{
    P("<div class=\"govuk-form-group cc-inline\"><label class=\"govuk-label\" for=\"");
    T(id);
    P("\">");
    T(label);
    P("</label><select class=\"govuk-select\" id=\"");
    T(id);
    P("\" name=\"");
    T(id);
    P("\">");
    for (size_t i = 0; i < n; i++) {
        P("<option value=\"");
        T(opts[i].value);
        P("\"");
        if (chosen != NULL && strcmp(chosen, opts[i].value) == 0)
            P(" selected");
        P(">");
        T(opts[i].label);
        P("</option>");
    }
    P("</select></div>");
}

static void date_field(cc_buf_t *out, const char *id, const char *label, const char *value, const char *error_field,
                       const char *error)
{
    int bad = error_field != NULL && strcmp(error_field, id) == 0;
    P("<div class=\"govuk-form-group cc-inline");
    if (bad)
        P(" govuk-form-group--error");
    P("\"><label class=\"govuk-label\" for=\"");
    T(id);
    P("\">");
    T(label);
    P("</label><div id=\"");
    T(id);
    P("-hint\" class=\"govuk-hint\">For example, 2026-04-01</div>");
    if (bad) {
        P("<p id=\"");
        T(id);
        P("-error\" class=\"govuk-error-message\"><span class=\"govuk-visually-hidden\">Error:</span> ");
        T(error);
        P("</p>");
    }
    P("<input class=\"govuk-input govuk-input--width-10");
    if (bad)
        P(" govuk-input--error");
    P("\" id=\"");
    T(id);
    P("\" name=\"");
    T(id);
    P("\" type=\"text\" inputmode=\"numeric\" spellcheck=\"false\" aria-describedby=\"");
    T(id);
    P("-hint");
    if (bad) {
        P(" ");
        T(id);
        P("-error");
    }
    P("\" value=\"");
    T(cc__page_or_empty(value));
    P("\"></div>");
}

#define MAX_ROWS 5000

static void report_tables(cc_buf_t *out, const cc_report_t *r)
{
    /* More rows than a page can usefully hold (every worker of a whole
     * council): the CSV has them all. */
    size_t rows = 0;
    for (size_t i = 0; i < r->nclocks; i++)
        for (size_t j = 0; j < r->clocks[i].nperiods; j++)
            rows += r->clocks[i].periods[j].ngroups + 1;
    if (rows > MAX_ROWS) {
        cc_buf_printf(out,
                      "<div class=\"govuk-inset-text\">These figures have %zu rows: too many to show here. Choose one "
                      "team, or fewer periods, to see them on this page; the CSV download above has every one.</div>",
                      rows);
        return;
    }
    for (size_t i = 0; i < r->nclocks; i++) {
        const cc_report_clock_t *c = &r->clocks[i];
        P("<table class=\"govuk-table cc-figures\"><caption class=\"govuk-table__caption govuk-table__caption--s\">");
        T(c->title);
        P(" (");
        T(c->clock);
        P(")</caption><thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">");
        if (r->by != CC_REPORT_BY_NONE)
            P("<th scope=\"col\" class=\"govuk-table__header\">Period</th>");
        P("<th scope=\"col\" class=\"govuk-table__header\">Team</th>");
        if (r->by_worker)
            P("<th scope=\"col\" class=\"govuk-table__header\">Worker</th>");
        counts_heads(out);
        P("</tr></thead><tbody class=\"govuk-table__body\">");
        for (size_t j = 0; j < c->nperiods; j++) {
            const cc_report_period_t *p = &c->periods[j];
            for (size_t k = 0; k <= p->ngroups; k++) {
                const cc_report_group_t *g = k < p->ngroups ? &p->groups[k] : NULL;
                /* One group needs no total after it (the CSV keeps it). */
                if (g == NULL && p->ngroups == 1)
                    continue;
                P(g == NULL ? "<tr class=\"govuk-table__row cc-total\">" : "<tr class=\"govuk-table__row\">");
                if (r->by != CC_REPORT_BY_NONE) {
                    P("<td class=\"govuk-table__cell\">");
                    T(p->period);
                    P("</td>");
                }
                P("<th scope=\"row\" class=\"govuk-table__header\">");
                if (g == NULL)
                    P("All teams");
                else if (g->team[0] == '\0')
                    P(p->ngroups == 1 ? "All teams" : "(no team)");
                else
                    T(g->team_name[0] ? g->team_name : g->team);
                P("</th>");
                if (r->by_worker) {
                    P("<td class=\"govuk-table__cell\">");
                    if (g != NULL)
                        T(g->worker[0] ? (g->worker_name[0] ? g->worker_name : g->worker) : "(no worker)");
                    P("</td>");
                }
                clock_cells(out, g ? &g->counts : &p->total, c->no_data);
                P("</tr>");
            }
        }
        P("</tbody></table>");
    }
}

void cc__page_timeliness(cc_buf_t *out, const cc__page_t *p, const cc__timeliness_page_t *t)
{
    static const cc__option_t BY[] = {{"none", "Whole period"}, {"month", "Month"}, {"quarter", "Quarter"},
                                      {"year", "Year (April to March)"}};
    cc__page_begin(out, p);
    if (t->error != NULL) {
        P("<div class=\"govuk-error-summary\" data-module=\"govuk-error-summary\"><div role=\"alert\">"
          "<h2 class=\"govuk-error-summary__title\">There is a problem</h2><div class=\"govuk-error-summary__body\">"
          "<ul class=\"govuk-list govuk-error-summary__list\"><li><a href=\"#");
        T(t->error_field);
        P("\">");
        T(t->error);
        P("</a></li></ul></div></div></div>");
    }
    P("<h1 class=\"govuk-heading-l\">Timeliness</h1><p class=\"govuk-body\">Clocks that fell due in the period: "
      "how many were met on time, met late, are overdue or not yet due, and the percentage met on time (met on "
      "time divided by met on time, met late and overdue, to one decimal place). Cancelled clocks are counted "
      "apart. The same figures as <code>careclock report timeliness</code>.</p>");
    P("<form method=\"get\" action=\"/timeliness\" class=\"cc-filters\" novalidate>");
    date_field(out, "from", "From", t->from, t->error_field, t->error);
    date_field(out, "to", "To", t->to, t->error_field, t->error);
    select_field(out, "by", "Figures for each", BY, sizeof(BY) / sizeof(BY[0]), t->by);
    select_field(out, "team", "Teams", t->teams, t->nteams, t->team);
    select_field(out, "clock", "Clock", t->clocks, t->nclocks, t->clock);
    P("<div class=\"govuk-form-group cc-inline\"><div class=\"govuk-checkboxes govuk-checkboxes--small\">"
      "<div class=\"govuk-checkboxes__item\"><input class=\"govuk-checkboxes__input\" id=\"worker\" name=\"worker\" "
      "type=\"checkbox\" value=\"1\"");
    if (t->by_worker)
        P(" checked");
    P("><label class=\"govuk-label govuk-checkboxes__label\" for=\"worker\">By worker</label></div></div></div>"
      "<div class=\"cc-actions\"><button type=\"submit\" class=\"govuk-button\" data-module=\"govuk-button\">Show"
      "</button></div></form>");
    if (t->report == NULL) {
        cc__page_end(out, p);
        return;
    }
    figures_note(out, &t->figures);
    P("<p class=\"govuk-body\"><a class=\"govuk-link\" href=\"/timeliness.csv?");
    T(t->query);
    P("\" download>Download these figures as CSV (opens in Excel)</a></p>");
    const cc_report_t *r = t->report;
    if (r->nclocks == 0) {
        P("<p class=\"govuk-body\">No clock fell due in the period.</p>");
        cc__page_end(out, p);
        return;
    }
    /* Every clock over the whole period: a chart and its table. */
    cc_chart_bar_t bars[128];
    char texts[128][32];
    size_t n = r->nclocks < 128 ? r->nclocks : 128;
    for (size_t i = 0; i < n; i++) {
        percent_text(&r->clocks[i].total, texts[i], sizeof(texts[i]));
        if (r->clocks[i].no_data)
            snprintf(texts[i], sizeof(texts[i]), "no data recorded");
        bars[i] = (cc_chart_bar_t){r->clocks[i].title,
                                   r->clocks[i].no_data ? -1 : percent_value(&r->clocks[i].total), texts[i]};
    }
    P("<h2 class=\"govuk-heading-m\">By clock</h2><figure class=\"cc-figure\">");
    cc_chart_t chart = {.id = "by-clock", .title = "Clocks met on time, by clock",
                        .desc = "Bars: the percentage of each clock's instances met on time over the whole period. "
                                "The table after the chart gives the same figures.",
                        .horizontal = 1, .max = 100};
    cc_chart_bars(out, &chart, bars, n);
    P("</figure><table class=\"govuk-table\"><caption class=\"govuk-table__caption govuk-table__caption--s\">Clocks "
      "met on time, by clock: the figures</caption><thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">"
      "<th scope=\"col\" class=\"govuk-table__header\">Clock</th>");
    counts_heads(out);
    P("</tr></thead><tbody class=\"govuk-table__body\">");
    for (size_t i = 0; i < r->nclocks; i++) {
        P("<tr class=\"govuk-table__row\"><th scope=\"row\" class=\"govuk-table__header\">");
        T(r->clocks[i].title);
        P("</th>");
        clock_cells(out, &r->clocks[i].total, r->clocks[i].no_data);
        P("</tr>");
    }
    P("</tbody></table>");
    if (r->by != CC_REPORT_BY_NONE) {
        P("<h2 class=\"govuk-heading-m\">By period</h2>");
        trend(out, "by-period", "Clocks met on time, by period", r);
    }
    P("<h2 class=\"govuk-heading-m\">Every figure</h2>");
    if (t->too_many > 0) {
        cc_buf_printf(out,
                      "<div class=\"govuk-inset-text\">These figures have %zu groups of teams and workers: too many to "
                      "show here, so the charts and the tables below are every team together. Choose one team to see "
                      "its teams and workers on this page; the CSV download above has every group.</div>",
                      t->too_many);
    }
    report_tables(out, r);
    cc__page_end(out, p);
}
