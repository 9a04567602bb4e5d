/* Fuzz target: the configuration file (cc_config_load over the defaults),
 * written to a memory file whose /proc/self/fd path the loader opens.
 * Invariants: a loaded configuration keeps its limits (lists bounded, the
 * sending window ordered, webhooks named and with a URL, numbers in range)
 * and no value that reaches a header or a URL holds a control character;
 * a refused one says where, by file and line. */
#include "fuzz_common.h"

#include "careclock/config.h"
#include "careclock/error.h"

static void no_controls(const char *what, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
        FZ_CHECK(*p >= 0x20 && *p != 0x7f, "%s holds control character 0x%02x", what, *p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_file_t file;
    cc_config_t c;
    char err[1024];
    if (fz_file(&file, data, size) != 0)
        return 0;
    if (cc_config_defaults(&c) != 0)
        abort();
    err[0] = '\0';
    int rc = cc_config_load(&c, file.path, err, sizeof(err));
    FZ_CHECK(rc == 0 || rc == CC_EPARSE, "rc %d (%s)", rc, err);
    if (rc == 0) {
        FZ_CHECK(c.nrules <= CC_CONFIG_MAX_FILES && c.nholidays <= CC_CONFIG_MAX_FILES, "lists too long");
        FZ_CHECK(c.nwebhooks <= CC_CONFIG_MAX_WEBHOOKS, "webhooks %zu", c.nwebhooks);
        for (size_t i = 0; i < c.nrules; i++)
            FZ_CHECK(c.rules[i] != NULL, "rules[%zu] NULL", i);
        for (size_t i = 0; i < c.nholidays; i++)
            FZ_CHECK(c.holidays[i] != NULL, "holidays[%zu] NULL", i);
        FZ_CHECK(c.window_start_minute >= 0 && c.window_start_minute < c.window_end_minute &&
                     c.window_end_minute <= 24 * 60,
                 "window %d-%d", c.window_start_minute, c.window_end_minute);
        FZ_CHECK(c.http_max_connections >= 1 && c.http_timeout_seconds >= 1, "http limits");
        FZ_CHECK(c.recompute_interval_ms >= 10 && c.shutdown_grace_seconds >= 0, "daemon limits");
        FZ_CHECK(c.listen && c.timezone && c.division && c.holiday_dir, "a default lost");
        no_controls("listen", c.listen);
        no_controls("public_url", c.public_url);
        no_controls("smtp url", c.smtp_url);
        no_controls("smtp from", c.smtp_from);
        no_controls("smtp username", c.smtp_username);
        for (size_t i = 0; i < c.nwebhooks; i++) {
            FZ_CHECK(c.webhooks[i].name && c.webhooks[i].name[0], "webhook %zu without a name", i);
            FZ_CHECK(c.webhooks[i].url != NULL, "webhook %s without a url", c.webhooks[i].name);
            no_controls("webhook name", c.webhooks[i].name);
            no_controls("webhook url", c.webhooks[i].url);
            FZ_CHECK(cc_config_webhook(&c, c.webhooks[i].name) == &c.webhooks[i], "webhook %s twice",
                     c.webhooks[i].name);
        }
        /* careclock config show over whatever loaded: no crash, no overrun. */
        char *shown = NULL;
        size_t shown_len = 0;
        FILE *out = open_memstream(&shown, &shown_len);
        if (out != NULL) {
            cc_config_show(&c, 0, out);
            fclose(out);
            FZ_CHECK(shown != NULL && strstr(shown, "[careclock]") != NULL, "config show wrote no [careclock]");
            free(shown);
        }
    } else {
        FZ_CHECK(strncmp(err, file.path, strlen(file.path)) == 0, "error does not name the file: %s", err);
    }
    cc_config_free(&c);
    fz_file_close(&file);
    return 0;
}
