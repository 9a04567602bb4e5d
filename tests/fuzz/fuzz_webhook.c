/* Fuzz target: building webhook payloads (cc_payload_render: generic,
 * Teams Adaptive Card, Slack) from hostile names, ids and titles, and the
 * Standard Webhooks secret decoding and signing.
 * Invariants: each payload is one JSON object that jansson reads back;
 * webhooks never carry a child's full name, whatever the privacy setting;
 * a decoded secret has 1..CC_PAYLOAD_KEY_MAX bytes and signs to
 * "v1," + 44 base64 characters. */
#include "fuzz_message.h"

#include "careclock/error.h"
#include "careclock/holidays.h"
#include "careclock/payload.h"

#include <jansson.h>

static cc_calendar_t *cal;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    (void)argc;
    (void)argv;
    if (cc_holidays_open(FZ_HOLIDAYS, "england-and-wales", NULL, 0, &cal, err, sizeof(err)) != 0)
        abort();
    return 0;
}

/* The full name of the first item is replaced by a marker no other field
 * holds, so that finding it in a payload means the name leaked. */
#define MARKER "Fullname-Marker-Qx7"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    fz_message_t fm;
    fz_message(&f, cal, &fm);
    int marked = 0;
    if (fm.m.nitems > 0 && memmem(data, size, MARKER, strlen(MARKER)) == NULL) {
        fm.items[0].full_name = MARKER;
        marked = 1;
    }
    fm.m.channel = CC_CHANNEL_WEBHOOK;
    for (int format = CC_WEBHOOK_GENERIC; format <= CC_WEBHOOK_SLACK; format++) {
        cc_buf_t out;
        cc_buf_init(&out);
        int rc = cc_payload_render(&fm.m, (cc_webhook_format_t)format, &fm.ctx, &out);
        FZ_CHECK(rc == 0, "format %d rc %d", format, rc);
        json_error_t jerr;
        json_t *root = json_loadb(out.data ? out.data : "", out.len, JSON_REJECT_DUPLICATES, &jerr);
        FZ_CHECK(root != NULL && json_is_object(root), "format %d is not a JSON object: %s", format, jerr.text);
        if (format == CC_WEBHOOK_GENERIC) {
            /* Nothing silently left out: every item, its child and its summary. */
            /* one item per clock instance (issue 18): rows of one clock count once */
            json_t *items = json_object_get(root, "items");
            size_t clocks = 0;
            for (size_t i = 0; i < fm.m.nitems; i++) {
                const cc_message_item_t *a = &fm.items[i];
                int seen = 0;
                for (size_t j = 0; j < i && !seen; j++) {
                    const cc_message_item_t *b = &fm.items[j];
                    seen = strcmp(a->child_id ? a->child_id : "", b->child_id ? b->child_id : "") == 0 &&
                           strcmp(a->rule_id ? a->rule_id : "", b->rule_id ? b->rule_id : "") == 0 && a->seq == b->seq;
                }
                clocks += !seen;
            }
            FZ_CHECK(json_array_size(items) == clocks, "%zu items for %zu clocks", json_array_size(items), clocks);
            FZ_CHECK(json_is_string(json_object_get(root, "summary")), "no summary");
            for (size_t i = 0; i < json_array_size(items); i++) {
                json_t *it = json_array_get(items, i), *child = json_object_get(it, "child");
                FZ_CHECK(json_is_string(json_object_get(it, "summary")), "item %zu without a summary", i);
                FZ_CHECK(json_is_object(json_object_get(it, "clock")) && json_is_object(json_object_get(it, "team")) &&
                             json_is_object(json_object_get(it, "stage")),
                         "item %zu lost a part", i);
                json_t *ref = json_object_get(child, "reference");
                FZ_CHECK(json_is_string(ref) || json_is_null(ref), "item %zu without a reference", i);
            }
        }
        json_decref(root);
        if (marked)
            FZ_CHECK(memmem(out.data, out.len, MARKER, strlen(MARKER)) == NULL, "format %d carries the full name",
                     format);
        cc_buf_free(&out);
    }
    /* The signing secret, as a secret_file holds it. */
    const char *secret = fz_str(&f);
    unsigned char key[CC_PAYLOAD_KEY_MAX];
    size_t keylen = 0;
    if (cc_payload_secret_decode(secret, key, &keylen) == 0) {
        FZ_CHECK(keylen >= 1 && keylen <= CC_PAYLOAD_KEY_MAX, "key of %zu bytes", keylen);
        char sig[128];
        const char *body = fz_str(&f);
        FZ_CHECK(cc_payload_sign(key, keylen, fm.m.message_id ? fm.m.message_id : "msg", 1798534800, body,
                                 strlen(body), sig, sizeof(sig)) == 0,
                 "sign failed");
        FZ_CHECK(strncmp(sig, "v1,", 3) == 0 && strlen(sig) == 47, "signature %s", sig);
    }
    fz_free(&f);
    return 0;
}
