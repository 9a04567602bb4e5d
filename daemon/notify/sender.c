/* The sender: libcurl's multi interface on a libuv loop, lanes, the job
 * queue and completion. See include/careclock/sender.h for the contract
 * and notify/sender_internal.h for the parts: email is notify/smtp.c,
 * webhooks notify/webhook.c, the file channel notify/filechannel.c.
 *
 * Design notes:
 *  - curl tells us which sockets to watch (on_socket) and when to call it
 *    back (on_timeout); each watched socket gets a cc_sender_sock_t owning a
 *    uv_poll_t, freed in that handle's close callback; the curl timer is a
 *    uv_timer_t embedded in the sender. curl is never re-entered from its
 *    own callbacks: socket events and the timer call
 *    curl_multi_socket_action from libuv callbacks only.
 *  - Finished transfers are collected first and their jobs completed
 *    after curl_multi_info_read is drained, so a done() callback may queue
 *    new jobs safely.
 *  - Every job completes exactly once: through a transfer, through the
 *    deferred list (the file channel; email or a webhook not configured or
 *    its credentials unreadable; a transfer that could not start), or
 *    through close.
 *  - The sender is freed when its last handle is closed (open_handles
 *    counts them), never before: libuv may still call a closing handle's
 *    callback.
 */
#include "careclock/sender.h"
#include "notify/sender_internal.h"
#include "careclock/error.h"
#include "util/grow.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CONNECT_TIMEOUT_MS 15000
#define USER_AGENT "careclock/1 (statutory-clock reminders)"

struct cc_sender_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    cc_sender_t *sender;
    cc_sender_sock_t *prev, *next;
};

void cc_sender_options_default(cc_sender_options_t *o)
{
    memset(o, 0, sizeof(*o));
    o->reuse_connections = 1;
    o->webhook_timeout_ms = 15000;
    o->smtp_timeout_ms = 0; /* [smtp] timeout */
    o->lane_parallel = 1;
    o->file_channel = 1;
}

/* ---- credentials ------------------------------------------------------------ */

