/* Webhook jobs of the sender: the endpoint's signing key, the request
 * with its Standard Webhooks headers, Retry-After, the outcome. See
 * notify/sender_internal.h; the payload and the signature itself are
 * core/payload.c.
 *
 * Design notes:
 *  - One lane per endpoint, so an endpoint is never sent two requests at
 *    once (lane_parallel 1, the default) and a slow one holds up no other.
 *  - webhook-id and Idempotency-Key are the message id, the same on every
 *    attempt; webhook-timestamp is the machine's clock when the request is
 *    made (receivers compare it with theirs), never careclockd's --now.
 *  - The key is read and decoded once, when the sender is made, and wiped
 *    when the lane is freed (notify/sender.c, lane_free).
 *  - Redirects are not followed: a moved endpoint is a url to correct,
 *    and the job fails saying so.
 */
#include "notify/sender_internal.h"
#include "careclock/error.h"
#include "careclock/log.h"

#include <assert.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void cc_webhook_load_key(cc_sender_lane_t *lane, const cc_webhook_config_t *w)
{
    char *text = NULL, msg[512];
    if (w->secret_file == NULL)
        return;
    int rc = cc_sender_read_secret(w->secret_file, &text);
    if (rc != 0)
        snprintf(msg, sizeof(msg), "cannot read the secret_file of webhook %s (%s): %s", w->name, w->secret_file,
                 rc == CC_EIO ? strerror(errno) : cc_strerror(rc));
    else if (cc_payload_secret_decode(text, lane->key, &lane->keylen) != 0)
        snprintf(msg, sizeof(msg), "the secret_file of webhook %s is not a Standard Webhooks secret (whsec_ then "
                                   "base64)",
                 w->name);
    if (text) {
        OPENSSL_cleanse(text, strlen(text));
        free(text);
    }
    if (rc != 0 || lane->keylen == 0) {
        lane->key_error = strdup(msg);
        cc_log(CC_LOG_ERR, "%s: webhooks to it are held until it is fixed", msg);
    }
}

static cc_sender_lane_t *find_hook(cc_sender_t *s, const char *name)
{
    for (size_t i = 0; name && i < s->nhooks; i++)
        if (strcmp(s->hooks[i].name, name) == 0)
            return &s->hooks[i];
    return NULL;
}

cc_sender_lane_t *cc_webhook_lane(cc_sender_t *s, cc_send_job_t *job)
{
    cc_sender_lane_t *lane = find_hook(s, job->webhook);
    if (lane == NULL) {
        cc_sender_set_error(job, CC_SEND_RETRY, "webhook \"%s\" is not in the configuration",
                            job->webhook ? job->webhook : "");
        return NULL;
    }
    if (lane->key_error != NULL) {
        cc_sender_set_error(job, CC_SEND_RETRY, "%s", lane->key_error);
        return NULL;
    }
    return lane;
}

