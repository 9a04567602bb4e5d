/* UTF-8 checks. See include/careclock/utf8.h. */
#include "careclock/utf8.h"
#include "careclock/error.h"

#include <string.h>

/* Length of the well-formed sequence at p (at most left bytes), or 0. */
static size_t sequence(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if (p[k] < 0x80 || p[k] > 0xbf)
            return 0;
    return n;
}

int cc_utf8_valid(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t n = sequence(p + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

int cc_utf8_put(cc_buf_t *out, const char *text)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    if (text == NULL)
        return out->failed ? CC_ENOMEM : 0;
    const unsigned char *p = (const unsigned char *)text;
    size_t len = strlen(text), start = 0, i = 0;
    while (i < len) {
        size_t n = sequence(p + i, len - i);
        if (n > 0) {
            i += n;
            continue;
        }
        cc_buf_append(out, text + start, i - start);
        cc_buf_append(out, replacement, 3);
        start = ++i;
    }
    cc_buf_append(out, text + start, len - start);
    return out->failed ? CC_ENOMEM : 0;
}
