/* Channels: sending rendered messages by SMTP and by webhook (HTTP POST)
 * through the libcurl multi interface, driven by a libuv loop (uv_poll per
 * socket from CURLMOPT_SOCKETFUNCTION, one uv_timer from
 * CURLMOPT_TIMERFUNCTION). Or, with [notify] file_channel, writing each
 * message as a file instead (for demonstrations).
 *
 * Lanes: one for SMTP and one per webhook endpoint. A lane runs one
 * transfer at a time by default, on one reused easy handle, so a batch of
 * emails goes down one SMTP connection (the multi handle's connection
 * cache keeps it open between transfers) and an endpoint is never hit in
 * parallel. Lanes run side by side.
 *
 * Outcomes (job->result):
 *  - email: accepted -> OK; a 5xx reply other than an authentication
 *    failure -> FAILED; anything else (cannot connect, timeouts, 4xx, TLS,
 *    authentication) -> RETRY.
 *  - webhook: 2xx -> OK; 410 -> GONE (the caller disables the endpoint);
 *    408, 429, 5xx, timeouts, connection failures -> RETRY, with
 *    Retry-After (seconds or an HTTP date) in job->retry_after; redirects
 *    are not followed and, like other 4xx, -> FAILED. 15 s timeout.
 * A transfer that finds the server unanswering (a timeout, no connection,
 * a dropped connection) marks its lane down for a minute: jobs queued on
 * it meanwhile complete with RETRY at once, "not tried", so a stuck server
 * costs one timeout, not one per message.
 * Webhook requests carry Standard Webhooks headers (webhook-id: the
 * message id, the same on every attempt; webhook-timestamp: the wall clock
 * at sending; webhook-signature when the endpoint has a secret_file) and
 * Idempotency-Key (the message id).
 *
 * Ownership: the caller owns each job and everything it points to until
 * job->done(job) has been called; the sender never touches it after. The
 * sender itself is freed only through cc_sender_close(), whose callback
 * runs once every libuv handle it owns is closed.
 */
#ifndef CARECLOCK_SENDER_H
#define CARECLOCK_SENDER_H

#include "careclock/config.h"
#include "careclock/planner.h"

#include <stddef.h>
#include <uv.h>

typedef struct cc_sender cc_sender_t;

typedef enum { CC_SEND_OK, CC_SEND_RETRY, CC_SEND_FAILED, CC_SEND_GONE } cc_send_result_t;

typedef struct cc_send_job cc_send_job_t;

struct cc_send_job {
    /* set by the caller */
    cc_channel_t channel;
    const char *rcpt;        /* email: the envelope recipient address */
    const char *webhook;     /* webhook: the [webhook:NAME] name */
    const char *message_id;  /* webhook: webhook-id and Idempotency-Key */
    const char *body;        /* the rendered message (RFC 5322) or payload (JSON) */
    size_t len;
    const char *file_name;   /* file channel: the file's name (no directory) */
    void (*done)(cc_send_job_t *job);
    void *data;
    /* set by the sender before done() */
    cc_send_result_t result;
    long code;               /* SMTP reply or HTTP status; 0 when none */
    long retry_after;        /* seconds the server asked for; -1 when none */
    char error[256];         /* what went wrong, in words; "" on success */
    char reply[512];         /* with options.capture_replies: what the server said, as it said it (the last
                                SMTP reply, its lines joined; the HTTP status line, then the body's start);
                                "" when it said nothing */
    /* the sender's: zero when a job is first queued (allocate jobs zeroed) */
    cc_send_job_t *next;
    size_t offset;
    int queued;              /* 1 from cc_sender_send until just before done() */
};

typedef struct {
    int reuse_connections;   /* 1: keep connections between transfers (default); 0: a new one each time */
    long webhook_timeout_ms; /* 15000 */
    long smtp_timeout_ms;    /* 0: [smtp] timeout (60 s) */
    int lane_parallel;       /* transfers at once per lane, 1 */
    int file_channel;        /* 1: honour [notify] file_channel (default) */
    int capture_replies;     /* 1: keep each job's server reply in job->reply (careclock deliveries test); 0 */
} cc_sender_options_t;

void cc_sender_options_default(cc_sender_options_t *options);

/* A sender on loop for config (copied: later changes to config do not
 * reach it; make a new sender after a reload). loop, config and out are
 * not NULL; options may be NULL (defaults). The SMTP password and the
 * webhook secrets are read now from their files; a file that cannot be
 * read does not fail creation: the jobs needing it complete with RETRY and
 * the reason, and the reason is logged.
 * Returns 0, CC_ENOMEM or CC_EIO (libcurl could not start) with err. */
int cc_sender_new(uv_loop_t *loop, const cc_config_t *config, const cc_sender_options_t *options,
                  cc_sender_t **out, char *err, size_t errlen);

/* Queue job; job->done is called from the loop when it completes (never
 * before this returns); from done() on, job may be queued again. sender,
 * job and job->done are not NULL, job->rcpt is set for email and
 * job->message_id for a webhook, job->body unless job->len is 0; job is
 * not queued already (asserted). Returns 0, or CC_ESTATE once the sender
 * is closing. */
int cc_sender_send(cc_sender_t *sender, cc_send_job_t *job);

/* Jobs queued or in flight. */
size_t cc_sender_pending(const cc_sender_t *sender);

/* Stop: jobs still queued or in flight complete at once with RETRY
 * ("interrupted"), their done() called from here; then the handles close
 * and closed(data) runs when the last is closed (closed may be NULL).
 * NULL sender is fine. */
void cc_sender_close(cc_sender_t *sender, void (*closed)(void *data), void *data);

/* Read a credentials file: its bytes, less one trailing newline, into a
 * new string in *out (path and out not NULL). Returns 0, CC_EIO (errno
 * says why) or CC_ENOMEM. */
int cc_sender_read_secret(const char *path, char **out);

/* What a finished job's outcome means for the person who configured the
 * channel, and what to change, in words, into out (len bytes): for email
 * the SMTP reply code (535: "the server refused the user name or password:
 * check [smtp] username and password_file"), STARTTLS, TLS and connection
 * failures; for a webhook the HTTP status. "" for a job that succeeded.
 * Returns out. */
char *cc_sender_explain(const cc_send_job_t *job, char *out, size_t len);

#endif
