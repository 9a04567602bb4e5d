/* Message renderers: pure code. A message (one recipient, one channel, the
 * items of one delivery or one digest) and a context in; bytes out: an
 * RFC 5322 email here; a webhook body in the endpoint's format, and the
 * Standard Webhooks signature, in payload.h. No I/O, no clock reads (now
 * is given).
 *
 * What a message says (docs/delivery.md): for each child, by reference and
 * initials (or per the privacy setting; webhooks never carry full names),
 * what is due or overdue, the due date and how late, the rule's source, who
 * holds the case, grouped by child with overdue first; and a link to
 * careclock when a public URL is configured.
 *
 * Header safety: any header value holding CR or LF (a name or address that
 * another system wrote into the database) makes the email renderer fail
 * with CC_EINVAL and a message naming the header; it is never passed
 * through, never "cleaned".
 */
#ifndef CARECLOCK_MESSAGE_H
#define CARECLOCK_MESSAGE_H

#include "careclock/buf.h"
#include "careclock/calendar.h"
#include "careclock/engine.h"
#include "careclock/planner.h"
#include "careclock/privacy.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* [webhook:NAME] format: careclock's own JSON, a Teams Adaptive Card, a
 * Slack message (rendered by payload.h; defined here, where config.h
 * finds it). */
typedef enum { CC_WEBHOOK_GENERIC, CC_WEBHOOK_TEAMS, CC_WEBHOOK_SLACK } cc_webhook_format_t;

/* One item of a message: a clock instance and the stage that brought it.
 * Strings are borrowed; NULL where unknown. */
typedef struct {
    int64_t delivery_id;
    cc_notice_kind_t kind;
    const char *stage;        /* "-5wd", "+1wd", "met" */
    cc_role_t role;
    const char *child_id;
    const char *initials;
    const char *full_name;
    const char *rule_id;
    const char *title;        /* "Care plan" */
    const char *source;       /* "CPPCR 2010 reg 4(2)" */
    int seq;
    cc_date_t due;            /* the statutory due date; CC_DATE_NONE when unknown */
    cc_date_t agreed;         /* an extension in force: the agreed date, which "how late" and "due in" count
                                 to; CC_DATE_NONE (or not after due): none */
    cc_status_t status;       /* as the clocks table has it now */
    cc_date_t met_on;         /* CC_DATE_NONE when not met */
    cc_date_t stage_date;     /* the day the stage came (an escalation's "escalated to you"); CC_DATE_NONE: unknown */
    int projected;            /* the due date rests on an anchor not yet known */
    const char *reason;       /* cancelled, at_risk, excepted, data_error: why */
    const char *worker_name;  /* who holds the case */
    const char *team_id;
    const char *team_name;
} cc_message_item_t;

/* One message: what one delivery or one digest becomes. */
typedef struct {
    int64_t batch;            /* the id of its first delivery */
    const char *message_id;   /* the Message-ID ("<...@domain>") or webhook-id ("msg_...") */
    cc_channel_t channel;
    const char *recipient;    /* the recipient key (staff id, "team:ID") */
    const char *recipient_name; /* staff name, or team name for a webhook */
    const char *address;      /* email address, or webhook name */
    const cc_message_item_t *items;
    size_t nitems;
    int test;                 /* a test message (careclock deliveries test): no items, and it says so */
} cc_message_t;

/* What renderers need besides the message. */
typedef struct {
    cc_date_t today;          /* "how late" is counted to this day */
    time_t now;               /* the Date header and the payload timestamp (UTC seconds) */
    int utc_offset_minutes;   /* local offset at now, for the Date header */
    cc_privacy_t privacy;
    const char *from;         /* sender address ([smtp] from) */
    const char *public_url;   /* [http] public_url, or NULL */
    const cc_calendar_t *cal; /* working days late or left */
} cc_message_context_t;

/* Preconditions of every function below, asserted: pointers not NULL
 * (except the message's and the context's optional strings), and m->items
 * holding m->nitems items (NULL when there are none). */

/* Write the message id of a batch into out: "<cc-INSTANCE-BATCH-NONCE@DOMAIN>"
 * for email (DOMAIN from the from address, "careclock.invalid" without
 * one), "msg_cc-INSTANCE-BATCH-NONCE" for a webhook; without a nonce
 * (NULL or ""), "-NONCE" is left out. The nonce (random, chosen when the
 * message is first claimed and stored with it) keeps ids unique even when
 * an older copy of the database is restored and batch numbers come round
 * again. Returns out. */
char *cc_message_id(char *out, size_t len, cc_channel_t channel, const char *instance, int64_t batch,
                    const char *nonce, const char *from);

/* The page of a child on careclock's dashboard, "<public_url>/children/<ref>"
 * (the reference percent-encoded outside RFC 3986's unreserved characters),
 * appended to out; nothing when public_url is NULL or empty. Returns 0 or
 * CC_ENOMEM. */
int cc_message_child_url(const char *public_url, const char *child_id, cc_buf_t *out);

/* The subject line (UTF-8, not yet encoded) into out. */
int cc_message_subject(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out);

/* The plain-text body (UTF-8, LF line ends) into out. */
int cc_message_text(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out);

/* The HTML body (a whole document, UTF-8, inline styles only) into out. */
int cc_message_html(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out);

/* The whole RFC 5322 message (CRLF line ends): Date, From, To, Subject
 * (RFC 2047 when not ASCII), Message-ID, MIME multipart/alternative with
 * text/plain and text/html parts in quoted-printable. Returns 0; CC_EINVAL
 * with the reason in err when a header value holds CR or LF or the address
 * is not valid; CC_ENOMEM. */
int cc_message_email(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out, char *err,
                     size_t errlen);

/* RFC 2047 encode a header value when it holds non-ASCII bytes, else copy
 * it. Encoded words (B encoding, UTF-8) hold whole words where a word
 * fits (split inside a word only when one word is longer than a line),
 * folded with CRLF SP so that no line is longer than 76 characters,
 * counting the first line from column start (the header's "Name: ").
 * Returns 0 or CC_ENOMEM. */
int cc_message_encode_header(const char *value, size_t start, cc_buf_t *out);

/* Quoted-printable encode text (LF or CRLF line ends in; CRLF out; lines
 * of at most 76 characters). */
int cc_message_qp(const char *text, size_t len, cc_buf_t *out);

#endif
