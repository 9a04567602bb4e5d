/* careclock deliveries test --to ADDRESS | --webhook NAME: one clearly
 * marked test message through the configured channel, with exactly what
 * the server answered and, when it refused, what to change. The message is
 * rendered by the same renderers as every reminder (core/message.c,
 * core/payload.c; cc_message_t.test) and sent by the same sender
 * (notify/sender.h) with its replies captured; nothing is written to the
 * database. Exit 0 when the server accepted it, 1 when it did not, 2 for a
 * bad argument or a channel that is not configured. */
#include "cli/cli.h"
#include "careclock/email.h"
#include "careclock/error.h"
#include "careclock/message.h"
#include "careclock/payload.h"
#include "careclock/sender.h"
#include "careclock/time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define TEST_USAGE "usage: careclock deliveries test --to ADDRESS | --webhook NAME\n"

typedef struct {
    cc_send_job_t job;
    int finished;
    int closed;
} test_send_t;

static void on_done(cc_send_job_t *job)
{
    ((test_send_t *)job->data)->finished = 1;
}

static void on_closed(void *data)
{
    ((test_send_t *)data)->closed = 1;
}

/* Where the message goes, in words, for the first line. */
static void describe_route(const cc_config_t *c, const char *to, const char *webhook, char *out, size_t len)
{
    char host[256];
    if (c->file_channel != NULL) {
        snprintf(out, len, "into %s ([notify] file_channel is set: messages are written as files there, not sent)",
                 c->file_channel);
        return;
    }
    if (webhook != NULL) {
        const cc_webhook_config_t *w = cc_config_webhook(c, webhook);
        const char *h = strstr(w->url, "://");
        h = h ? h + 3 : w->url;
        snprintf(host, sizeof(host), "%.*s", (int)strcspn(h, "/?#"), h);
        snprintf(out, len, "to webhook %s (%s format, %s, at %s)", webhook, cc_payload_format_name(w->format),
                 w->secret_file ? "signed" : "unsigned", host);
        return;
    }
    const char *h = strstr(c->smtp_url, "://");
    h = h ? h + 3 : c->smtp_url;
    const char *at = strchr(h, '@');
    if (at != NULL && at < h + strcspn(h, "/"))
        h = at + 1;
    snprintf(host, sizeof(host), "%.*s", (int)strcspn(h, "/?#"), h);
    snprintf(out, len, "to %s through %s%s (from %s, %s)", to, strncmp(c->smtp_url, "smtps", 5) == 0 ? "smtps://"
                                                                                                      : "smtp://",
             host, c->smtp_from, c->smtp_tls_required ? "TLS required" : "no TLS");
}