int cc_sender_read_secret(const char *path, char **out)
{
    assert(path != NULL && out != NULL);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return CC_EIO;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char block[4096];
    size_t got;
    while ((got = fread(block, 1, sizeof(block), f)) > 0) {
        if (cc__grow(&buf, &cap, len + got + 1, 1, 256) != 0) {
            fclose(f);
            OPENSSL_cleanse(block, sizeof(block));
            if (buf)
                OPENSSL_cleanse(buf, len);
            free(buf);
            return CC_ENOMEM;
        }
        memcpy(buf + len, block, got);
        len += got;
    }
    int failed = ferror(f), saved = errno;
    fclose(f);
    OPENSSL_cleanse(block, sizeof(block));
    if (failed) {
        if (buf)
            OPENSSL_cleanse(buf, len);
        free(buf);
        errno = saved; /* for the caller's message: EISDIR, EACCES... */
        return CC_EIO;
    }
    if (buf == NULL && (buf = malloc(1)) == NULL)
        return CC_ENOMEM;
    /* One trailing newline (as `echo` writes) is not part of the secret. */
    if (len > 0 && buf[len - 1] == '\n') {
        len--;
        if (len > 0 && buf[len - 1] == '\r')
            len--;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

/* ---- curl <-> libuv --------------------------------------------------------- */

static void check_done(cc_sender_t *s);
static void maybe_free(cc_sender_t *s);

static void on_handle_closed(uv_handle_t *h)
{
    cc_sender_t *s = h->data;
    s->open_handles--;
    maybe_free(s);
}

static void on_sock_closed(uv_handle_t *h)
{
    cc_sender_sock_t *sk = h->data;
    cc_sender_t *s = sk->sender;
    free(sk);
    s->open_handles--;
    maybe_free(s);
}

static void sock_close(cc_sender_t *s, cc_sender_sock_t *sk)
{
    if (sk->prev)
        sk->prev->next = sk->next;
    else
        s->socks = sk->next;
    if (sk->next)
        sk->next->prev = sk->prev;
    uv_poll_stop(&sk->poll);
    uv_close((uv_handle_t *)&sk->poll, on_sock_closed);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    cc_sender_sock_t *sk = h->data;
    cc_sender_t *s = sk->sender;
    int flags = 0, running = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(s->multi, sk->fd, flags, &running);
    check_done(s);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    cc_sender_t *s = userp;
    cc_sender_sock_t *sk = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (sk != NULL) {
            curl_multi_assign(s->multi, fd, NULL);
            sock_close(s, sk);
        }
        return 0;
    }
    if (sk == NULL) {
        sk = calloc(1, sizeof(*sk));
        if (sk == NULL)
            return -1;
        if (uv_poll_init_socket(s->loop, &sk->poll, fd) != 0) {
            free(sk);
            return -1;
        }
        sk->fd = fd;
        sk->sender = s;
        sk->poll.data = sk;
        sk->next = s->socks;
        if (s->socks)
            s->socks->prev = sk;
        s->socks = sk;
        s->open_handles++;
        curl_multi_assign(s->multi, fd, sk);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&sk->poll, events, on_poll);
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    cc_sender_t *s = t->data;
    int running = 0;
    curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(s);
}

static int on_timeout(CURLM *multi, long timeout_ms, void *userp)
{
    cc_sender_t *s = userp;
    (void)multi;
    if (s->closing)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&s->timer);
    else
        uv_timer_start(&s->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- jobs ----------------------------------------------------------------- */

void cc_sender_set_error(cc_send_job_t *job, cc_send_result_t result, const char *fmt, ...)
{
    va_list ap;
    job->result = result;
    va_start(ap, fmt);
    vsnprintf(job->error, sizeof(job->error), fmt, ap);
    va_end(ap);
}

static void complete(cc_sender_t *s, cc_send_job_t *job)
{
    assert(job->queued && s->pending > 0);
    s->pending--;
    job->next = NULL;
    job->queued = 0;
    job->done(job);
}

static void on_defer(uv_timer_t *t)
{
    cc_sender_t *s = t->data;
    cc_send_job_t *list = s->deferred_head;
    s->deferred_head = s->deferred_tail = NULL;
    while (list != NULL) {
        cc_send_job_t *next = list->next;
        complete(s, list);
        list = next;
    }
}

void cc_sender_defer(cc_sender_t *s, cc_send_job_t *job)
{
    job->next = NULL;
    if (s->deferred_tail)
        s->deferred_tail->next = job;
    else
        s->deferred_head = job;
    s->deferred_tail = job;
    if (!s->closing)
        uv_timer_start(&s->defer, on_defer, 0, 0);
}

/* Response bodies are not needed: an endpoint's status says everything. */
static size_t on_write(char *data, size_t size, size_t nitems, void *userp)
{
    (void)data;
    (void)userp;
    return size * nitems;
}

/* ---- what the server said (options.capture_replies) ------------------------ */

/* Append text (n bytes, control characters as spaces) to the NUL-ended
 * buffer out of len bytes, as far as it goes. */
static void append_clean(char *out, size_t len, const char *text, size_t n)
{
    size_t used = strlen(out);
    for (size_t i = 0; i < n && used + 1 < len; i++)
        out[used++] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? ' ' : text[i];
    out[used] = '\0';
}

/* The body's start after the HTTP status line: a receiver's own words. */
static size_t on_write_capture(char *data, size_t size, size_t nitems, void *userp)
{
    cc_sender_slot_t *slot = userp;
    if (slot->job != NULL && slot->job->reply[0] != '\0' && strlen(slot->job->reply) < 400) {
        if (strstr(slot->job->reply, " -- ") == NULL)
            append_clean(slot->job->reply, sizeof(slot->job->reply), " -- ", 4);
        append_clean(slot->job->reply, sizeof(slot->job->reply), data, size * nitems);
    }
    return size * nitems;
}

/* One line the server sent: an SMTP reply line ("535 5.7.8 ...", "250-..."
 * then "250 ..." for the last of a multi-line reply) or an HTTP status line.
 * The job keeps the last whole reply. */
static void reply_line(cc_sender_slot_t *slot, const char *line, size_t n)
{
    cc_send_job_t *job = slot->job;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        job->reply[0] = '\0';
        append_clean(job->reply, sizeof(job->reply), line, n);
        return;
    }
    if (n < 4 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
        !isdigit((unsigned char)line[2]) || (line[3] != ' ' && line[3] != '-'))
        return;
    if (!slot->reply_open)
        slot->reply_acc[0] = '\0';
    else
        append_clean(slot->reply_acc, sizeof(slot->reply_acc), " / ", 3);
    append_clean(slot->reply_acc, sizeof(slot->reply_acc), line, n);
    slot->reply_open = line[3] == '-';
    if (!slot->reply_open)
        snprintf(job->reply, sizeof(job->reply), "%s", slot->reply_acc);
}

static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userp)
{
    cc_sender_slot_t *slot = userp;
    (void)easy;
    if (slot == NULL || slot->job == NULL)
        return 0;
    /* Past QUIT the server only says goodbye: the reply that matters is
     * the one before (to the message's end, or the refusal). */
    if (type == CURLINFO_HEADER_OUT && size >= 4 && strncmp(data, "QUIT", 4) == 0)
        slot->reply_closed = 1;
    if (type != CURLINFO_HEADER_IN || slot->reply_closed)
        return 0;
    while (size > 0) {
        const char *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t)(nl - data) : size;
        size_t line = n > 0 && data[n - 1] == '\r' ? n - 1 : n;
        reply_line(slot, data, line);
        size_t step = nl ? n + 1 : n;
        data += step;
        size -= step;
    }
    return 0;
}

