/* The delivery planner. See include/careclock/planner.h and
 * docs/delivery.md.
 *
 * Design note: the planner is a function of (clock, rule, calendar,
 * configuration, now) and produces keys, not messages. It never looks at
 * what the outbox already holds, except for the list of escalations sent
 * (the input of the "now met" notice): enqueueing with INSERT OR IGNORE on
 * the key makes re-planning harmless, so the daemon can plan as often as it
 * likes and a restart plans the same rows again.
 */
#include "careclock/planner.h"
#include "careclock/email.h"
#include "careclock/error.h"
#include "util/grow.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cc_local_time_t (util/, below the core) spells its date as int32_t: it
 * must stay the cc_date_t the planner compares it with. */
_Static_assert(_Generic(((cc_local_time_t){0}).date, cc_date_t: 1, default: 0),
               "cc_local_time_t.date must be a cc_date_t");

/* Days searched for the next working day: longer than any closure. */
#define MAX_DAYS_AHEAD 400

void cc_plan_init(cc_plan_t *plan)
{
    memset(plan, 0, sizeof(*plan));
}

void cc_plan_reset(cc_plan_t *plan)
{
    plan->len = 0;
}

void cc_plan_free(cc_plan_t *plan)
{
    free(plan->items);
    cc_plan_init(plan);
}

const char *cc_notice_kind_name(cc_notice_kind_t kind)
{
    switch (kind) {
    case CC_NOTICE_ESCALATION: return "escalation";
    case CC_NOTICE_MET: return "met";
    default: return "reminder";
    }
}

const char *cc_channel_name(cc_channel_t channel)
{
    return channel == CC_CHANNEL_WEBHOOK ? "webhook" : "email";
}

int cc_notice_kind_parse(const char *name)
{
    for (int k = CC_NOTICE_REMINDER; k <= CC_NOTICE_MET; k++)
        if (name && strcmp(name, cc_notice_kind_name((cc_notice_kind_t)k)) == 0)
            return k;
    return -1;
}

int cc_channel_parse(const char *name)
{
    for (int c = CC_CHANNEL_EMAIL; c <= CC_CHANNEL_WEBHOOK; c++)
        if (name && strcmp(name, cc_channel_name((cc_channel_t)c)) == 0)
            return c;
    return -1;
}

int cc_role_parse(const char *name)
{
    for (int r = CC_ROLE_WORKER; r <= CC_ROLE_TEAM_WEBHOOK; r++)
        if (name && strcmp(name, cc_role_name((cc_role_t)r)) == 0)
            return r;
    return -1;
}

int cc_planner_status_active(cc_status_t status)
{
    return status == CC_STATUS_OPEN || status == CC_STATUS_DUE_SOON || status == CC_STATUS_OVERDUE ||
           status == CC_STATUS_AT_RISK;
}

int cc_planner_status_closed(cc_status_t status)
{
    return status == CC_STATUS_MET || status == CC_STATUS_MET_LATE || status == CC_STATUS_CANCELLED ||
           status == CC_STATUS_EXCEPTED;
}

/* The date stages count from: the agreed date when an extension is in
 * force, else the due date. */
static cc_date_t chase_date(const cc_planner_clock_t *clock)
{
    if (clock->agreed != CC_DATE_NONE && clock->due != CC_DATE_NONE && clock->agreed > clock->due)
        return clock->agreed;
    return clock->due;
}

int cc_planner_skipped_since(const cc_planner_settings_t *settings, const cc_planner_clock_t *clock)
{
    if (settings->since == CC_DATE_NONE || !cc_planner_status_active(clock->status) || clock->due == CC_DATE_NONE)
        return 0;
    return chase_date(clock) < settings->since;
}

char *cc_planner_stage_offset(const char *stage, char *buf, size_t len)
{
    const char *at = strchr(stage, '@');
    snprintf(buf, len, "%.*s", at ? (int)(at - stage) : (int)strlen(stage), stage);
    return buf;
}

