/* Webhook payloads: pure code. A message (message.h) and its context in;
 * the JSON body for an endpoint's format out: careclock's generic JSON, a
 * Microsoft Teams Adaptive Card, or a Slack message (docs/delivery.md,
 * "Webhooks"). Also the Standard Webhooks secret and signature. No I/O, no
 * clock reads (the timestamp is given).
 *
 * Webhooks never carry a child's full name, whatever the privacy setting:
 * chat channels are read more widely than a worker's mailbox.
 */
#ifndef CARECLOCK_PAYLOAD_H
#define CARECLOCK_PAYLOAD_H

#include "careclock/buf.h"
#include "careclock/message.h"

#include <stddef.h>

/* Microsoft: "The message size limit is 28 KB. When the size exceeds 28
 * KB, you receive an error" (Teams incoming webhooks; Workflows answer
 * 413). careclock keeps the whole JSON body of a Teams card under 27,000
 * bytes, with room to spare under either reading of 28 KB. */
#define CC_PAYLOAD_TEAMS_MAX_BYTES 27000

/* Slack truncates the text of a message past 40,000 characters and asks
 * clients to keep a message to 4,000 for the best results; careclock keeps
 * the text to 4,000 characters. */
#define CC_PAYLOAD_SLACK_MAX_CHARS 4000

/* The size a payload of format must stay within: bytes of the JSON body
 * (Teams) or characters of the text (Slack); 0 for no limit (generic). */
size_t cc_payload_limit(cc_webhook_format_t format);

/* "generic", "teams" or "slack". */
const char *cc_payload_format_name(cc_webhook_format_t format);

/* The webhook body of m in format (generic, teams, slack; any other value
 * renders generic), as compact JSON appended to out. A Teams card or a
 * Slack text that would pass its limit (cc_payload_limit) shows the most
 * urgent items that fit and says how many more there are. m, ctx and out are
 * not NULL, m->items holds m->nitems items, and m->channel is
 * CC_CHANNEL_WEBHOOK (the child labels depend on it). Returns 0 or
 * CC_ENOMEM. */
int cc_payload_render(const cc_message_t *m, cc_webhook_format_t format, const cc_message_context_t *ctx,
                      cc_buf_t *out);

/* Largest Standard Webhooks key accepted, in bytes. */
#define CC_PAYLOAD_KEY_MAX 128

/* Decode a Standard Webhooks secret ("whsec_" + base64, surrounding
 * whitespace ignored) into key (CC_PAYLOAD_KEY_MAX bytes). text, key and
 * keylen are not NULL. Returns 0 and sets *keylen, or CC_EINVAL when the
 * text is not of that form. */
int cc_payload_secret_decode(const char *text, unsigned char *key, size_t *keylen);

/* The webhook-signature header value: "v1," + base64(HMAC-SHA256(key,
 * id + "." + timestamp + "." + body)). key, id and out are not NULL, nor
 * body unless bodylen is 0; out needs at least 64 bytes. Returns 0,
 * CC_ERANGE when out is too small, or CC_ENOMEM when OpenSSL fails. */
int cc_payload_sign(const unsigned char *key, size_t keylen, const char *id, long long timestamp,
                    const char *body, size_t bodylen, char *out, size_t outlen);

#endif
