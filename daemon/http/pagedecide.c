/* The child page's decisions (issue 17 through the dashboard, issue 20):
 * the forms to extend, except and acknowledge a clock, the list of the
 * decisions taken and the forms to withdraw them, and the error summary
 * of a form sent back. Pure HTML from values. See daemon/http/pages.h.
 *
 * Design notes:
 *  - The GOV.UK patterns: each form inside a details component under its
 *    clock (open when it is the one sent back), labels and hints for every
 *    field, the error summary first on the page with a link to the field,
 *    the field's own error message, and what was typed kept.
 *  - Field ids are unique on the page: clock-RULE-SEQ-KIND-FIELD for a
 *    clock's forms, decision-ID-reason for a withdrawal.
 *  - Which forms a clock offers is decided by the caller (webchild.c, from
 *    the rule and the person's roles to the child); the server checks again
 *    when the form comes back (webdecide.c).
 */
#include "http/pages.h"
#include "careclock/html.h"

#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>

#define T(text) cc_html_text(out, (text))
#define P(lit) cc_buf_puts(out, (lit))

/* The id of a clock's form field into id (len bytes). */
static void field_id(cc_buf_t *id, const char *rule_id, int seq, const char *kind, const char *field)
{
    cc__page_clock_anchor(id, rule_id, seq);
    cc_buf_printf(id, "-%s-%s", kind, field);
}

static int is_error(const cc__decision_error_t *e, const char *kind, const char *rule_id, int seq,
                    long long decision, const char *field)
{
    if (e == NULL || strcmp(e->kind, kind) != 0)
        return 0;
    if (decision != 0 ? e->decision != decision
                      : (e->rule_id == NULL || rule_id == NULL || strcmp(e->rule_id, rule_id) != 0 || e->seq != seq))
        return 0;
    return field == NULL || (e->field != NULL && strcmp(e->field, field) == 0);
}

/* A labelled text input (or textarea when rows > 0), GOV.UK style. */
static void field(cc_buf_t *out, const char *id, const char *name, const char *label, const char *hint,
                  const char *value, const char *error, int rows, int width10)
{
    P("<div class=\"govuk-form-group");
    if (error)
        P(" govuk-form-group--error");
    P("\"><label class=\"govuk-label\" for=\"");
    T(id);
    P("\">");
    T(label);
    P("</label>");
    if (hint) {
        P("<div id=\"");
        T(id);
        P("-hint\" class=\"govuk-hint\">");
        T(hint);
        P("</div>");
    }
    if (error) {
        P("<p id=\"");
        T(id);
        P("-error\" class=\"govuk-error-message\"><span class=\"govuk-visually-hidden\">Error:</span> ");
        T(error);
        P("</p>");
    }
    if (rows > 0) {
        P("<textarea class=\"govuk-textarea");
        if (error)
            P(" govuk-textarea--error");
        cc_buf_printf(out, "\" rows=\"%d\"", rows);
    } else {
        P("<input class=\"govuk-input");
        P(width10 ? " govuk-input--width-10" : "");
        if (error)
            P(" govuk-input--error");
        P("\" type=\"text\"");
        if (width10)
            P(" inputmode=\"numeric\" spellcheck=\"false\"");
    }
    P(" id=\"");
    T(id);
    P("\" name=\"");
    T(name);
    P("\"");
    if (hint || error) {
        P(" aria-describedby=\"");
        if (hint) {
            T(id);
            P("-hint");
        }
        if (error) {
            P(hint ? " " : "");
            T(id);
            P("-error");
        }
        P("\"");
    }
    if (rows > 0) {
        P(">");
        T(cc__page_or_empty(value));
        P("</textarea></div>");
    } else {
        P(" value=\"");
        T(cc__page_or_empty(value));
        P("\"></div>");
    }
}

static void form_begin(cc_buf_t *out, const cc__child_page_t *c, const char *summary, int open, const char *kind)
{
    P("<details class=\"govuk-details cc-decide\"");
    if (open)
        P(" open");
    P("><summary class=\"govuk-details__summary\"><span class=\"govuk-details__summary-text\">");
    T(summary);
    P("</span></summary><div class=\"govuk-details__text\"><form method=\"post\" novalidate action=\"");
    cc__page_child_href(out, c->id);
    P("/decisions\"><input type=\"hidden\" name=\"csrf\" value=\"");
    T(cc__page_or_empty(c->csrf));
    P("\"><input type=\"hidden\" name=\"kind\" value=\"");
    T(kind);
    P("\">");
}

