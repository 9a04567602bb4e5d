/* The dashboard's pages. See daemon/http/pages.h.
 *
 * Design notes:
 *  - Markup follows the GOV.UK Design System's components as its
 *    documentation writes them (govuk-table, govuk-summary-list,
 *    govuk-tag, govuk-error-summary, govuk-details, the service
 *    navigation), so its stylesheet and its accessibility work apply:
 *    a skip link, one <main>, one h1, tables with captions and scoped
 *    headers, labels for every field, the error summary first with links
 *    to the fields, aria-current on the current navigation item.
 *  - Figures a chart draws are always in a table right after it.
 *  - Nothing here reads anything: values in, HTML out.
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

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static void human_date(cc_buf_t *out, const char *iso)
{
    cc_date_t d;
    char buf[40];
    if (iso == NULL || iso[0] == '\0') {
        P("-");
        return;
    }
    if (cc_date_parse(iso, &d) != 0) {
        T(iso);
        return;
    }
    P("<time datetime=\"");
    T(iso);
    P("\">");
    T(cc_date_format_human(d, buf, sizeof(buf)));
    P("</time>");
}

static void child_href(cc_buf_t *out, const char *child_id)
{
    P("/children/");
    cc_html_path_segment(out, child_id);
}

static void clock_anchor(cc_buf_t *out, const char *rule_id, int seq)
{
    P("clock-");
    cc_html_id(out, rule_id);
    cc_buf_printf(out, "-%d", seq);
}

static void child_name(cc_buf_t *out, const char *id, const char *label)
{
    T(id);
    if (label != NULL && label[0] != '\0') {
        P(" (");
        T(label);
        P(")");
    }
}

/* ---- the frame --------------------------------------------------------- */

static void nav_item(cc_buf_t *out, const cc__page_t *p, const char *key, const char *href, const char *label)
{
    int current = p->nav != NULL && strcmp(p->nav, key) == 0;
    P("<li class=\"govuk-service-navigation__item");
    if (current)
        P(" govuk-service-navigation__item--active");
    P("\"><a class=\"govuk-service-navigation__link\" href=\"");
    P(href);
    P("\"");
    if (current)
        P(" aria-current=\"page\"");
    P(">");
    if (current)
        P("<strong class=\"govuk-service-navigation__active-fallback\">");
    T(label);
    if (current)
        P("</strong>");
    P("</a></li>");
}

