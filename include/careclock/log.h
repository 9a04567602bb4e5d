/* Logging for careclockd: one line per thing worth knowing, on stderr, with
 * the journal's priority prefixes (<3> error, <4> warning, <6> info, <7>
 * debug) so systemd-journald files each line at its level. Children appear
 * by reference only; never log names. */
#ifndef CARECLOCK_LOG_H
#define CARECLOCK_LOG_H

enum { CC_LOG_ERR = 3, CC_LOG_WARNING = 4, CC_LOG_NOTICE = 5, CC_LOG_INFO = 6, CC_LOG_DEBUG = 7 };

/* Write "<level>message\n" to stderr in one write (lines never interleave). */
void cc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
