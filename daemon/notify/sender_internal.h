/* The sender's parts, shared by the files that make it up (internal to
 * notify/; the public API is include/careclock/sender.h):
 *   notify/sender.c       the libcurl multi interface on the libuv loop,
 *                         lanes, the job queue and completion, cc_sender_*;
 *   notify/smtp.c         email jobs: the SMTP lane's settings and
 *                         password, the transfer, the outcome (cc_smtp_*);
 *   notify/webhook.c      webhook jobs: the signing key, the request with
 *                         its Standard Webhooks headers, Retry-After, the
 *                         outcome (cc_webhook_*);
 *   notify/filechannel.c  [notify] file_channel: each message written as
 *                         a file instead (cc_filechannel_*).
 * A job goes to sender.c, which picks its lane (cc_smtp_lane,
 * cc_webhook_lane) or the file channel, and runs each transfer on a slot
 * of its lane: the channel's file sets the transfer up (cc_*_setup) and
 * says what its end means (cc_*_classify).
 */
#ifndef CARECLOCK_NOTIFY_SENDER_INTERNAL_H
#define CARECLOCK_NOTIFY_SENDER_INTERNAL_H

#include "careclock/config.h"
#include "careclock/payload.h"
#include "careclock/sender.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct cc_sender_lane cc_sender_lane_t;

/* How long a lane whose server did not answer a transfer (a timeout, no
 * connection) fails its queued jobs at once rather than trying each: a
 * stuck server costs one timeout per lane, not one per message. */
#define CC_SENDER_DOWN_MS 60000

/* One transfer at a time on one reused easy handle. */
typedef struct {
    CURL *easy;
    cc_send_job_t *job;      /* in flight, or NULL */
    cc_sender_lane_t *lane;
    struct curl_slist *list; /* MAIL_RCPT or HTTPHEADER of the job in flight */
    char errbuf[CURL_ERROR_SIZE];
    char reply_acc[512];     /* capture_replies: the SMTP reply being read, its lines so far */
    int reply_open;          /* 1 while a multi-line SMTP reply goes on */
    int reply_closed;        /* 1 once QUIT is sent: the goodbye is not the reply kept */
} cc_sender_slot_t;

/* Where one channel's jobs wait and run: SMTP, or one webhook endpoint. */
struct cc_sender_lane {
    char *name;             /* "smtp" or the webhook's name */
    cc_channel_t channel;
    /* webhook */
    char *url;
    unsigned char key[CC_PAYLOAD_KEY_MAX];
    size_t keylen;
    char *key_error;        /* why the secret could not be read; NULL when fine */
    /* a server that did not answer: until down_until (the loop's ms) the
     * lane's queued jobs complete with RETRY at once; NULL: up */
    char *down_reason;
    uint64_t down_until;
    /* queue */
    cc_send_job_t *head, *tail;
    cc_sender_slot_t *slots;
    int nslots;
    int active;             /* slots with a job in flight */
};

/* A socket curl asked us to watch (notify/sender.c's alone). */
typedef struct cc_sender_sock cc_sender_sock_t;

struct cc_sender {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;       /* curl's timeout */
    uv_timer_t defer;       /* completes jobs that need no transfer */
    int open_handles;
    int closing;
    void (*closed)(void *);
    void *closed_data;
    cc_sender_options_t options;
    size_t pending;
    cc_sender_sock_t *socks;
    cc_send_job_t *deferred_head, *deferred_tail;
    /* SMTP (notify/smtp.c) */
    cc_sender_lane_t smtp;
    char *smtp_url, *smtp_from, *smtp_user, *smtp_password, *smtp_error;
    int smtp_tls_required;
    /* webhooks (notify/webhook.c) */
    cc_sender_lane_t *hooks;
    size_t nhooks;
    /* file channel (notify/filechannel.c): the directory, or NULL */
    char *file_dir;
};

/* ---- notify/sender.c ---- */

/* Set job's result and its error in words (printf-style). */
void cc_sender_set_error(cc_send_job_t *job, cc_send_result_t result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Complete job from the loop, soon: never inside cc_sender_send, so that
 * done() never runs on the caller's stack. */
void cc_sender_defer(cc_sender_t *s, cc_send_job_t *job);

/* ---- notify/smtp.c ---- */

/* Copy config's [smtp] settings into s and read the password file (unless
 * the file channel replaces SMTP: s->file_dir is set first). A password
 * that cannot be read is not an error here: s->smtp_error holds the
 * reason, logged, and every email job completes with RETRY and it. */
void cc_smtp_init(cc_sender_t *s, const cc_config_t *config);

/* The EHLO name into out: configured ([smtp] helo) when set, else the
 * host's fully qualified name (getaddrinfo with AI_CANONNAME on
 * gethostname, or the host name itself when it has a dot), else the
 * domain of from. */
void cc_smtp_helo(const char *configured, const char *from, char *out, size_t len);

/* Free what cc_smtp_init copied, the password wiped first. */
void cc_smtp_free(cc_sender_t *s);

/* The SMTP lane for job, or NULL with job's error set when email cannot
 * go (not configured, or the password could not be read). */
cc_sender_lane_t *cc_smtp_lane(cc_sender_t *s, cc_send_job_t *job);

/* Set slot's easy handle up to send job by SMTP. Returns 0 or CC_ENOMEM. */
int cc_smtp_setup(cc_sender_t *s, cc_sender_slot_t *slot, cc_send_job_t *job);

/* job's outcome from curl's result res, the last SMTP reply code and
 * curl's words for what went wrong. */
void cc_smtp_classify(cc_send_job_t *job, CURLcode res, long code, const char *detail);

/* cc_sender_explain() for an email job. */
void cc_smtp_explain(const cc_send_job_t *job, char *out, size_t len);

/* ---- notify/webhook.c ---- */

/* Read and decode the secret_file of w into lane's key; when it cannot be
 * read or is not a Standard Webhooks secret, lane->key_error holds the
 * reason, logged, and the lane's jobs complete with RETRY and it. */
void cc_webhook_load_key(cc_sender_lane_t *lane, const cc_webhook_config_t *w);

/* The lane of job's webhook, or NULL with job's error set when it is not
 * configured or its secret could not be read. */
cc_sender_lane_t *cc_webhook_lane(cc_sender_t *s, cc_send_job_t *job);

/* Set slot's easy handle up to POST job to lane's endpoint, with the
 * Standard Webhooks headers (signed when the lane has a key). Returns 0
 * or CC_ENOMEM. */
int cc_webhook_setup(cc_sender_t *s, cc_sender_lane_t *lane, cc_sender_slot_t *slot, cc_send_job_t *job);

/* job's outcome from curl's result res, the HTTP status and curl's words
 * for what went wrong. */
void cc_webhook_classify(cc_send_job_t *job, CURLcode res, long code, const char *detail);

/* cc_sender_explain() for a webhook job. */
void cc_webhook_explain(const cc_send_job_t *job, char *out, size_t len);

/* ---- notify/filechannel.c ---- */

/* Write job's body as a file in s->file_dir (its name from
 * job->file_name, made safe) and complete it, deferred: OK once the file
 * is renamed into place, RETRY with the reason otherwise. */
void cc_filechannel_write(cc_sender_t *s, cc_send_job_t *job);

#endif
