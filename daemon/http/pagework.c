/* The dashboard's My work page: pure HTML from values. See
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

static void work_when(cc_buf_t *out, const cc__work_item_t *it)
{
    if (it->working_days < 0)
        return;
    if (strcmp(cc__page_or_empty(it->status), "overdue") == 0)
        cc_buf_printf(out, "<br><span class=\"govuk-body-s cc-muted\">%ld working day%s late</span>",
                      it->working_days, it->working_days == 1 ? "" : "s");
    else if (strcmp(cc__page_or_empty(it->status), "due_soon") == 0)
        cc_buf_printf(out, "<br><span class=\"govuk-body-s cc-muted\">%ld working day%s left</span>",
                      it->working_days, it->working_days == 1 ? "" : "s");
}

static void work_table(cc_buf_t *out, const char *caption, const cc__work_item_t *items, size_t n, size_t limit,
                       int escalations)
{
    P("<table class=\"govuk-table\"><caption class=\"govuk-table__caption govuk-table__caption--s\">");
    T(caption);
    P("</caption><thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">"
      "<th scope=\"col\" class=\"govuk-table__header\">Child</th>"
      "<th scope=\"col\" class=\"govuk-table__header\">Clock</th>"
      "<th scope=\"col\" class=\"govuk-table__header\">Due</th>"
      "<th scope=\"col\" class=\"govuk-table__header\">Status</th>");
    if (escalations)
        P("<th scope=\"col\" class=\"govuk-table__header\">Escalated to you</th>");
    P("</tr></thead><tbody class=\"govuk-table__body\">");
    for (size_t i = 0; i < n && (limit == 0 || i < limit); i++) {
        const cc__work_item_t *it = &items[i];
        P("<tr class=\"govuk-table__row\"><th scope=\"row\" class=\"govuk-table__header\"><a class=\"govuk-link\" "
          "href=\"");
        cc__page_child_href(out, it->child_id);
        P("\">");
        cc__page_child_name(out, it->child_id, it->child_label);
        P("</a></th><td class=\"govuk-table__cell\">");
        if (strcmp(cc__page_or_empty(it->status), "data_error") == 0) {
            P("Cannot be computed: ");
            T(it->reason);
        } else {
            P("<a class=\"govuk-link\" href=\"");
            cc__page_child_href(out, it->child_id);
            P("#");
            cc__page_clock_anchor(out, it->rule_id, it->seq);
            P("\">");
            T(it->title);
            if (it->seq > 1)
                cc_buf_printf(out, " (%d)", it->seq);
            P("<span class=\"govuk-visually-hidden\">: how the due date was worked out</span></a>");
        }
        P("</td><td class=\"govuk-table__cell\">");
        cc__page_date(out, it->due_date);
        if (it->agreed != NULL) { /* the statutory date above, the agreed one here (issue 17) */
            P("<br><span class=\"govuk-body-s\">extended to ");
            cc__page_date(out, it->agreed);
            P("</span>");
        }
        work_when(out, it);
        P("</td><td class=\"govuk-table__cell\">");
        cc__page_tag(out, it->status);
        P("</td>");
        if (escalations) {
            P("<td class=\"govuk-table__cell\">");
            T(it->note);
            P("</td>");
        }
        P("</tr>");
    }
    P("</tbody></table>");
    if (limit != 0 && n > limit)
        cc_buf_printf(out, "<p class=\"govuk-body\">And %zu more. <a class=\"govuk-link\" href=\"/timeliness\">"
                           "See the figures</a>, or open each child from the team's page.</p>",
                      n - limit);
}

static void count_line(cc_buf_t *out, size_t overdue, size_t due_soon, size_t errors, size_t children)
{
    cc_buf_printf(out, "<p class=\"govuk-body\">%zu overdue, %zu due soon", overdue, due_soon);
    if (errors > 0)
        cc_buf_printf(out, ", %zu child%s whose data cannot be computed", errors, errors == 1 ? "" : "ren");
    if (children != (size_t)-1)
        cc_buf_printf(out, " (%zu child%s)", children, children == 1 ? "" : "ren");
    P(".</p>");
}

void cc__page_work(cc_buf_t *out, const cc__page_t *p, const cc__work_t *w)
{
    cc__page_begin(out, p);
    P("<h1 class=\"govuk-heading-l\">My work</h1>");
    if (w->intro != NULL) {
        P("<p class=\"govuk-body\">");
        T(w->intro);
        P("</p>");
    }
    if (w->ngroups > 0 || w->nteams == 0)
        count_line(out, w->overdue, w->due_soon, w->data_errors, (size_t)-1);
    for (size_t g = 0; g < w->ngroups; g++) {
        const cc__work_group_t *grp = &w->groups[g];
        if (grp->heading != NULL) {
            P("<h2 class=\"govuk-heading-m\">");
            T(grp->heading);
            P("</h2>");
            count_line(out, grp->overdue, grp->due_soon, grp->data_errors, grp->children);
        }
        if (grp->nitems == 0) {
            P("<p class=\"govuk-body\">Nothing needs action.</p>");
            continue;
        }
        work_table(out, grp->heading ? "Clocks that need action" : "Your clocks that need action, most urgent first",
                   grp->items, grp->nitems, w->limit, 0);
    }
    if (w->nescalations > 0) {
        P("<h2 class=\"govuk-heading-m\">Escalated to you</h2><p class=\"govuk-body\">Clocks careclock escalated "
          "to you that are still not met.</p>");
        work_table(out, "Escalations you hold", w->escalations, w->nescalations, w->limit, 1);
    }
    if (w->nteams > 0) {
        P("<h2 class=\"govuk-heading-m\">Your teams</h2><table class=\"govuk-table\">"
          "<caption class=\"govuk-table__caption govuk-table__caption--s\">Clocks by team now</caption>"
          "<thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">"
          "<th scope=\"col\" class=\"govuk-table__header\">Team</th>"
          "<th scope=\"col\" class=\"govuk-table__header govuk-table__header--numeric\">Children</th>"
          "<th scope=\"col\" class=\"govuk-table__header govuk-table__header--numeric\">Overdue</th>"
          "<th scope=\"col\" class=\"govuk-table__header govuk-table__header--numeric\">Due soon</th>"
          "<th scope=\"col\" class=\"govuk-table__header govuk-table__header--numeric\">Data errors</th>"
          "</tr></thead><tbody class=\"govuk-table__body\">");
        for (size_t i = 0; i < w->nteams; i++) {
            const cc__work_team_t *t = &w->teams[i];
            P("<tr class=\"govuk-table__row\"><th scope=\"row\" class=\"govuk-table__header\">"
              "<a class=\"govuk-link\" href=\"/teams/");
            cc_html_path_segment(out, t->id);
            P("\">");
            T(t->name[0] ? t->name : t->id);
            cc_buf_printf(out,
                          "</a></th><td class=\"govuk-table__cell govuk-table__cell--numeric\">%zu</td>"
                          "<td class=\"govuk-table__cell govuk-table__cell--numeric\">%zu</td>"
                          "<td class=\"govuk-table__cell govuk-table__cell--numeric\">%zu</td>"
                          "<td class=\"govuk-table__cell govuk-table__cell--numeric\">%zu</td></tr>",
                          t->children, t->overdue, t->due_soon, t->data_errors);
        }
        P("</tbody></table>");
    }
    cc__page_end(out, p);
}