void cc__page_begin(cc_buf_t *out, const cc__page_t *p)
{
    assert(out != NULL && p != NULL && p->title != NULL);
    P("<!DOCTYPE html>\n<html lang=\"en-GB\" class=\"govuk-template\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    T(p->title);
    P(" - careclock</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
      "<link rel=\"icon\" href=\"/assets/images/favicon.svg\" type=\"image/svg+xml\">\n"
      "<link rel=\"stylesheet\" href=\"/assets/govuk-frontend.min.css\">\n"
      "<link rel=\"stylesheet\" href=\"/assets/careclock.css\">\n</head>\n"
      "<body class=\"govuk-template__body\">\n"
      "<a href=\"#main-content\" class=\"govuk-skip-link\">Skip to main content</a>\n"
      "<section class=\"govuk-service-navigation cc-header\" aria-label=\"Service information\">\n"
      "<div class=\"govuk-width-container\"><div class=\"govuk-service-navigation__container\">"
      "<span class=\"govuk-service-navigation__service-name\">"
      "<a href=\"/\" class=\"govuk-service-navigation__link\">careclock</a></span>");
    if (p->user != NULL) {
        P("<nav aria-label=\"Menu\" class=\"govuk-service-navigation__wrapper\">"
          "<ul class=\"govuk-service-navigation__list\" id=\"navigation\">");
        nav_item(out, p, "work", "/my-work", "My work");
        if (p->team_id != NULL) {
            cc_buf_t href;
            cc_buf_init(&href);
            cc_buf_puts(&href, "/teams/");
            cc_html_path_segment(&href, p->team_id);
            nav_item(out, p, "team", cc_buf_str(&href), "Team");
            cc_buf_free(&href);
        }
        if (p->nav_service)
            nav_item(out, p, "service", "/service", "Service");
        if (p->nav_timeliness)
            nav_item(out, p, "timeliness", "/timeliness", "Timeliness");
        P("</ul></nav>");
    }
    P("</div></div></section>\n<div class=\"govuk-width-container\">\n");
    if (p->user != NULL) {
        P("<div class=\"cc-account\"><p class=\"govuk-body-s\">Signed in as <strong>");
        T(p->user);
        P("</strong>");
        if (p->user_role != NULL) {
            P(", ");
            T(p->user_role);
        }
        P("</p>");
        if (p->email_signout && p->csrf != NULL) {
            P("<form method=\"post\" action=\"/sign-out\" novalidate>"
              "<input type=\"hidden\" name=\"csrf\" value=\"");
            T(p->csrf);
            P("\"><button type=\"submit\" class=\"govuk-button govuk-button--secondary cc-signout\" "
              "data-module=\"govuk-button\">Sign out</button></form>");
        } else if (p->proxy_signout != NULL) {
            P("<p class=\"govuk-body-s\"><a class=\"govuk-link\" href=\"");
            T(p->proxy_signout);
            P("\">Sign out</a></p>");
        }
        P("</div>\n");
    }
    P("<main class=\"govuk-main-wrapper\" id=\"main-content\">\n");
    if (p->notice != NULL) {
        P("<div class=\"govuk-notification-banner\" role=\"region\" aria-labelledby=\"notice-title\">"
          "<div class=\"govuk-notification-banner__header\"><h2 class=\"govuk-notification-banner__title\" "
          "id=\"notice-title\">Important</h2></div><div class=\"govuk-notification-banner__content\">"
          "<p class=\"govuk-notification-banner__heading\">");
        T(p->notice);
        P("</p></div></div>\n");
    }
}

void cc__page_end(cc_buf_t *out, const cc__page_t *p)
{
    (void)p;
    P("</main>\n</div>\n<footer class=\"govuk-footer\"><div class=\"govuk-width-container\">"
      "<div class=\"govuk-footer__meta\"><div class=\"govuk-footer__meta-item govuk-footer__meta-item--grow\">"
      "<p class=\"govuk-body-s\">careclock keeps the statutory timescales of children's services. Children are "
      "shown by reference and initials. Styles from the GOV.UK Design System "
      "(<a class=\"govuk-footer__link\" href=\"/assets/LICENSE-govuk-frontend.txt\">MIT licence</a>).</p>"
      "</div></div></div></footer>\n</body>\n</html>\n");
}

static const struct {
    const char *status, *label, *modifier;
} TAGS[] = {
    {"overdue", "Overdue", "govuk-tag--red"},       {"due_soon", "Due soon", "govuk-tag--yellow"},
    {"open", "Open", ""},                           {"met", "Met", "govuk-tag--green"},
    {"met_late", "Met late", "govuk-tag--orange"},  {"cancelled", "Cancelled", "govuk-tag--grey"},
    {"data_error", "Data error", "govuk-tag--purple"},
};

static const char *status_label(const char *status)
{
    for (size_t i = 0; i < sizeof(TAGS) / sizeof(TAGS[0]); i++)
        if (status != NULL && strcmp(TAGS[i].status, status) == 0)
            return TAGS[i].label;
    return status ? status : "";
}

void cc__page_tag(cc_buf_t *out, const char *status)
{
    const char *modifier = "govuk-tag--grey";
    for (size_t i = 0; i < sizeof(TAGS) / sizeof(TAGS[0]); i++)
        if (status != NULL && strcmp(TAGS[i].status, status) == 0)
            modifier = TAGS[i].modifier;
    P("<strong class=\"govuk-tag ");
    P(modifier);
    P("\">");
    T(status_label(status));
    P("</strong>");
}

void cc__page_message(cc_buf_t *out, const cc__page_t *p, const char *heading, const char *text,
                      const char *link_href, const char *link_text)
{
    cc__page_begin(out, p);
    P("<div class=\"govuk-grid-row\"><div class=\"govuk-grid-column-two-thirds\"><h1 class=\"govuk-heading-l\">");
    T(heading);
    P("</h1><p class=\"govuk-body\">");
    T(text);
    P("</p>");
    if (link_href != NULL) {
        P("<p class=\"govuk-body\"><a class=\"govuk-link\" href=\"");
        T(link_href);
        P("\">");
        T(link_text);
        P("</a></p>");
    }
    P("</div></div>\n");
    cc__page_end(out, p);
}

/* ---- signing in -------------------------------------------------------- */

void cc__page_signin(cc_buf_t *out, const cc__page_t *p, const cc__signin_t *s)
{
    cc__page_begin(out, p);
    P("<div class=\"govuk-grid-row\"><div class=\"govuk-grid-column-two-thirds\">");
    if (s->error != NULL) {
        P("<div class=\"govuk-error-summary\" data-module=\"govuk-error-summary\"><div role=\"alert\">"
          "<h2 class=\"govuk-error-summary__title\">There is a problem</h2><div class=\"govuk-error-summary__body\">"
          "<ul class=\"govuk-list govuk-error-summary__list\"><li><a href=\"#email\">");
        T(s->error);
        P("</a></li></ul></div></div></div>");
    }
    if (s->signed_out)
        P("<div class=\"govuk-notification-banner govuk-notification-banner--success\" role=\"alert\" "
          "aria-labelledby=\"signed-out-title\"><div class=\"govuk-notification-banner__header\">"
          "<h2 class=\"govuk-notification-banner__title\" id=\"signed-out-title\">Success</h2></div>"
          "<div class=\"govuk-notification-banner__content\"><p class=\"govuk-notification-banner__heading\">"
          "You have signed out.</p></div></div>");
    P("<h1 class=\"govuk-heading-l\">Sign in to careclock</h1>");
    if (s->unavailable != NULL) {
        P("<p class=\"govuk-body\">careclock cannot send sign-in links at the moment: ");
        T(s->unavailable);
        P(". Ask whoever looks after careclock at your council.</p></div></div>\n");
        cc__page_end(out, p);
        return;
    }
    cc_buf_printf(out,
                  "<p class=\"govuk-body\">Enter your work e-mail address. careclock will send you a link that "
                  "signs you in. The link works once, for %d minutes.</p>",
                  s->minutes);
    P("<form method=\"post\" action=\"/sign-in\" novalidate><input type=\"hidden\" name=\"csrf\" value=\"");
    T(s->csrf);
    P("\"><input type=\"hidden\" name=\"next\" value=\"");
    T(or_empty(s->next));
    P("\"><div class=\"govuk-form-group");
    if (s->error != NULL)
        P(" govuk-form-group--error");
    P("\"><label class=\"govuk-label govuk-label--s\" for=\"email\">Work e-mail address</label>");
    if (s->error != NULL) {
        P("<p id=\"email-error\" class=\"govuk-error-message\"><span class=\"govuk-visually-hidden\">Error:</span> ");
        T(s->error);
        P("</p>");
    }
    P("<input class=\"govuk-input");
    if (s->error != NULL)
        P(" govuk-input--error");
    P("\" id=\"email\" name=\"email\" type=\"email\" spellcheck=\"false\" autocomplete=\"email\"");
    if (s->error != NULL)
        P(" aria-describedby=\"email-error\"");
    P(" value=\"");
    T(or_empty(s->email));
    P("\"></div><button type=\"submit\" class=\"govuk-button\" data-module=\"govuk-button\">Send me a sign-in link"
      "</button></form></div></div>\n");
    cc__page_end(out, p);
}

void cc__page_signin_sent(cc_buf_t *out, const cc__page_t *p, const char *email, int minutes)
{
    cc__page_begin(out, p);
    P("<div class=\"govuk-grid-row\"><div class=\"govuk-grid-column-two-thirds\">"
      "<h1 class=\"govuk-heading-l\">Check your e-mail</h1><p class=\"govuk-body\">If <strong>");
    T(email);
    cc_buf_printf(out,
                  "</strong> is the address careclock has for you, we have sent it a link that signs you in. "
                  "The link works once, for %d minutes.</p><p class=\"govuk-body\">Nothing arrived? Check the "
                  "address with your manager, or <a class=\"govuk-link\" href=\"/sign-in\">ask for another "
                  "link</a>.</p></div></div>\n",
                  minutes);
    cc__page_end(out, p);
}

void cc__page_signin_confirm(cc_buf_t *out, const cc__page_t *p, const char *token, const char *csrf)
{
    cc__page_begin(out, p);
    P("<div class=\"govuk-grid-row\"><div class=\"govuk-grid-column-two-thirds\">"
      "<h1 class=\"govuk-heading-l\">Sign in to careclock</h1><p class=\"govuk-body\">Select the button to sign "
      "in. The link works once: it cannot be used again after this.</p>"
      "<form method=\"post\" action=\"/sign-in/");
    cc_html_path_segment(out, token);
    P("\" novalidate><input type=\"hidden\" name=\"csrf\" value=\"");
    T(csrf);
    P("\"><button type=\"submit\" class=\"govuk-button\" data-module=\"govuk-button\">Sign in</button></form>"
      "</div></div>\n");
    cc__page_end(out, p);
}

void cc__page_proxy_signin(cc_buf_t *out, const cc__page_t *p, const char *why)
{
    cc__page_message(out, p, "You are not signed in to careclock", why, NULL, NULL);
}

/* ---- my work ------------------------------------------------------------ */

static void work_when(cc_buf_t *out, const cc__work_item_t *it)
{
    if (it->working_days < 0)
        return;
    if (strcmp(or_empty(it->status), "overdue") == 0)
        cc_buf_printf(out, "<br><span class=\"govuk-body-s cc-muted\">%ld working day%s late</span>",
                      it->working_days, it->working_days == 1 ? "" : "s");
    else if (strcmp(or_empty(it->status), "due_soon") == 0)
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
        child_href(out, it->child_id);
        P("\">");
        child_name(out, it->child_id, it->child_label);
        P("</a></th><td class=\"govuk-table__cell\">");
        if (strcmp(or_empty(it->status), "data_error") == 0) {
            P("Cannot be computed: ");
            T(it->reason);
        } else {
            P("<a class=\"govuk-link\" href=\"");
            child_href(out, it->child_id);
            P("#");
            clock_anchor(out, it->rule_id, it->seq);
            P("\">");
            T(it->title);
            if (it->seq > 1)
                cc_buf_printf(out, " (%d)", it->seq);
            P("<span class=\"govuk-visually-hidden\">: how the due date was worked out</span></a>");
        }
        P("</td><td class=\"govuk-table__cell\">");
        human_date(out, it->due_date);
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

/* ---- a child ------------------------------------------------------------ */

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

static void child_clock(cc_buf_t *out, const cc__child_clock_t *c)
{
    P("<div class=\"govuk-summary-card\" id=\"");
    clock_anchor(out, c->rule_id, c->seq);
    P("\"><div class=\"govuk-summary-card__title-wrapper\"><h3 class=\"govuk-summary-card__title\">");
    T(c->title);
    if (c->seq > 1)
        cc_buf_printf(out, " (%d)", c->seq);
    P(" ");
    cc__page_tag(out, c->status);
    P("</h3></div><div class=\"govuk-summary-card__content\"><dl class=\"govuk-summary-list\">");
    if (strcmp(or_empty(c->status), "data_error") != 0) {
        cc_buf_t v;
        cc_buf_init(&v);
        summary_row(out, "Clock", c->rule_id, NULL);
        P("<div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">Started</dt>"
          "<dd class=\"govuk-summary-list__value\">");
        human_date(out, c->start);
        P("</dd></div><div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">Due</dt>"
          "<dd class=\"govuk-summary-list__value\">");
        human_date(out, c->due);
        P("</dd></div>");
        if (c->met_on != NULL && c->met_on[0]) {
            P("<div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">Met</dt>"
              "<dd class=\"govuk-summary-list__value\">");
            human_date(out, c->met_on);
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
        if (needs_action(or_empty(c->status)))
            P(" open");
        P("><summary class=\"govuk-details__summary\"><span class=\"govuk-details__summary-text\">"
          "How the due date was worked out</span></summary><div class=\"govuk-details__text cc-explain\">");
        T(c->explanation);
        P("</div></details>");
    }
    P("</div></div>");
}

void cc__page_child(cc_buf_t *out, const cc__page_t *p, const cc__child_page_t *c)
{
    cc_buf_t v, href;
    cc_buf_init(&v);
    cc_buf_init(&href);
    cc__page_begin(out, p);
    P("<span class=\"govuk-caption-l\">Child</span><h1 class=\"govuk-heading-l\">");
    child_name(out, c->id, c->label);
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
    human_date(out, c->dob);
    P("</dd></div></dl>");

    size_t act = 0, rest = 0;
    for (size_t i = 0; i < c->nclocks; i++)
        needs_action(or_empty(c->clocks[i].status)) ? act++ : rest++;
    P("<h2 class=\"govuk-heading-m\">Clocks that need action</h2>");
    if (act == 0)
        P("<p class=\"govuk-body\">None: nothing is overdue or due soon.</p>");
    for (size_t i = 0; i < c->nclocks; i++)
        if (needs_action(or_empty(c->clocks[i].status)))
            child_clock(out, &c->clocks[i]);
    P("<h2 class=\"govuk-heading-m\">Other clocks</h2>");
    if (rest == 0)
        P("<p class=\"govuk-body\">None.</p>");
    for (size_t i = 0; i < c->nclocks; i++)
        if (!needs_action(or_empty(c->clocks[i].status)))
            child_clock(out, &c->clocks[i]);

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
            human_date(out, e->date);
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

/* ---- figures ------------------------------------------------------------ */

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
    T(or_empty(value));
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
