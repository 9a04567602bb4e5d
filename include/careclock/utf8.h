/* UTF-8 checks for text that other systems wrote (the plan database, SSDA903
 * files): whether it is well-formed, and a copy that is. Pure code. */
#ifndef CARECLOCK_UTF8_H
#define CARECLOCK_UTF8_H

#include "careclock/buf.h"

#include <stddef.h>

/* 1 if text[0..len) is well-formed UTF-8 (Unicode Table 3-7: no overlong
 * forms, no surrogates, nothing above U+10FFFF), else 0. */
int cc_utf8_valid(const char *text, size_t len);

/* Append text to out with every byte that does not begin a well-formed
 * sequence replaced by U+FFFD, so that out holds valid UTF-8 whatever text
 * held (a sequence cut short by truncation included). NULL appends nothing.
 * Returns 0 or CC_ENOMEM. */
int cc_utf8_put(cc_buf_t *out, const char *text);

#endif
