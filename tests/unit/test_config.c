/* Unit tests for daemon/config/config.c: what the configuration reader refuses,
 * each with FILE:LINE: key. Cases found by fuzzing (tests/fuzz/fuzz_config.c,
 * tests/fuzz/fuzz_email.c) are marked so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/config.h"
#include "careclock/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Load text as a configuration file; returns the code, err filled. */
static int load(const char *text, cc_config_t *c, char *err, size_t errlen)
{
    char path[] = "/tmp/careclock-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(cc_config_defaults(c), 0);
    int rc = cc_config_load(c, path, err, errlen);
    unlink(path);
    return rc;
}

static void refused(const char *text, const char *where, const char *what)
{
    cc_config_t c;
    char err[1024] = "";
    assert_int_equal(load(text, &c, err, sizeof(err)), CC_EPARSE);
    if (strstr(err, where) == NULL || strstr(err, what) == NULL)
        fail_msg("expected \"%s\" and \"%s\" in: %s", where, what, err);
    cc_config_free(&c);
}

static void test_accepted(void **state)
{
    cc_config_t c;
    char err[1024] = "";
    (void)state;
    assert_int_equal(load("[smtp]\nurl = smtp://127.0.0.1:25\nfrom = careclock@council.example\ntls = none\n"
                          "[webhook:east]\nurl = https://hooks.example/east\nformat = slack\n",
                          &c, err, sizeof(err)),
                     0);
    assert_string_equal(c.smtp_from, "careclock@council.example");
    assert_int_equal(c.nwebhooks, 1);
    assert_int_equal(c.webhooks[0].format, CC_WEBHOOK_SLACK);
    cc_config_free(&c);
}

/* Found by fuzz_email: a non-ASCII sender went into the From header and
 * the Message-ID of a 7-bit message. */
static void test_sender_must_be_ascii(void **state)
{
    (void)state;
    refused("[smtp]\nfrom = caf\xc3\xa9@council.example\n", ":2: from", "not an ASCII address");
    refused("[smtp]\nfrom = careclock\n", ":2: from", "not an email address");
}

static void test_secrets_never_in_the_file(void **state)
{
    (void)state;
    refused("[smtp]\npassword = hunter2\n", ":2: password", "password_file");
    refused("[webhook:east]\nsecret = whsec_x\n", ":2: secret", "secret_file");
    /* In the URL either (issue 19), and never echoed. */
    refused("[smtp]\nurl = smtp://u:hunter2@mail.example:587\n", ":2: url", "password_file");
    refused("[smtp]\nurl = smtps://u;AUTH=PLAIN:hunter2@mail.example\n", ":2: url", "holds a password");
    cc_config_t c;
    char err[1024] = "";
    assert_int_equal(load("[smtp]\nurl = smtp://u:hunter2@mail.example:587\n", &c, err, sizeof(err)), CC_EPARSE);
    assert_null(strstr(err, "hunter2"));
    cc_config_free(&c);
}

/* The [http] and [careclockd] keys of issue 19. */
static void test_http_limits_and_health(void **state)
{
    cc_config_t c;
    char err[1024] = "";
    (void)state;
    assert_int_equal(load("[http]\nadmin_listen = 127.0.0.1:9999\nrequest_timeout = 3\n"
                          "max_connections_per_client = 0\n[careclockd]\nunhealthy_after = 7\n",
                          &c, err, sizeof(err)),
                     0);
    assert_string_equal(c.admin_listen, "127.0.0.1:9999");
    assert_int_equal(c.http_request_seconds, 3);
    assert_int_equal(c.http_max_per_client, 0);
    assert_int_equal(c.unhealthy_after_seconds, 7);
    cc_config_free(&c);
    assert_int_equal(load("[http]\nadmin_listen = off\n", &c, err, sizeof(err)), 0);
    assert_null(c.admin_listen);
    cc_config_free(&c);
    refused("[http]\nadmin_listen = nowhere\n", ":2: admin_listen", "or off");
    refused("[http]\nrequest_timeout = 0\n", ":2: request_timeout", "from 1 to 3600");
    refused("[careclockd]\nunhealthy_after = 0\n", ":2: unhealthy_after", "from 1 to 86400");
}

