/* Email jobs of the sender: the SMTP lane's settings and password, the
 * transfer, the outcome. See notify/sender_internal.h.
 *
 * Design notes:
 *  - All email goes down one lane ("smtp"), so a batch of messages shares
 *    one connection (the multi handle's connection cache keeps it open
 *    between transfers on the lane's reused easy handle).
 *  - The password is read once, when the sender is made (a reload makes a
 *    new sender), held in memory only, and wiped with OPENSSL_cleanse
 *    before it is freed.
 *  - The body is uploaded from job->body in place (on_read, job->offset):
 *    never copied, and the same bytes on every attempt.
 */
#include "notify/sender_internal.h"
#include "careclock/error.h"
#include "careclock/log.h"

#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int host_name_chars(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < 254 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

void cc_smtp_helo(const char *configured, const char *from, char *out, size_t len)
{
    char host[256];
    struct addrinfo hints, *res = NULL;
    out[0] = '\0';
    if (configured != NULL && configured[0] != '\0') {
        snprintf(out, len, "%s", configured);
        return;
    }
    /* The host's fully qualified name: relays that check it
     * (reject_non_fqdn_helo_hostname) refuse a short one with 504. */
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_CANONNAME;
        if (getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL && res->ai_canonname != NULL &&
            strchr(res->ai_canonname, '.') != NULL && host_name_chars(res->ai_canonname))
            snprintf(out, len, "%s", res->ai_canonname);
        if (res != NULL)
            freeaddrinfo(res);
        if (out[0] == '\0' && strchr(host, '.') != NULL && host_name_chars(host))
            snprintf(out, len, "%s", host);
    }
    if (out[0] == '\0') {
        /* No qualified name: the sender's domain, a name the relay's DNS
         * knows and that belongs to the council. */
        const char *at = from ? strrchr(from, '@') : NULL;
        snprintf(out, len, "%s", at && at[1] && host_name_chars(at + 1) ? at + 1 : "localhost.localdomain");
    }
}

/* url with its path set to helo: curl sends the URL's path as the EHLO
 * name (its SMTP documentation), and without one the short host name. */
static char *url_with_helo(const char *url, const char *helo)
{
    const char *scheme = strstr(url, "://");
    const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
    size_t keep = slash ? (size_t)(slash - url) : strlen(url);
    size_t len = keep + 1 + strlen(helo) + 1;
    char *out = malloc(len);
    if (out != NULL)
        snprintf(out, len, "%.*s/%s", (int)keep, url, helo);
    return out;
}

void cc_smtp_init(cc_sender_t *s, const cc_config_t *config)
{
    char helo[256];
    cc_smtp_helo(config->smtp_helo, config->smtp_from, helo, sizeof(helo));
    s->smtp_url = config->smtp_url ? url_with_helo(config->smtp_url, helo) : NULL;
    s->smtp_from = dup_or_null(config->smtp_from);
    s->smtp_user = dup_or_null(config->smtp_username);
    s->smtp_tls_required = config->smtp_tls_required;
    if (config->smtp_url != NULL && config->smtp_password_file != NULL && s->file_dir == NULL) {
        int rc = cc_sender_read_secret(config->smtp_password_file, &s->smtp_password);
        if (rc != 0) {
            char msg[600];
            snprintf(msg, sizeof(msg), "cannot read [smtp] password_file %s: %s", config->smtp_password_file,
                     rc == CC_EIO ? strerror(errno) : cc_strerror(rc));
            s->smtp_error = strdup(msg);
            cc_log(CC_LOG_ERR, "%s: email is held until it is fixed", msg);
        }
    }
}

void cc_smtp_free(cc_sender_t *s)
{
    free(s->smtp_url);
    free(s->smtp_from);
    free(s->smtp_user);
    if (s->smtp_password) {
        OPENSSL_cleanse(s->smtp_password, strlen(s->smtp_password));
        free(s->smtp_password);
    }
    free(s->smtp_error);
    s->smtp_url = s->smtp_from = s->smtp_user = s->smtp_password = s->smtp_error = NULL;
}

cc_sender_lane_t *cc_smtp_lane(cc_sender_t *s, cc_send_job_t *job)
{
    if (s->smtp_url == NULL || s->smtp_from == NULL) {
        cc_sender_set_error(job, CC_SEND_RETRY, "email is not configured ([smtp] url and from)");
        return NULL;
    }
    if (s->smtp_error != NULL) {
        cc_sender_set_error(job, CC_SEND_RETRY, "%s", s->smtp_error);
        return NULL;
    }
    return &s->smtp;
}

