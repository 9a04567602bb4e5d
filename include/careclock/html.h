/* HTML text for the dashboard's pages: escaping what comes from the
 * database or a request, and the pieces of a URL built from an id. Pure:
 * values in, text out.
 *
 * Every value written into a page goes through one of these. Text that is
 * not valid UTF-8 has each bad byte replaced by U+FFFD; control
 * characters (other than tab and line feed) become spaces; & < > " ' are
 * written as character references, so text is safe both between tags and
 * inside a double- or single-quoted attribute.
 */
#ifndef CARECLOCK_HTML_H
#define CARECLOCK_HTML_H

#include "careclock/buf.h"

#include <stddef.h>

/* Append text (NULL: nothing) escaped. 0 or CC_ENOMEM. */
int cc_html_text(cc_buf_t *out, const char *text);

/* Append text as one path segment of a URL (percent-encoding everything
 * but A-Z a-z 0-9 - . _ ~), which is also safe in an attribute. */
int cc_html_path_segment(cc_buf_t *out, const char *text);

/* Append text as a query value (as cc_html_path_segment, but a space is
 * "+"), to be written after "name=" in an href. */
int cc_html_query_value(cc_buf_t *out, const char *text);

/* Text usable in an HTML id and fragment ("care_plan" -> "care_5fplan"):
 * letters, digits and '-' kept, anything else (and '_') as "_xx", its byte
 * in hex, so that two texts never give one id. */
int cc_html_id(cc_buf_t *out, const char *text);

#endif
