/* E-mail addresses: the one check that the store (what may be recorded),
 * the CLI and the delivery planner (what may be sent to) share, so that
 * what is stored is deliverable. */
#ifndef CARECLOCK_EMAIL_H
#define CARECLOCK_EMAIL_H

/* 1 if address is usable as an email address: one "@" with text either
 * side, ASCII only (no SMTPUTF8: messages stay 7-bit), no spaces, control
 * characters, angle brackets, commas, semicolons, quotes or backslashes, at
 * most 254 octets (RFC 5321 4.5.3.1.3: a path is at most 256 octets with
 * its angle brackets). 0 otherwise, and for NULL. */
int cc_email_valid(const char *address);

#endif
