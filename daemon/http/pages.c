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

#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>

#define T(text) cc_html_text(out, (text))
#define P(lit) cc_buf_puts(out, (lit))

/* ---- helpers the page files share (pages.h) ---- */

const char *cc__page_or_empty(const char *s)
{
    return s ? s : "";
}

void cc__page_date(cc_buf_t *out, const char *iso)
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

void cc__page_child_href(cc_buf_t *out, const char *child_id)
{
    P("/children/");
    cc_html_path_segment(out, child_id);
}

void cc__page_clock_anchor(cc_buf_t *out, const char *rule_id, int seq)
{
    P("clock-");
    cc_html_id(out, rule_id);
    cc_buf_printf(out, "-%d", seq);
}

void cc__page_child_name(cc_buf_t *out, const char *id, const char *label)
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
        /* GOV.UK's banner: "Important" (a region), or "Success" after a form
         * was done (an alert, read out at once; the success colours). */
        if (p->notice_success)
            P("<div class=\"govuk-notification-banner govuk-notification-banner--success\" role=\"alert\" "
              "aria-labelledby=\"notice-title\" data-module=\"govuk-notification-banner\">"
              "<div class=\"govuk-notification-banner__header\"><h2 class=\"govuk-notification-banner__title\" "
              "id=\"notice-title\">Success</h2></div><div class=\"govuk-notification-banner__content\">"
              "<p class=\"govuk-notification-banner__heading\">");
        else
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
    {"data_error", "Data error", "govuk-tag--purple"}, {"at_risk", "At risk", "govuk-tag--pink"},
    {"excepted", "Excepted", "govuk-tag--blue"},
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
    T(cc__page_or_empty(s->next));
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
    T(cc__page_or_empty(s->email));
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