/* 1 when recipient's stages are held on day (an acknowledgement). */
static int held(const cc_planner_clock_t *clock, const char *recipient, cc_date_t day)
{
    for (size_t i = 0; i < clock->nheld; i++)
        if (clock->held[i].recipient != NULL && strcmp(clock->held[i].recipient, recipient) == 0 &&
            day <= clock->held[i].until)
            return 1;
    return 0;
}

cc_notice_kind_t cc_planner_stage_kind(const cc_stage_t *stage)
{
    if (stage->offset.n > 0 || stage->role == CC_ROLE_TEAM_MANAGER || stage->role == CC_ROLE_SERVICE_MANAGER)
        return CC_NOTICE_ESCALATION;
    return CC_NOTICE_REMINDER;
}

int cc_planner_in_window(const cc_calendar_t *cal, const cc_planner_settings_t *settings, cc_local_time_t t)
{
    assert(settings->window_start_minute < settings->window_end_minute);
    return cc_calendar_is_working_day(cal, t.date) && t.minute >= settings->window_start_minute &&
           t.minute < settings->window_end_minute;
}

cc_local_time_t cc_planner_next_opening(const cc_calendar_t *cal, const cc_planner_settings_t *settings,
                                        cc_local_time_t t)
{
    if (cc_planner_in_window(cal, settings, t))
        return t;
    cc_local_time_t next = {.date = t.date, .minute = settings->window_start_minute};
    if (!cc_calendar_is_working_day(cal, t.date) || t.minute >= settings->window_start_minute)
        next.date = t.date + 1;
    for (int i = 0; i < MAX_DAYS_AHEAD && !cc_calendar_is_working_day(cal, next.date); i++)
        next.date++;
    return next;
}

static int later(cc_local_time_t a, cc_local_time_t b)
{
    return a.date > b.date || (a.date == b.date && a.minute > b.minute);
}

/* Append one planned delivery; fills the common fields. */
static cc_planned_t *push(cc_plan_t *out)
{
    if (cc__grow(&out->items, &out->cap, out->len + 1, sizeof(*out->items), 16) != 0)
        return NULL;
    cc_planned_t *p = &out->items[out->len++];
    memset(p, 0, sizeof(*p));
    return p;
}

static void reason(cc_planned_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reason(cc_planned_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->undeliverable, sizeof(p->undeliverable), fmt, ap);
    va_end(ap);
}

/* Who to send to for a role, and why not when nobody can be. */
static int webhook_known(const cc_planner_settings_t *settings, const char *name)
{
    for (size_t i = 0; i < settings->nwebhooks; i++)
        if (strcmp(settings->webhooks[i], name) == 0)
            return 1;
    return 0;
}

static void resolve(const cc_planner_clock_t *clock, const cc_planner_settings_t *settings, cc_role_t role,
                    cc_planned_t *p)
{
    const cc_planner_party_t *party = &clock->parties[role];
    p->address = party->address;
    if (role == CC_ROLE_TEAM_WEBHOOK) {
        p->channel = CC_CHANNEL_WEBHOOK;
        if (clock->team_id == NULL) {
            snprintf(p->recipient, sizeof(p->recipient), "%s", CC_NOTIFY_NOBODY);
            reason(p, "child %s has no team, so no team webhook", clock->child_id);
            return;
        }
        snprintf(p->recipient, sizeof(p->recipient), "team:%s", clock->team_id);
        if (party->address == NULL || party->address[0] == '\0')
            reason(p, "team %s has no webhook", clock->team_id);
        else if (!webhook_known(settings, party->address))
            reason(p, "team %s names webhook \"%s\", which the configuration does not define", clock->team_id,
                   party->address);
        return;
    }
    p->channel = CC_CHANNEL_EMAIL;
    if (party->id == NULL || party->id[0] == '\0') {
        snprintf(p->recipient, sizeof(p->recipient), "%s", CC_NOTIFY_NOBODY);
        switch (role) {
        case CC_ROLE_WORKER: reason(p, "child %s has no allocated worker", clock->child_id); break;
        case CC_ROLE_IRO: reason(p, "child %s has no IRO", clock->child_id); break;
        default:
            if (clock->team_id == NULL)
                reason(p, "child %s has no team, so no %s", clock->child_id,
                       role == CC_ROLE_TEAM_MANAGER ? "team manager" : "service manager");
            else
                reason(p, "team %s has no %s", clock->team_id,
                       role == CC_ROLE_TEAM_MANAGER ? "team manager" : "service manager");
        }
        return;
    }
    snprintf(p->recipient, sizeof(p->recipient), "%s", party->id);
    if (party->address == NULL || party->address[0] == '\0')
        reason(p, "staff %s has no email address", party->id);
    else if (!cc_email_valid(party->address))
        reason(p, "staff %s has an email address that is not valid (a line break, space or angle bracket in it)", party->id);
    else if (settings->email_unavailable != NULL)
        reason(p, "%s", settings->email_unavailable);
}

