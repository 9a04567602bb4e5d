/* A message (one recipient, up to four items) built from fuzz fields, for
 * fuzz_email.c and fuzz_webhook.c. Every string may be hostile: names and
 * ids come from the plan database, which other systems write. */
#ifndef CARECLOCK_FUZZ_MESSAGE_H
#define CARECLOCK_FUZZ_MESSAGE_H

#include "fuzz_common.h"

#include "careclock/calendar.h"
#include "careclock/message.h"

#define FZ_MAX_ITEMS 4

typedef struct {
    cc_message_t m;
    cc_message_item_t items[FZ_MAX_ITEMS];
    cc_message_context_t ctx;
} fz_message_t;

static inline void fz_message(fz_t *f, const cc_calendar_t *cal, fz_message_t *out)
{
    memset(out, 0, sizeof(*out));
    cc_date_t today = cc_date_from_ymd(2026, 12, 29);
    unsigned shape = fz_num(f);
    out->ctx.today = today;
    out->ctx.now = (time_t)1798534800 + (time_t)(shape % 86400);
    out->ctx.utc_offset_minutes = (int)(shape >> 8 & 1) * 60;
    out->ctx.privacy = (cc_privacy_t)(shape >> 9 & 3) % 3;
    out->ctx.from = fz_opt(f);
    out->ctx.public_url = fz_opt(f);
    out->ctx.cal = cal;
    out->m.batch = (int64_t)(shape >> 12);
    out->m.message_id = fz_opt(f);
    out->m.channel = (shape >> 11 & 1) ? CC_CHANNEL_WEBHOOK : CC_CHANNEL_EMAIL;
    out->m.recipient = fz_str(f);
    out->m.recipient_name = fz_opt(f);
    out->m.address = fz_opt(f);
    size_t n = 0;
    while (n < FZ_MAX_ITEMS && f->next < f->n) {
        cc_message_item_t *it = &out->items[n];
        unsigned k = fz_num(f);
        it->delivery_id = (int64_t)n + 1;
        it->kind = (cc_notice_kind_t)(k % 3);
        it->role = (cc_role_t)(k >> 2 & 7) % 5;
        it->status = (cc_status_t)((k >> 5 & 7) % CC_STATUS_COUNT);
        it->projected = (int)(k >> 8 & 1);
        it->seq = (int)(k >> 9 & 15);
        it->due = (k >> 13 & 1) ? CC_DATE_NONE : today - 40 + (cc_date_t)(k >> 14 & 127);
        it->met_on = (k >> 21 & 1) ? today - (cc_date_t)(k >> 22 & 31) : CC_DATE_NONE;
        it->stage_date = (k >> 27 & 1) ? CC_DATE_NONE : today - (cc_date_t)(k >> 28 & 15);
        it->stage = fz_opt(f);
        it->child_id = fz_opt(f);
        it->initials = fz_opt(f);
        it->full_name = fz_opt(f);
        it->rule_id = fz_opt(f);
        it->title = fz_opt(f);
        it->source = fz_opt(f);
        it->reason = fz_opt(f);
        it->worker_name = fz_opt(f);
        it->team_id = fz_opt(f);
        it->team_name = fz_opt(f);
        n++;
    }
    out->m.items = out->items;
    out->m.nitems = n;
}

#endif