/* Seconds from a Retry-After value: a number, or an HTTP date. */
static long parse_retry_after(const char *value)
{
    char *end;
    long n = strtol(value, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    if (end != value && *end == '\0')
        return n < 0 ? 0 : n;
    time_t when = curl_getdate(value, NULL);
    if (when == (time_t)-1)
        return -1;
    long delta = (long)(when - time(NULL));
    return delta < 0 ? 0 : delta;
}

static size_t on_header(char *buffer, size_t size, size_t nitems, void *userp)
{
    cc_send_job_t *job = userp;
    size_t len = size * nitems;
    static const char name[] = "retry-after:";
    if (len > sizeof(name) - 1 && strncasecmp(buffer, name, sizeof(name) - 1) == 0) {
        char value[128];
        size_t vlen = len - (sizeof(name) - 1);
        if (vlen >= sizeof(value))
            vlen = sizeof(value) - 1;
        memcpy(value, buffer + sizeof(name) - 1, vlen);
        value[vlen] = '\0';
        char *v = value;
        while (*v == ' ' || *v == '\t')
            v++;
        job->retry_after = parse_retry_after(v);
    }
    return len;
}

int cc_webhook_setup(cc_sender_t *s, cc_sender_lane_t *lane, cc_sender_slot_t *slot, cc_send_job_t *job)
{
    assert(lane->url != NULL && lane->key_error == NULL); /* cc_webhook_lane let it through */
    CURL *e = slot->easy;
    char header[512], signature[128];
    long long stamp = (long long)time(NULL);
    struct curl_slist *list = NULL, *grown;
#define ADD(text)                                   \
    do {                                            \
        if ((grown = curl_slist_append(list, text)) == NULL) { \
            curl_slist_free_all(list);              \
            return CC_ENOMEM;                       \
        }                                           \
        list = grown;                               \
    } while (0)
    ADD("Content-Type: application/json");
    ADD("Expect:");
    snprintf(header, sizeof(header), "webhook-id: %s", job->message_id);
    ADD(header);
    snprintf(header, sizeof(header), "webhook-timestamp: %lld", stamp);
    ADD(header);
    if (lane->keylen > 0) {
        if (cc_payload_sign(lane->key, lane->keylen, job->message_id, stamp, job->body, job->len, signature,
                            sizeof(signature)) != 0) {
            curl_slist_free_all(list);
            return CC_ENOMEM;
        }
        snprintf(header, sizeof(header), "webhook-signature: %s", signature);
        ADD(header);
    }
    snprintf(header, sizeof(header), "Idempotency-Key: %s", job->message_id);
    ADD(header);
#undef ADD
    slot->list = list;
    curl_easy_setopt(e, CURLOPT_URL, lane->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, job->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)job->len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, job);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->options.webhook_timeout_ms);
    return 0;
}

void cc_webhook_classify(cc_send_job_t *job, CURLcode res, long code, const char *detail)
{
    if (res != CURLE_OK) {
        cc_sender_set_error(job, CC_SEND_RETRY, "%s", detail);
    } else if (code >= 200 && code < 300) {
        job->result = CC_SEND_OK;
    } else if (code == 410) {
        cc_sender_set_error(job, CC_SEND_GONE, "the endpoint answered 410 Gone");
    } else if (code == 408 || code == 429 || (code >= 500 && code < 600)) {
        cc_sender_set_error(job, CC_SEND_RETRY, "the endpoint answered %ld", code);
    } else if (code >= 300 && code < 400) {
        cc_sender_set_error(job, CC_SEND_FAILED, "the endpoint answered %ld (a redirect, which careclock does not "
                                                 "follow: correct the url)",
                            code);
    } else {
        cc_sender_set_error(job, CC_SEND_FAILED, "the endpoint answered %ld", code);
    }
}

void cc_webhook_explain(const cc_send_job_t *job, char *out, size_t len)
{
    long code = job->code;
    if (code == 401 || code == 403)
        snprintf(out, len, "the endpoint refused careclock (HTTP %ld): check [webhook] url (a workflow's or hook's "
                           "URL carries its own key) and, if the receiver checks signatures, secret_file",
                 code);
    else if (code == 404)
        snprintf(out, len, "there is no such endpoint (HTTP 404): check [webhook] url");
    else if (code == 410)
        snprintf(out, len, "the endpoint is gone (HTTP 410): the channel's workflow or hook was deleted; make a "
                           "new one, put its url in the configuration, then careclock deliveries enable-webhook");
    else if (code == 408 || code == 429 || (code >= 500 && code < 600))
        snprintf(out, len, "the endpoint failed or is busy (HTTP %ld): careclock retries such deliveries; if it "
                           "goes on, look at the receiver",
                 code);
    else if (code >= 300 && code < 400)
        snprintf(out, len, "the endpoint redirects (HTTP %ld), which careclock does not follow: put the final "
                           "address in [webhook] url",
                 code);
    else if (code >= 400 && code < 500)
        snprintf(out, len, "the endpoint refused the request (HTTP %ld): check [webhook] url and format", code);
    else if (strstr(job->error, "secret_file") != NULL || strstr(job->error, "configuration") != NULL)
        snprintf(out, len, "fix the configuration ([webhook]), then check it with careclock config check");
    else
        snprintf(out, len, "careclock could not reach the endpoint: check the host in [webhook] url and that this "
                           "machine may reach it (firewall, proxy)");
}