char *cc_sender_explain(const cc_send_job_t *job, char *out, size_t len)
{
    assert(job != NULL && out != NULL && len > 0);
    out[0] = '\0';
    if (job->result == CC_SEND_OK)
        return out;
    if (job->channel == CC_CHANNEL_EMAIL)
        cc_smtp_explain(job, out, len);
    else
        cc_webhook_explain(job, out, len);
    return out;
}

/* Start queued jobs of lane while it has a free slot. */
static void lane_pump(cc_sender_t *s, cc_sender_lane_t *lane)
{
    while (!s->closing && lane->head != NULL && lane->active < lane->nslots) {
        cc_sender_slot_t *slot = NULL;
        for (int i = 0; i < lane->nslots && slot == NULL; i++)
            if (lane->slots[i].job == NULL)
                slot = &lane->slots[i];
        assert(slot != NULL); /* active < nslots: one is free */
        cc_send_job_t *job = lane->head;
        lane->head = job->next;
        if (lane->head == NULL)
            lane->tail = NULL;
        job->next = NULL;
        if (lane->down_reason != NULL && uv_now(s->loop) < lane->down_until) {
            /* The server did not answer the last transfer: the rest of the
             * queue goes back to the outbox at once (its backoff brings it
             * again), instead of each waiting out its own timeout. */
            cc_sender_set_error(job, CC_SEND_RETRY, "not tried: the message before it to %s got no answer (%s)",
                                lane->channel == CC_CHANNEL_EMAIL ? "the mail server" : lane->name, lane->down_reason);
            cc_sender_defer(s, job);
            continue;
        }
        if (slot->easy == NULL)
            slot->easy = curl_easy_init();
        else
            curl_easy_reset(slot->easy);
        if (slot->easy == NULL) {
            cc_sender_set_error(job, CC_SEND_RETRY, "out of memory starting a transfer");
            cc_sender_defer(s, job);
            continue;
        }
        CURL *e = slot->easy;
        slot->errbuf[0] = '\0';
        slot->lane = lane;
        curl_easy_setopt(e, CURLOPT_PRIVATE, slot);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, slot->errbuf);
        curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
        if (s->options.capture_replies) {
            slot->reply_acc[0] = '\0';
            slot->reply_open = 0;
            slot->reply_closed = 0;
            job->reply[0] = '\0';
            curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
            curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
            curl_easy_setopt(e, CURLOPT_DEBUGDATA, slot);
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write_capture);
            curl_easy_setopt(e, CURLOPT_WRITEDATA, slot);
        }
        if (!s->options.reuse_connections) {
            curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
            curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        }
        int rc = lane->channel == CC_CHANNEL_EMAIL ? cc_smtp_setup(s, slot, job)
                                                   : cc_webhook_setup(s, lane, slot, job);
        if (rc != 0 || curl_multi_add_handle(s->multi, e) != CURLM_OK) {
            curl_slist_free_all(slot->list);
            slot->list = NULL;
            cc_sender_set_error(job, CC_SEND_RETRY, "could not start the transfer");
            cc_sender_defer(s, job);
            continue;
        }
        slot->job = job;
        lane->active++;
    }
}

/* 1 if res says the server, not the message, is the trouble: it did not
 * answer in time, could not be reached, or dropped the connection. */