static void clock_hidden(cc_buf_t *out, const cc__child_clock_t *k)
{
    P("<input type=\"hidden\" name=\"clock\" value=\"");
    T(k->rule_id);
    P("\"><input type=\"hidden\" name=\"instance\" value=\"");
    T(cc__page_or_empty(k->instance));
    cc_buf_printf(out, "\"><input type=\"hidden\" name=\"seq\" value=\"%d\">", k->seq);
}

static void form_end(cc_buf_t *out, const char *button)
{
    P("<button type=\"submit\" class=\"govuk-button\" data-module=\"govuk-button\">");
    T(button);
    P("</button></form></div></details>");
}

/* The value typed before (when this is the form sent back), else dflt. */
static const char *typed(const cc__decision_error_t *e, int mine, const char *value, const char *dflt)
{
    return mine && e != NULL ? value : dflt;
}

static const char *error_of(const cc__decision_error_t *e, const char *kind, const cc__child_clock_t *k,
                            const char *name)
{
    return is_error(e, kind, k->rule_id, k->seq, 0, name) ? e->message : NULL;
}

void cc__page_decision_forms(cc_buf_t *out, const cc__child_page_t *c, const cc__child_clock_t *k)
{
    const cc__decision_error_t *e = c->error;
    cc_buf_t id;
    if (k->forms == 0)
        return;
    cc_buf_init(&id);
    if (k->forms & CC__FORM_EXTEND) {
        int mine = is_error(e, "extend", k->rule_id, k->seq, 0, NULL);
        form_begin(out, c, "Agree an extension", mine, "extend");
        clock_hidden(out, k);
        field_id(&id, k->rule_id, k->seq, "extend", "to");
        field(out, cc_buf_str(&id), "to", "Agreed date",
              "After the due date, for example 2027-01-31. Reminders and escalations will follow it; the statutory "
              "due date is kept.",
              typed(e, mine, e ? e->to : NULL, NULL), error_of(e, "extend", k, "to"), 0, 1);
        cc_buf_reset(&id);
        field_id(&id, k->rule_id, k->seq, "extend", "reason");
        field(out, cc_buf_str(&id), "reason", "Why the date is extended", NULL,
              typed(e, mine, e ? e->reason : NULL, NULL), error_of(e, "extend", k, "reason"), 3, 0);
        cc_buf_reset(&id);
        form_end(out, "Agree the extension");
    }
    if ((k->forms & CC__FORM_EXCEPT) && k->nexcept_codes > 0) {
        int mine = is_error(e, "except", k->rule_id, k->seq, 0, NULL);
        const char *err = error_of(e, "except", k, "code");
        const char *chosen = typed(e, mine, e ? e->code : NULL, NULL);
        form_begin(out, c, "Record an exception", mine, "except");
        clock_hidden(out, k);
        field_id(&id, k->rule_id, k->seq, "except", "code");
        P("<div class=\"govuk-form-group");
        if (err)
            P(" govuk-form-group--error");
        P("\"><label class=\"govuk-label\" for=\"");
        T(cc_buf_str(&id));
        P("\">Reason</label><div class=\"govuk-hint\" id=\"");
        T(cc_buf_str(&id));
        P("-hint\">The clock will need no action and send no reminders; it is counted apart in the reports</div>");
        if (err) {
            P("<p id=\"");
            T(cc_buf_str(&id));
            P("-error\" class=\"govuk-error-message\"><span class=\"govuk-visually-hidden\">Error:</span> ");
            T(err);
            P("</p>");
        }
        P("<select class=\"govuk-select");
        if (err)
            P(" govuk-select--error");
        P("\" id=\"");
        T(cc_buf_str(&id));
        P("\" name=\"code\" aria-describedby=\"");
        T(cc_buf_str(&id));
        P("-hint");
        if (err) {
            P(" ");
            T(cc_buf_str(&id));
            P("-error");
        }
        P("\"><option value=\"\">Choose a reason</option>");
        for (size_t i = 0; i < k->nexcept_codes; i++) {
            P("<option value=\"");
            T(k->except_codes[i]);
            P("\"");
            if (chosen != NULL && strcmp(chosen, k->except_codes[i]) == 0)
                P(" selected");
            P(">");
            for (const char *s = k->except_codes[i]; *s; s++) /* not_required -> not required */
                cc_buf_printf(out, "%c", *s == '_' ? ' ' : *s);
            P("</option>");
        }
        P("</select></div>");
        cc_buf_reset(&id);
        field_id(&id, k->rule_id, k->seq, "except", "note");
        field(out, cc_buf_str(&id), "note", "Note (optional)", NULL, typed(e, mine, e ? e->note : NULL, NULL),
              error_of(e, "except", k, "note"), 3, 0);
        cc_buf_reset(&id);
        form_end(out, "Record the exception");
    }
    if (k->forms & CC__FORM_ACK) {
        int mine = is_error(e, "ack", k->rule_id, k->seq, 0, NULL);
        form_begin(out, c, "Acknowledge: hold my reminders", mine, "ack");
        clock_hidden(out, k);
        field_id(&id, k->rule_id, k->seq, "ack", "until");
        field(out, cc_buf_str(&id), "until", "Hold my reminders and escalations until",
              "For example, 2027-01-15 (at most 92 days ahead). Everyone else still gets theirs.",
              typed(e, mine, e ? e->until : NULL, NULL), error_of(e, "ack", k, "until"), 0, 1);
        cc_buf_reset(&id);
        field_id(&id, k->rule_id, k->seq, "ack", "note");
        field(out, cc_buf_str(&id), "note", "Note (optional)", NULL, typed(e, mine, e ? e->note : NULL, NULL),
              error_of(e, "ack", k, "note"), 3, 0);
        cc_buf_reset(&id);
        form_end(out, "Acknowledge");
    }
    cc_buf_free(&id);
}