/* Plan one stage of an active clock for its role (and the team's webhook
 * for what goes to the team manager), under its offset as key (NULL) or
 * the key given (a reminder). */
static int plan_stage(const cc_planner_clock_t *clock, const cc_stage_t *stage, cc_date_t stage_date,
                      const cc_calendar_t *cal, const cc_planner_settings_t *settings, cc_local_time_t now,
                      const char *key, cc_plan_t *out)
{
    cc_local_time_t first = {.date = stage_date, .minute = settings->window_start_minute};
    cc_local_time_t due_at = cc_planner_next_opening(cal, settings, later(first, now) ? first : now);
    cc_role_t roles[2] = {stage->role, CC_ROLE_TEAM_WEBHOOK};
    int nroles = 1;
    /* The team's channel sees what its manager is sent, when it has one. */
    if (stage->role == CC_ROLE_TEAM_MANAGER && clock->team_id != NULL &&
        clock->parties[CC_ROLE_TEAM_WEBHOOK].address != NULL &&
        clock->parties[CC_ROLE_TEAM_WEBHOOK].address[0] != '\0')
        nroles = 2;
    for (int i = 0; i < nroles; i++) {
        cc_planned_t *p = push(out);
        if (p == NULL)
            return CC_ENOMEM;
        p->role = stage->role; /* the stage's role, also for the team channel's copy */
        p->kind = key == NULL ? cc_planner_stage_kind(stage) : CC_NOTICE_REMINDER;
        p->stage_date = stage_date;
        p->due_at = due_at;
        p->immediate = stage->immediate;
        resolve(clock, settings, roles[i], p);
        if (key != NULL) {
            snprintf(p->stage, sizeof(p->stage), "%s", key);
        } else {
            char off[16], day[CC_DATE_STRLEN];
            cc_offset_format(stage->offset, off, sizeof(off));
            /* Counted from an agreed date: stages of their own, so that
             * those sent for the statutory date do not stand in for them. */
            if (chase_date(clock) != clock->due)
                snprintf(p->stage, sizeof(p->stage), "%s@%s", off, cc_date_format(chase_date(clock), day));
            else
                snprintf(p->stage, sizeof(p->stage), "%s", off);
        }
        /* An acknowledgement holds its maker's own stages, no one else's. */
        if (roles[i] != CC_ROLE_TEAM_WEBHOOK && held(clock, p->recipient, now.date))
            out->len--;
    }
    return 0;
}

/* The notices of a clock at risk or a child whose data is in error: to the
 * worker and the team manager (and the team's channel with the manager),
 * at once, under the key given. */
static int plan_notice(const cc_planner_clock_t *clock, const char *key, const cc_calendar_t *cal,
                       const cc_planner_settings_t *settings, cc_local_time_t now, cc_plan_t *out)
{
    cc_stage_t worker = {.offset = {0, CC_UNIT_WORKING_DAYS}, .role = CC_ROLE_WORKER};
    cc_stage_t manager = {.offset = {0, CC_UNIT_WORKING_DAYS}, .role = CC_ROLE_TEAM_MANAGER};
    int rc = plan_stage(clock, &worker, now.date, cal, settings, now, key, out);
    return rc ? rc : plan_stage(clock, &manager, now.date, cal, settings, now, key, out);
}