static int server_down(CURLcode res)
{
    switch (res) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* Classify a finished transfer into job->result. */
static void classify(cc_sender_t *s, cc_sender_lane_t *lane, cc_sender_slot_t *slot, CURLcode res)
{
    cc_send_job_t *job = slot->job;
    long code = 0;
    curl_easy_getinfo(slot->easy, CURLINFO_RESPONSE_CODE, &code);
    job->code = code;
    const char *detail = slot->errbuf[0] ? slot->errbuf : curl_easy_strerror(res);
    free(lane->down_reason);
    lane->down_reason = NULL;
    if (server_down(res) && (lane->down_reason = strdup(detail)) != NULL)
        lane->down_until = uv_now(s->loop) + CC_SENDER_DOWN_MS;
    if (lane->channel == CC_CHANNEL_EMAIL)
        cc_smtp_classify(job, res, code, detail);
    else
        cc_webhook_classify(job, res, code, detail);
}

static void check_done(cc_sender_t *s)
{
    CURLMsg *msg;
    int left;
    cc_send_job_t *done_head = NULL, *done_tail = NULL;
    while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        cc_sender_slot_t *slot = NULL;
        CURL *easy = msg->easy_handle;
        CURLcode res = msg->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&slot);
        curl_multi_remove_handle(s->multi, easy);
        if (slot == NULL || slot->job == NULL)
            continue;
        cc_sender_lane_t *lane = slot->lane;
        classify(s, lane, slot, res);
        curl_slist_free_all(slot->list);
        slot->list = NULL;
        cc_send_job_t *job = slot->job;
        slot->job = NULL;
        assert(lane->active > 0);
        lane->active--;
        job->next = NULL;
        if (done_tail)
            done_tail->next = job;
        else
            done_head = job;
        done_tail = job;
    }
    while (done_head != NULL) {
        cc_send_job_t *next = done_head->next;
        complete(s, done_head);
        done_head = next;
    }
    if (!s->closing) {
        lane_pump(s, &s->smtp);
        for (size_t i = 0; i < s->nhooks; i++)
            lane_pump(s, &s->hooks[i]);
    }
}

/* ---- the sender ------------------------------------------------------------- */

int cc_sender_send(cc_sender_t *s, cc_send_job_t *job)
{
    assert(s != NULL && job != NULL && job->done != NULL);
    assert(job->channel != CC_CHANNEL_EMAIL || job->rcpt != NULL);
    assert(job->channel != CC_CHANNEL_WEBHOOK || job->message_id != NULL);
    assert(job->body != NULL || job->len == 0);
    assert(!job->queued); /* queued once until done() is called */
    if (s->closing)
        return CC_ESTATE;
    job->queued = 1;
    job->next = NULL;
    job->offset = 0;
    job->result = CC_SEND_RETRY;
    job->code = 0;
    job->retry_after = -1;
    job->error[0] = '\0';
    s->pending++;
    if (s->file_dir != NULL) {
        cc_filechannel_write(s, job);
        return 0;
    }
    cc_sender_lane_t *lane = job->channel == CC_CHANNEL_EMAIL ? cc_smtp_lane(s, job) : cc_webhook_lane(s, job);
    if (lane == NULL) {
        cc_sender_defer(s, job);
        return 0;
    }
    if (lane->tail)
        lane->tail->next = job;
    else
        lane->head = job;
    lane->tail = job;
    /* lane_pump only adds the transfer; curl starts it from the loop (the
     * timer), not from the caller's stack. */
    uv_timer_start(&s->timer, on_timer, 0, 0);
    lane_pump(s, lane);
    return 0;
}

size_t cc_sender_pending(const cc_sender_t *s)
{
    return s ? s->pending : 0;
}

static void lane_free(cc_sender_lane_t *lane)
{
    for (int i = 0; i < lane->nslots; i++) {
        curl_slist_free_all(lane->slots[i].list);
        if (lane->slots[i].easy)
            curl_easy_cleanup(lane->slots[i].easy);
    }
    free(lane->slots);
    free(lane->name);
    free(lane->url);
    free(lane->key_error);
    free(lane->down_reason);
    OPENSSL_cleanse(lane->key, sizeof(lane->key)); /* the webhook's signing key */
    memset(lane, 0, sizeof(*lane));
}

static void sender_free(cc_sender_t *s)
{
    lane_free(&s->smtp);
    for (size_t i = 0; i < s->nhooks; i++)
        lane_free(&s->hooks[i]);
    free(s->hooks);
    cc_smtp_free(s);
    free(s->file_dir);
    free(s);
}

static void maybe_free(cc_sender_t *s)
{
    if (!s->closing || s->open_handles > 0)
        return;
    void (*closed)(void *) = s->closed;
    void *data = s->closed_data;
    sender_free(s);
    if (closed)
        closed(data);
}

static int lane_init(cc_sender_lane_t *lane, const char *name, cc_channel_t channel, int parallel)
{
    lane->name = strdup(name);
    lane->channel = channel;
    lane->nslots = parallel < 1 ? 1 : parallel;
    lane->slots = calloc((size_t)lane->nslots, sizeof(*lane->slots));
    return lane->name && lane->slots ? 0 : CC_ENOMEM;
}