static const char *kind_words(const char *kind)
{
    return strcmp(kind, "extend") == 0   ? "Extension"
           : strcmp(kind, "except") == 0 ? "Exception"
           : strcmp(kind, "ack") == 0    ? "Acknowledgement"
           : strcmp(kind, "inform") == 0 ? "Informed"
                                         : "Withdrawal";
}

static void role_text(cc_buf_t *out, const char *role)
{
    for (const char *s = cc__page_or_empty(role); *s; s++)
        cc_buf_printf(out, "%c", *s == '_' ? ' ' : *s);
}

void cc__page_decisions(cc_buf_t *out, const cc__child_page_t *c)
{
    P("<h2 class=\"govuk-heading-m\" id=\"decisions\">Decisions</h2>");
    if (c->ndecisions == 0) {
        P("<p class=\"govuk-body\">No extension, exception or acknowledgement has been recorded.</p>");
        return;
    }
    P("<table class=\"govuk-table\"><caption class=\"govuk-table__caption govuk-table__caption--s\">Decisions about "
      "this child's clocks, oldest first</caption><thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">"
      "<th scope=\"col\" class=\"govuk-table__header\">Decision</th>"
      "<th scope=\"col\" class=\"govuk-table__header\">Clock</th>"
      "<th scope=\"col\" class=\"govuk-table__header\">What</th>"
      "<th scope=\"col\" class=\"govuk-table__header\">Why</th>"
      "<th scope=\"col\" class=\"govuk-table__header\">Who</th>"
      "<th scope=\"col\" class=\"govuk-table__header\">When</th>"
      "<th scope=\"col\" class=\"govuk-table__header\">From</th>"
      "</tr></thead><tbody class=\"govuk-table__body\">");
    for (size_t i = 0; i < c->ndecisions; i++) {
        const cc__child_decision_t *d = &c->decisions[i];
        cc_buf_printf(out, "<tr class=\"govuk-table__row\" id=\"decision-%lld\"><td class=\"govuk-table__cell\">%lld",
                      d->id, d->id);
        if (d->withdrawn)
            P(" <strong class=\"govuk-tag govuk-tag--grey\">Withdrawn</strong>");
        P("</td><td class=\"govuk-table__cell\">");
        T(d->title ? d->title : d->rule_id);
        if (d->seq > 1)
            cc_buf_printf(out, " (%d)", d->seq);
        P("</td><td class=\"govuk-table__cell\">");
        T(kind_words(d->kind));
        if (strcmp(d->kind, "extend") == 0) {
            P(" to ");
            cc__page_date(out, d->date);
        } else if (strcmp(d->kind, "ack") == 0) {
            P(": held until ");
            cc__page_date(out, d->date);
        } else if (strcmp(d->kind, "except") == 0 && d->code) {
            P(": ");
            role_text(out, d->code);
        } else if (strcmp(d->kind, "withdraw") == 0) {
            cc_buf_printf(out, " of decision %lld", d->withdraws);
        }
        P("</td><td class=\"govuk-table__cell\">");
        T(d->reason && d->reason[0] ? d->reason : "-");
        P("</td><td class=\"govuk-table__cell\">");
        T(d->by_name && d->by_name[0] ? d->by_name : cc__page_or_empty(d->by));
        if (d->by_name && d->by_name[0]) {
            P(" (");
            T(d->by);
            P(")");
        }
        P(", ");
        role_text(out, d->by_role);
        P("</td><td class=\"govuk-table__cell\">");
        const char *at = cc__page_or_empty(d->at);
        if (strlen(at) >= 16 && at[10] == 'T') { /* "2026-11-30T10:00:05Z": the day, then "10:00 UTC" */
            char day[11], hm[6];
            memcpy(day, at, 10);
            day[10] = '\0';
            memcpy(hm, at + 11, 5);
            hm[5] = '\0';
            cc__page_date(out, day);
            P(" ");
            T(hm);
            P(" UTC");
        } else {
            T(at);
        }
        P("</td><td class=\"govuk-table__cell\">");
        T(strcmp(cc__page_or_empty(d->via), "web") == 0 ? "the dashboard" : d->via ? d->via : "");
        P("</td></tr>");
    }
    P("</tbody></table>");
    /* The forms to withdraw what the person may withdraw. */
    for (size_t i = 0; i < c->ndecisions; i++) {
        const cc__child_decision_t *d = &c->decisions[i];
        if (!d->may_withdraw)
            continue;
        char summary[200], id[64];
        snprintf(summary, sizeof(summary), "Withdraw decision %lld (%s of %s)", d->id, kind_words(d->kind),
                 d->title ? d->title : d->rule_id);
        snprintf(id, sizeof(id), "decision-%lld-reason", d->id);
        int mine = is_error(c->error, "withdraw", NULL, 0, d->id, NULL);
        form_begin(out, c, summary, mine, "withdraw");
        cc_buf_printf(out, "<input type=\"hidden\" name=\"decision\" value=\"%lld\">", d->id);
        field(out, id, "reason", "Why it is withdrawn", NULL, mine ? c->error->reason : NULL,
              is_error(c->error, "withdraw", NULL, 0, d->id, "reason") ? c->error->message : NULL, 2, 0);
        form_end(out, "Withdraw it");
    }
}

void cc__page_decision_errors(cc_buf_t *out, const cc__child_page_t *c)
{
    const cc__decision_error_t *e = c->error;
    if (e == NULL)
        return;
    cc_buf_t id;
    cc_buf_init(&id);
    if (strcmp(e->kind, "withdraw") == 0)
        cc_buf_printf(&id, "decision-%lld-reason", e->decision);
    else
        field_id(&id, e->rule_id ? e->rule_id : "", e->seq, e->kind, e->field ? e->field : "");
    P("<div class=\"govuk-error-summary\" data-module=\"govuk-error-summary\"><div role=\"alert\">"
      "<h2 class=\"govuk-error-summary__title\">There is a problem</h2><div class=\"govuk-error-summary__body\">"
      "<ul class=\"govuk-list govuk-error-summary__list\"><li><a href=\"#");
    T(cc_buf_str(&id));
    P("\">");
    T(e->message);
    P("</a></li></ul></div></div></div>");
    cc_buf_free(&id);
}