int cc_planner_plan(const cc_rule_t *rule, const cc_planner_clock_t *clock, const cc_calendar_t *cal,
                    const cc_planner_settings_t *settings, cc_local_time_t now, cc_plan_t *out)
{
    if (cc_planner_status_closed(clock->status)) {
        /* "Now met": to everyone who was sent an escalation, once. */
        cc_local_time_t due_at = cc_planner_next_opening(cal, settings, now);
        for (size_t i = 0; i < clock->nescalated; i++) {
            const cc_planner_sent_t *sent = &clock->escalated[i];
            cc_planned_t *p = push(out);
            if (p == NULL)
                return CC_ENOMEM;
            snprintf(p->stage, sizeof(p->stage), "%s", CC_NOTIFY_MET_STAGE);
            snprintf(p->recipient, sizeof(p->recipient), "%s", sent->recipient);
            p->role = sent->role;
            p->kind = CC_NOTICE_MET;
            p->channel = sent->channel;
            p->address = sent->address;
            p->stage_date = now.date;
            p->due_at = due_at;
            if (sent->address == NULL || sent->address[0] == '\0')
                reason(p, "%s has no %s now", sent->recipient,
                       sent->channel == CC_CHANNEL_EMAIL ? "email address" : "webhook");
        }
        return 0;
    }
    if (clock->status == CC_STATUS_DATA_ERROR) {
        /* Never silent: in the worker's and the team manager's digests on
         * every working day until the data is mended (one key a day: the
         * day it may go, so a weekend's plans are one notice). */
        char key[CC_NOTIFY_STAGE_MAX], day[CC_DATE_STRLEN];
        cc_local_time_t at = cc_planner_next_opening(cal, settings, now);
        snprintf(key, sizeof(key), "%s@%s", CC_NOTIFY_ERROR_STAGE, cc_date_format(at.date, day));
        return plan_notice(clock, key, cal, settings, now, out);
    }
    if (!cc_planner_status_active(clock->status) || clock->due == CC_DATE_NONE || rule == NULL)
        return 0;
    /* The child has left care: nobody is chased about a missed duty of the
     * episode after its end (CPPCR 2010 reg 2: the duties are to a child
     * looked after). */
    if (clock->left_care && clock->left_on <= now.date)
        return 0;
    /* Go-live: what fell due before careclock was switched on is history. */
    if (cc_planner_skipped_since(settings, clock))
        return 0;
    if (clock->status == CC_STATUS_AT_RISK) {
        int rc = plan_notice(clock, CC_NOTIFY_RISK_STAGE, cal, settings, now, out);
        if (rc != 0)
            return rc;
    }
    cc_date_t dates[CC_RULE_MAX_STAGES], from = chase_date(clock);
    for (int i = 0; i < rule->nstages; i++) {
        /* Outside the holiday years the weekends-only answer is used, as
         * the clock's own due date was. */
        int rc = cc_offset_apply(cal, from, rule->stages[i].offset, &dates[i]);
        if (rc != 0 && rc != CC_EUNCOVERED)
            dates[i] = CC_DATE_NONE;
    }
    for (int i = 0; i < rule->nstages; i++) {
        if (dates[i] == CC_DATE_NONE || dates[i] > now.date)
            continue;
        /* Of the stages of one role that have come, only the latest is
         * planned; stages that fall on one day (a due date on a weekend
         * puts -1wd and +0wd on the Friday) count once, the later offset. */
        int superseded = 0;
        for (int j = 0; j < rule->nstages && !superseded; j++) {
            const cc_stage_t *a = &rule->stages[i], *b = &rule->stages[j];
            if (j == i || b->role != a->role || dates[j] == CC_DATE_NONE || dates[j] > now.date)
                continue;
            superseded = dates[j] > dates[i] ||
                         (dates[j] == dates[i] && (b->offset.n > a->offset.n || (b->offset.n == a->offset.n && j > i)));
        }
        if (superseded)
            continue;
        int rc = plan_stage(clock, &rule->stages[i], dates[i], cal, settings, now, NULL, out);
        if (rc != 0)
            return rc;
    }
    return 0;
}