int cc_sender_new(uv_loop_t *loop, const cc_config_t *config, const cc_sender_options_t *options,
                  cc_sender_t **out, char *err, size_t errlen)
{
    static int curl_ready;
    assert(loop != NULL && config != NULL && out != NULL);
    *out = NULL;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "libcurl could not start");
            return CC_EIO;
        }
        curl_ready = 1;
    }
    cc_sender_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        goto oom;
    s->loop = loop;
    if (options)
        s->options = *options;
    else
        cc_sender_options_default(&s->options);
    if (s->options.webhook_timeout_ms <= 0)
        s->options.webhook_timeout_ms = 15000;
    if (s->options.smtp_timeout_ms <= 0)
        s->options.smtp_timeout_ms = config->smtp_timeout_seconds > 0 ? config->smtp_timeout_seconds * 1000L : 60000;
    if (lane_init(&s->smtp, "smtp", CC_CHANNEL_EMAIL, s->options.lane_parallel) != 0)
        goto oom;
    if (s->options.file_channel && config->file_channel)
        s->file_dir = strdup(config->file_channel);
    cc_smtp_init(s, config);
    if (config->nwebhooks > 0 && (s->hooks = calloc(config->nwebhooks, sizeof(*s->hooks))) == NULL)
        goto oom;
    for (size_t i = 0; i < config->nwebhooks; i++) {
        const cc_webhook_config_t *w = &config->webhooks[i];
        cc_sender_lane_t *lane = &s->hooks[s->nhooks++];
        if (lane_init(lane, w->name, CC_CHANNEL_WEBHOOK, s->options.lane_parallel) != 0 ||
            (lane->url = strdup(w->url)) == NULL)
            goto oom;
        if (s->file_dir == NULL)
            cc_webhook_load_key(lane, w);
    }
    if ((s->multi = curl_multi_init()) == NULL)
        goto oom;
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timeout);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    uv_timer_init(loop, &s->timer);
    uv_timer_init(loop, &s->defer);
    s->timer.data = s->defer.data = s;
    s->open_handles = 2;
    *out = s;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    if (s != NULL) {
        if (s->multi)
            curl_multi_cleanup(s->multi);
        sender_free(s);
    }
    return CC_ENOMEM;
}

/* Fail every job of a lane (queued or in flight) with "interrupted". */
static void lane_abort(cc_sender_t *s, cc_sender_lane_t *lane, cc_send_job_t **head, cc_send_job_t **tail)
{
    for (int i = 0; i < lane->nslots; i++) {
        cc_sender_slot_t *slot = &lane->slots[i];
        if (slot->job == NULL)
            continue;
        curl_multi_remove_handle(s->multi, slot->easy);
        cc_sender_set_error(slot->job, CC_SEND_RETRY, "interrupted: careclock stopped while sending it");
        slot->job->next = NULL;
        if (*tail)
            (*tail)->next = slot->job;
        else
            *head = slot->job;
        *tail = slot->job;
        slot->job = NULL;
        lane->active--;
    }
    while (lane->head) {
        cc_send_job_t *job = lane->head;
        lane->head = job->next;
        cc_sender_set_error(job, CC_SEND_RETRY, "interrupted: careclock stopped before sending it");
        job->next = NULL;
        if (*tail)
            (*tail)->next = job;
        else
            *head = job;
        *tail = job;
    }
    lane->tail = NULL;
}

void cc_sender_close(cc_sender_t *s, void (*closed)(void *data), void *data)
{
    if (s == NULL) {
        if (closed)
            closed(data);
        return;
    }
    if (s->closing)
        return;
    s->closing = 1;
    s->closed = closed;
    s->closed_data = data;
    cc_send_job_t *head = s->deferred_head, *tail = s->deferred_tail;
    s->deferred_head = s->deferred_tail = NULL;
    /* Every open connection ends now: curl would otherwise say QUIT to an
     * SMTP server as it closes, and wait out the transfer timeout for the
     * answer of one that hangs (a run given up after 3 s took 60). */
    for (cc_sender_sock_t *sk = s->socks; sk != NULL; sk = sk->next)
        shutdown(sk->fd, SHUT_RDWR);
    lane_abort(s, &s->smtp, &head, &tail);
    for (size_t i = 0; i < s->nhooks; i++)
        lane_abort(s, &s->hooks[i], &head, &tail);
    /* Closes the cached connections; curl reports their sockets removed. */
    curl_multi_cleanup(s->multi);
    s->multi = NULL;
    while (s->socks != NULL)
        sock_close(s, s->socks);
    uv_timer_stop(&s->timer);
    uv_timer_stop(&s->defer);
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->defer, on_handle_closed);
    while (head != NULL) {
        cc_send_job_t *next = head->next;
        complete(s, head);
        head = next;
    }
}
