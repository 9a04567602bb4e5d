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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_sender_must_be_ascii),
        cmocka_unit_test(test_secrets_never_in_the_file),
        cmocka_unit_test(test_control_characters_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