static void test_control_characters_and_limits(void **state)
{
    (void)state;
    refused("[smtp]\nurl = smtp://a\x01" "b\n", ":2: url", "control characters");
    refused("[http]\nlisten = 127.0.0.1:99999\n", ":2: listen", "ADDRESS:PORT");
    refused("[http]\nmax_connections = 0\n", ":2: max_connections", "from 1 to 100000");
    refused("[notify]\nwindow = 18:00-08:00\n", ":2: window", "start first");
    refused("[webhook:east]\nformat = teams\n", "[webhook:east]", "url is required");
    refused("[nowhere]\nx = 1\n", ":2: x", "unknown section");
}

/* A key set twice in one section is refused with both lines; rules and
 * holidays may repeat (each line adds files). */
static void test_duplicate_keys(void **state)
{
    cc_config_t c;
    char err[1024] = "";
    (void)state;
    refused("[notify]\nwindow = 08:00-18:00\ndigest = yes\nwindow = 09:00-17:00\n", ":4: window",
            "set twice in [notify] (first at line 2)");
    refused("[webhook:a]\nurl = https://a.example/\n[webhook:a]\nurl = https://b.example/\n", ":4: url",
            "set twice in [webhook:a] (first at line 2)");
    assert_int_equal(load("[careclock]\nrules = a.rules\nrules = b.rules\n[smtp]\nfrom = x@y.example\n", &c, err,
                          sizeof(err)),
                     0);
    assert_int_equal(c.nrules, 2);
    assert_int_equal(cc_config_line(&c, "smtp", "from"), 5);
    assert_int_equal(cc_config_line(&c, "smtp", "url"), 0);
    cc_config_free(&c);
}

/* A directory is not a configuration file, and says which file to give. */
static void test_directory_refused(void **state)
{
    cc_config_t c;
    char err[1024] = "";
    (void)state;
    assert_int_equal(cc_config_defaults(&c), 0);
    assert_int_equal(cc_config_load(&c, "/tmp", err, sizeof(err)), CC_EPARSE);
    assert_string_equal(err, "/tmp is a directory, not a configuration file: name the file (/tmp/careclock.conf)");
    assert_int_equal(cc_config_load(&c, "/nonexistent/careclock.conf", err, sizeof(err)), CC_EIO);
    assert_non_null(strstr(err, "No such file or directory"));
    cc_config_free(&c);
}

/* --config wins over $CARECLOCK_CONFIG, which wins over the default path;
 * an empty variable counts as unset. */
static void test_locate(void **state)
{
    const char *path = NULL;
    (void)state;
    assert_int_equal(cc_config_locate("/a.conf", "/b.conf", &path), CC_CONFIG_FROM_OPTION);
    assert_string_equal(path, "/a.conf");
    assert_int_equal(cc_config_locate(NULL, "/b.conf", &path), CC_CONFIG_FROM_ENV);
    assert_string_equal(path, "/b.conf");
    cc_config_source_t s = cc_config_locate(NULL, "", &path);
    if (access(cc_config_default_path(), F_OK) == 0) {
        assert_int_equal(s, CC_CONFIG_FROM_DEFAULT);
        assert_string_equal(path, cc_config_default_path());
    } else {
        assert_int_equal(s, CC_CONFIG_BUILTIN);
        assert_null(path);
    }
}

/* config show: secrets elided, defaults marked, the file's keys plain. */
static void test_show(void **state)
{
    cc_config_t c;
    char err[1024] = "", *text = NULL;
    size_t len = 0;
    (void)state;
    assert_int_equal(load("[smtp]\nurl = smtps://u@mail.example:465\nfrom = a@b.example\n"
                          "[webhook:w]\nurl = https://hooks.slack.com/services/T0/B0/SECRETPATH?sig=SECRETSIG\n",
                          &c, err, sizeof(err)),
                     0);
    FILE *out = open_memstream(&text, &len);
    cc_config_show(&c, 0, out);
    fclose(out);
    assert_null(strstr(text, "hunter2"));
    assert_null(strstr(text, "SECRETPATH"));
    assert_null(strstr(text, "SECRETSIG"));
    assert_non_null(strstr(text, "url = smtps://u@mail.example:465\n"));
    assert_non_null(strstr(text, "url = https://hooks.slack.com/...(elided)\n"));
    assert_non_null(strstr(text, "from = a@b.example\n"));
    assert_non_null(strstr(text, "window = 08:00-18:00"));
    assert_non_null(strstr(text, "; default\n"));
    free(text);
    cc_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_sender_must_be_ascii),
        cmocka_unit_test(test_secrets_never_in_the_file),
        cmocka_unit_test(test_http_limits_and_health),
        cmocka_unit_test(test_control_characters_and_limits),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_directory_refused),
        cmocka_unit_test(test_locate),
        cmocka_unit_test(test_show),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
