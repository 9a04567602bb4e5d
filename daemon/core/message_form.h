/* The message's renderers, shared by message.c (the ordered view, words,
 * plain text and HTML) and mail.c (the e-mail around them): internal to
 * daemon/core.
 */
#ifndef CARECLOCK_CORE_MESSAGE_FORM_H
#define CARECLOCK_CORE_MESSAGE_FORM_H

#include "careclock/message.h"
#include "core/message_view.h"

/* The HTML body of m from its ordered view v into out: 0 or
 * CC_ENOMEM. */
int cc__message_html_from_view(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx, cc_buf_t *out);
/* The plain-text body of m from its ordered view v into out: 0 or
 * CC_ENOMEM. */
int cc__message_text_from_view(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx, cc_buf_t *out);

#endif
