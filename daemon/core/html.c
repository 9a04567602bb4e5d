/* HTML escaping. See include/careclock/html.h. */
#include "careclock/html.h"
#include "careclock/error.h"
#include "careclock/utf8.h"

#undef NDEBUG
#include <assert.h>
#include <string.h>

int cc_html_text(cc_buf_t *out, const char *text)
{
    assert(out != NULL);
    if (text == NULL)
        return out->failed ? CC_ENOMEM : 0;
    /* Valid UTF-8 first (bad bytes become U+FFFD), then the references. */
    cc_buf_t clean;
    cc_buf_init(&clean);
    cc_utf8_put(&clean, text);
    if (clean.failed) {
        cc_buf_free(&clean);
        out->failed = 1;
        return CC_ENOMEM;
    }
    const char *p = cc_buf_str(&clean), *run = p;
    for (; *p != '\0'; p++) {
        const char *ref = NULL;
        unsigned char c = (unsigned char)*p;
        switch (c) {
        case '&': ref = "&amp;"; break;
        case '<': ref = "&lt;"; break;
        case '>': ref = "&gt;"; break;
        case '"': ref = "&quot;"; break;
        case '\'': ref = "&#39;"; break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                ref = " ";
            break;
        }
        if (ref != NULL) {
            cc_buf_append(out, run, (size_t)(p - run));
            cc_buf_puts(out, ref);
            run = p + 1;
        }
    }
    cc_buf_append(out, run, (size_t)(p - run));
    cc_buf_free(&clean);
    return out->failed ? CC_ENOMEM : 0;
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

static int percent(cc_buf_t *out, const char *text, int plus)
{
    static const char hex[] = "0123456789ABCDEF";
    assert(out != NULL);
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        if (unreserved(*p)) {
            cc_buf_append(out, (const char *)p, 1);
        } else if (plus && *p == ' ') {
            cc_buf_puts(out, "+");
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            cc_buf_append(out, enc, 3);
        }
    }
    return out->failed ? CC_ENOMEM : 0;
}

int cc_html_path_segment(cc_buf_t *out, const char *text)
{
    return percent(out, text, 0);
}

int cc_html_query_value(cc_buf_t *out, const char *text)
{
    return percent(out, text, 1);
}

int cc_html_id(cc_buf_t *out, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    assert(out != NULL);
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        /* '_' is escaped too, so that two ids never give one fragment. */
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-') {
            cc_buf_append(out, (const char *)p, 1);
        } else {
            char enc[3] = {'_', hex[*p >> 4], hex[*p & 15]};
            cc_buf_append(out, enc, 3);
        }
    }
    return out->failed ? CC_ENOMEM : 0;
}
