/* Sustained delivery rate of careclock's channels (daemon/notify/sender.c): N
 * rendered messages queued on the sender at once, sent through the libcurl
 * multi interface on a libuv loop to a local SMTP server (aiosmtpd) or a
 * local webhook receiver (Python http.server), timed from the first queue
 * to the last completion.
 *
 *   bench_delivery --channel email|webhook --url URL --messages N
 *                  [--reuse 1|0] [--parallel P] [--secret whsec_...]
 *
 * The message is what careclock sends: a three-child digest rendered by
 * cc_message_email (about 5 kB) or cc_payload_render (generic JSON, about
 * 2 kB, signed when --secret is given, a new webhook-id per message).
 * --reuse 0 forbids connection reuse (a new TCP connection, and for SMTP a
 * new EHLO and AUTH-less session, per message). Prints one line of results.
 * A benchmark, not a test: it measures and prints. */
#include "careclock/buf.h"
#include "careclock/calendar.h"
#include "careclock/config.h"
#include "careclock/error.h"
#include "careclock/message.h"
#include "careclock/payload.h"
#include "careclock/sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

typedef struct {
    cc_send_job_t job;
    char id[64];
} bench_job_t;

static size_t g_done, g_failed;
static char g_first_error[256];

static void on_done(cc_send_job_t *job)
{
    g_done++;
    if (job->result != CC_SEND_OK) {
        if (g_failed++ == 0)
            snprintf(g_first_error, sizeof(g_first_error), "%s", job->error);
    }
}

static void on_closed(void *data)
{
    (void)data;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *channel = "email", *url = NULL, *secret_file = NULL;
    long messages = 1000, reuse = 1, parallel = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--channel") == 0)
            channel = argv[i + 1];
        else if (strcmp(argv[i], "--url") == 0)
            url = argv[i + 1];
        else if (strcmp(argv[i], "--messages") == 0)
            messages = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--reuse") == 0)
            reuse = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--parallel") == 0)
            parallel = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--secret-file") == 0)
            secret_file = argv[i + 1];
    }
    if (url == NULL || messages < 1) {
        fprintf(stderr, "usage: bench_delivery --channel email|webhook --url URL --messages N [--reuse 1|0] "
                        "[--parallel P] [--secret-file FILE]\n");
        return 2;
    }
    int email = strcmp(channel, "email") == 0;
    cc_config_t config;
    cc_config_defaults(&config);
    if (email) {
        config.smtp_url = strdup(url);
        config.smtp_from = strdup("careclock@council.example");
        config.smtp_tls_required = 0;
    } else {
        config.webhooks[0].name = strdup("bench");
        config.webhooks[0].url = strdup(url);
        config.webhooks[0].format = CC_WEBHOOK_GENERIC;
        config.webhooks[0].secret_file = secret_file ? strdup(secret_file) : NULL;
        config.nwebhooks = 1;
    }

    /* One realistic message: a digest of three children. */
    cc_date_t due = cc_date_from_ymd(2026, 12, 28);
    cc_message_item_t items[3];
    const char *children[] = {"C1001", "C1002", "C1003"};
    for (int i = 0; i < 3; i++) {
        cc_message_item_t it = {.delivery_id = i + 1, .kind = CC_NOTICE_ESCALATION, .stage = "+1wd", .stage_date = CC_DATE_NONE,
                                .role = CC_ROLE_TEAM_MANAGER, .child_id = children[i], .initials = "A.B.",
                                .rule_id = "sgo_report", .title = "Special guardianship report",
                                .source = "local guidance (legal requirement stated there): SGO report within 12 "
                                          "weeks of notice of an application",
                                .seq = 1, .due = due - i, .status = CC_STATUS_OVERDUE, .met_on = CC_DATE_NONE,
                                .worker_name = "Wendy Worker", .team_id = "T1", .team_name = "Children in care east"};
        items[i] = it;
    }
    cc_message_t m = {.batch = 1, .message_id = email ? "<cc-bench-1@council.example>" : "msg_cc-bench-1",
                      .channel = email ? CC_CHANNEL_EMAIL : CC_CHANNEL_WEBHOOK, .recipient = "TM1",
                      .recipient_name = "Tom Manager", .address = email ? "tm1@council.example" : "bench",
                      .items = items, .nitems = 3};
    cc_message_context_t ctx = {.today = cc_date_from_ymd(2026, 12, 29), .now = time(NULL),
                                .privacy = CC_PRIVACY_INITIALS, .from = "careclock@council.example"};
    cc_buf_t body;
    char err[256];
    cc_buf_init(&body);
    int rc = email ? cc_message_email(&m, &ctx, &body, err, sizeof(err))
                   : cc_payload_render(&m, CC_WEBHOOK_GENERIC, &ctx, &body);
    if (rc != 0) {
        fprintf(stderr, "render: %s\n", cc_strerror(rc));
        return 1;
    }

    uv_loop_t loop;
    uv_loop_init(&loop);
    cc_sender_options_t options;
    cc_sender_options_default(&options);
    options.reuse_connections = (int)reuse;
    options.lane_parallel = (int)parallel;
    options.file_channel = 0;
    cc_sender_t *sender = NULL;
    if (cc_sender_new(&loop, &config, &options, &sender, err, sizeof(err)) != 0) {
        fprintf(stderr, "sender: %s\n", err);
        return 1;
    }
    bench_job_t *jobs = calloc((size_t)messages, sizeof(*jobs));
    double t0 = now_s();
    for (long i = 0; i < messages; i++) {
        bench_job_t *j = &jobs[i];
        snprintf(j->id, sizeof(j->id), "msg_cc-bench-%ld", i + 1);
        j->job.channel = m.channel;
        j->job.rcpt = "tm1@council.example";
        j->job.webhook = "bench";
        j->job.message_id = j->id;
        j->job.body = body.data;
        j->job.len = body.len;
        j->job.done = on_done;
        cc_sender_send(sender, &j->job);
    }
    while (g_done < (size_t)messages)
        uv_run(&loop, UV_RUN_ONCE);
    double elapsed = now_s() - t0;
    cc_sender_close(sender, on_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    printf("%-7s reuse=%ld parallel=%ld messages=%ld bytes=%zu failed=%zu seconds=%.3f rate=%.0f msg/s%s%s\n",
           channel, reuse, parallel, messages, body.len, g_failed, elapsed, (double)messages / elapsed,
           g_failed ? " first error: " : "", g_failed ? g_first_error : "");
    free(jobs);
    cc_buf_free(&body);
    cc_config_free(&config);
    return g_failed ? 1 : 0;
}
