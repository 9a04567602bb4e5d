#include "careclock/buf.h"
#include "util/grow.h"
#include "careclock/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cc_buf_init(cc_buf_t *buf)
{
    buf->data = NULL;
    buf->len = buf->cap = 0;
    buf->failed = 0;
}

void cc_buf_free(cc_buf_t *buf)
{
    free(buf->data);
    cc_buf_init(buf);
}

void cc_buf_reset(cc_buf_t *buf)
{
    buf->len = 0;
    buf->failed = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

static int reserve(cc_buf_t *buf, size_t extra)
{
    if (buf->failed)
        return CC_ENOMEM;
    if (buf->len + extra + 1 <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 128;
    while (cap < buf->len + extra + 1)
        cap *= 2;
    char *grown = realloc(buf->data, cap);
    if (grown == NULL) {
        buf->failed = 1;
        return CC_ENOMEM;
    }
    buf->data = grown;
    buf->cap = cap;
    return 0;
}

int cc_buf_append(cc_buf_t *buf, const char *bytes, size_t len)
{
    if (reserve(buf, len) != 0)
        return CC_ENOMEM;
    memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

int cc_buf_puts(cc_buf_t *buf, const char *text)
{
    return cc_buf_append(buf, text, strlen(text));
}

int cc_buf_vprintf(cc_buf_t *buf, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int need = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (need < 0 || reserve(buf, (size_t)need) != 0)
        return CC_ENOMEM;
    vsnprintf(buf->data + buf->len, (size_t)need + 1, fmt, ap);
    buf->len += (size_t)need;
    return 0;
}

int cc_buf_printf(cc_buf_t *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cc_buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return rc;
}

const char *cc_buf_str(const cc_buf_t *buf)
{
    return buf->data ? buf->data : "";
}

int cc__grow(void *items, size_t *cap, size_t need, size_t elem, size_t initial)
{
    void **array = items;
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : initial;
    while (ncap < need)
        ncap *= 2;
    void *grown = realloc(*array, ncap * elem);
    if (grown == NULL)
        return CC_ENOMEM;
    *array = grown;
    *cap = ncap;
    return 0;
}