int cc_cli_deliveries_test(cc_cli_t *cli, int argc, char **argv)
{
    const char *to = NULL, *webhook = NULL;
    cc_cli_env_t env;
    cc_buf_t body;
    char id[256], err[512], route[700], explain[600], hostname[256] = "this machine";
    int status = CC_EXIT_FAIL, loop_made = 0;
    uv_loop_t loop;
    cc_sender_t *sender = NULL;
    test_send_t t;
    memset(&t, 0, sizeof(t));
    for (int i = 2; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--to") == 0 && to == NULL) {
            to = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--webhook") == 0 && webhook == NULL) {
            webhook = argv[++i];
        } else {
            fprintf(stderr, "careclock deliveries test: unknown or repeated option, or missing value: \"%s\"\n%s",
                    argv[i], TEST_USAGE);
            return CC_EXIT_USAGE;
        }
    }
    if ((to == NULL) == (webhook == NULL)) {
        fprintf(stderr, "careclock deliveries test: give one of --to ADDRESS and --webhook NAME\n%s", TEST_USAGE);
        return CC_EXIT_USAGE;
    }
    if (to != NULL && !cc_email_valid(to)) {
        fprintf(stderr, "careclock deliveries test: --to \"%s\" is not an email address\n", to);
        return CC_EXIT_USAGE;
    }
    int rc = cc_cli_env_load(cli, &env);
    if (rc != 0)
        return rc;
    cc_buf_init(&body);
    const cc_config_t *c = &env.config;
    if (webhook != NULL && cc_config_webhook(c, webhook) == NULL) {
        fprintf(stderr, "careclock deliveries test: no [webhook:%s] in %s; the webhooks configured:", webhook,
                cli->config_path ? cli->config_path : "the configuration");
        for (size_t i = 0; i < c->nwebhooks; i++)
            fprintf(stderr, " %s", c->webhooks[i].name);
        fprintf(stderr, "%s\n", c->nwebhooks ? "" : " none");
        status = CC_EXIT_USAGE;
        goto out;
    }
    if (to != NULL && c->file_channel == NULL && cc_config_email_unavailable(c) != NULL) {
        fprintf(stderr, "careclock deliveries test: %s: set [smtp] url and from (man careclock.conf)\n",
                cc_config_email_unavailable(c));
        status = CC_EXIT_USAGE;
        goto out;
    }

    /* The message: the renderers' own, marked as a test, no items. */
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    gethostname(hostname, sizeof(hostname) - 1);
    cc_message_context_t ctx = {.today = cli->today, .now = now, .utc_offset_minutes = (int)(tm.tm_gmtoff / 60),
                                .privacy = c->privacy, .from = c->smtp_from, .public_url = c->public_url,
                                .cal = env.cal};
    char instance[64];
    snprintf(instance, sizeof(instance), "test-%.40s", hostname);
    for (char *p = instance; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
            *p = '-';
    cc_message_t m = {.batch = (int64_t)now, .channel = to ? CC_CHANNEL_EMAIL : CC_CHANNEL_WEBHOOK,
                      .recipient = to ? to : webhook, .address = to ? to : webhook, .test = 1};
    m.message_id = cc_message_id(id, sizeof(id), m.channel, instance, m.batch, NULL, c->smtp_from);
    rc = to ? cc_message_email(&m, &ctx, &body, err, sizeof(err))
            : cc_payload_render(&m, cc_config_webhook(c, webhook)->format, &ctx, &body);
    if (rc != 0) {
        fprintf(stderr, "careclock deliveries test: %s\n", to ? err : cc_strerror(rc));
        goto out;
    }

    /* Sent as careclockd sends, on a private loop, the server's replies kept. */
    cc_sender_options_t opts;
    cc_sender_options_default(&opts);
    opts.capture_replies = 1;
    opts.reuse_connections = 0;
    if (uv_loop_init(&loop) != 0)
        goto out;
    loop_made = 1;
    if (cc_sender_new(&loop, c, &opts, &sender, err, sizeof(err)) != 0) {
        fprintf(stderr, "careclock deliveries test: %s\n", err);
        goto out;
    }
    describe_route(c, to, webhook, route, sizeof(route));
    printf("sending a test message %s\n", route);
    fflush(stdout);
    t.job.channel = m.channel;
    t.job.rcpt = to;
    t.job.webhook = webhook;
    t.job.message_id = m.message_id;
    t.job.body = cc_buf_str(&body);
    t.job.len = body.len;
    t.job.file_name = to ? "careclock-test.eml" : "careclock-test.json";
    t.job.done = on_done;
    t.job.data = &t;
    if (cc_sender_send(sender, &t.job) != 0)
        goto out;
    while (!t.finished && uv_run(&loop, UV_RUN_ONCE) != 0)
        ;
    if (!t.finished) {
        fprintf(stderr, "careclock deliveries test: the send did not finish\n");
        goto out;
    }
    if (t.job.result == CC_SEND_OK) {
        if (c->file_channel != NULL)
            printf("written: %s/%s\n", c->file_channel, t.job.file_name);
        else
            printf("accepted: the server answered: %s\n", t.job.reply[0] ? t.job.reply : "(nothing more)");
        printf("Message-ID: %s\n", m.message_id);
        status = CC_EXIT_OK;
    } else {
        fprintf(stderr, "not delivered: %s\n", t.job.error);
        if (t.job.reply[0])
            fprintf(stderr, "the server answered: %s\n", t.job.reply);
        fprintf(stderr, "what to do: %s\n", cc_sender_explain(&t.job, explain, sizeof(explain)));
    }
out:
    if (sender != NULL) {
        cc_sender_close(sender, on_closed, &t);
        while (!t.closed && uv_run(&loop, UV_RUN_ONCE) != 0)
            ;
    }
    if (loop_made) {
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    cc_buf_free(&body);
    cc_cli_env_free(&env);
    return status;
}
