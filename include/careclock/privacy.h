/* What careclock shows of a child outside the council's systems (feeds,
 * e-mails, webhooks): the reference always; the initials by default; the
 * full name only where the council configures it (docs/security.md). The
 * renderers format the label their own way; this module makes the choice. */
#ifndef CARECLOCK_PRIVACY_H
#define CARECLOCK_PRIVACY_H

/* [careclock] privacy: initials (default), reference, full. */
typedef enum { CC_PRIVACY_INITIALS, CC_PRIVACY_REFERENCE, CC_PRIVACY_FULL } cc_privacy_t;

/* "initials", "reference" or "full". */
const char *cc_privacy_name(cc_privacy_t privacy);

/* The text to show beside the child's reference under privacy: the full
 * name when privacy is full, full_allowed is non-zero (webhooks pass 0:
 * chat channels never get names) and the name is not empty; else the
 * initials unless privacy is reference and they are not empty; else NULL
 * (the reference alone). */
const char *cc_privacy_shown(cc_privacy_t privacy, const char *initials, const char *full_name, int full_allowed);

#endif
