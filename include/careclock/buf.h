/* A growable, always NUL-terminated text buffer, for building messages,
 * explanations and rendered output. The buffer owns its bytes. */
#ifndef CARECLOCK_BUF_H
#define CARECLOCK_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
    char *data;   /* NUL-terminated; NULL until the first append */
    size_t len;   /* bytes before the NUL */
    size_t cap;   /* bytes allocated */
    int failed;   /* set once an allocation failed; later appends do nothing */
} cc_buf_t;

/* Initialise an empty buffer (no allocation). */
void cc_buf_init(cc_buf_t *buf);

/* Free the bytes and reset to empty; the struct itself is the caller's. */
void cc_buf_free(cc_buf_t *buf);

/* Forget the contents, keeping the allocation. */
void cc_buf_reset(cc_buf_t *buf);

/* Append len bytes. Returns 0 or CC_ENOMEM (and marks the buffer failed). */
int cc_buf_append(cc_buf_t *buf, const char *bytes, size_t len);

/* Append a NUL-terminated string. */
int cc_buf_puts(cc_buf_t *buf, const char *text);

/* Append printf-style text. */
int cc_buf_printf(cc_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cc_buf_vprintf(cc_buf_t *buf, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* The text so far: never NULL (an empty buffer gives ""). */
const char *cc_buf_str(const cc_buf_t *buf);

#endif