/* The upload: the next part of job's body. */
static size_t on_read(char *buffer, size_t size, size_t nitems, void *userp)
{
    cc_send_job_t *job = userp;
    size_t room = size * nitems, left = job->len - job->offset;
    size_t n = left < room ? left : room;
    memcpy(buffer, job->body + job->offset, n);
    job->offset += n;
    return n;
}

int cc_smtp_setup(cc_sender_t *s, cc_sender_slot_t *slot, cc_send_job_t *job)
{
    assert(s->smtp_url != NULL && s->smtp_from != NULL); /* cc_smtp_lane let it through */
    CURL *e = slot->easy;
    char rcpt[600];
    snprintf(rcpt, sizeof(rcpt), "<%s>", job->rcpt);
    slot->list = curl_slist_append(NULL, rcpt);
    if (slot->list == NULL)
        return CC_ENOMEM;
    char from[600];
    snprintf(from, sizeof(from), "<%s>", s->smtp_from);
    curl_easy_setopt(e, CURLOPT_URL, s->smtp_url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_USE_SSL, (long)(s->smtp_tls_required ? CURLUSESSL_ALL : CURLUSESSL_NONE));
    if (s->smtp_user != NULL) {
        curl_easy_setopt(e, CURLOPT_USERNAME, s->smtp_user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, s->smtp_password ? s->smtp_password : "");
    }
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, slot->list);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, job);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)job->len);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->options.smtp_timeout_ms);
    return 0;
}

/* 530-538: authentication failures, worth retrying once fixed. */
static int auth_code(long code)
{
    return code >= 530 && code <= 538;
}

void cc_smtp_classify(cc_send_job_t *job, CURLcode res, long code, const char *detail)
{
    if (res == CURLE_OK)
        job->result = CC_SEND_OK;
    else if (code >= 500 && code < 600 && !auth_code(code))
        cc_sender_set_error(job, CC_SEND_FAILED, "the mail server refused it (%ld): %s", code, detail);
    else if (res == CURLE_USE_SSL_FAILED)
        cc_sender_set_error(job, CC_SEND_RETRY,
                            "the mail server does not offer STARTTLS and [smtp] tls = required: %s", detail);
    else if (code > 0)
        cc_sender_set_error(job, CC_SEND_RETRY, "SMTP reply %ld: %s", code, detail);
    else
        cc_sender_set_error(job, CC_SEND_RETRY, "%s", detail);
}

void cc_smtp_explain(const cc_send_job_t *job, char *out, size_t len)
{
    long code = job->code;
    if (code == 535)
        snprintf(out, len, "the server refused the user name or password: check [smtp] username and password_file");
    else if (code == 530)
        snprintf(out, len, "the server wants a user name and password: set [smtp] username and password_file");
    else if (code == 534 || code == 538)
        snprintf(out, len, "the server wants a stronger way to log in, or TLS first: use tls = required or an "
                           "smtps:// url, and ask the relay's administrator which mechanism it allows");
    else if (code >= 530 && code <= 538)
        snprintf(out, len, "the server refused to authenticate careclock: check [smtp] username and password_file "
                           "with the relay's administrator");
    else if (code == 550 || code == 551 || code == 553)
        snprintf(out, len, "the server refused the address (or careclock's right to send there): check the "
                           "address, and that the relay accepts mail from [smtp] from");
    else if (code == 552 || code == 554)
        snprintf(out, len, "the server refused the message: its reply says why; the relay's administrator can "
                           "look it up in the relay's log");
    else if (code == 421 || code == 450 || code == 451 || code == 452)
        snprintf(out, len, "the server deferred it (a temporary refusal): careclock retries such messages; if it "
                           "goes on, ask the relay's administrator");
    else if (code >= 500 && code < 600)
        snprintf(out, len, "the server refused it (a permanent SMTP error): its reply says why");
    else if (code >= 400 && code < 500)
        snprintf(out, len, "the server deferred it (a temporary SMTP error): careclock retries such messages");
    else if (strstr(job->error, "STARTTLS") != NULL)
        snprintf(out, len, "the server does not offer STARTTLS: use an smtps:// url (TLS from the first byte) if "
                           "it listens on 465, or tls = none only for a relay on this machine");
    else if (strstr(job->error, "password_file") != NULL || strstr(job->error, "not configured") != NULL)
        snprintf(out, len, "fix the configuration ([smtp]), then check it with careclock config check");
    else if (strstr(job->error, "SSL") != NULL || strstr(job->error, "certificate") != NULL ||
             strstr(job->error, "TLS") != NULL)
        snprintf(out, len, "TLS with the server failed: its certificate must be valid for the host in [smtp] url "
                           "and trusted by this machine (ca-certificates)");
    else
        snprintf(out, len, "careclock could not talk to the server: check the host and port of [smtp] url, and "
                           "that this machine may reach it (firewall)");
}
