/* The rule files: reading them and handing their text to the rule parser
 * (rules.h, which reads no file). For careclockd, the CLI and tests.
 */
#ifndef CARECLOCK_RULEFILES_H
#define CARECLOCK_RULEFILES_H

#include "careclock/buf.h"
#include "careclock/rules.h"

#include <stddef.h>

/* Read the rule files in order and parse them into a new ruleset
 * (cc_ruleset_parse). On error returns CC_EIO ("FILE:0: cannot read rule
 * file"), CC_EPARSE ("FILE:LINE: what is wrong", the first error) in err;
 * *out is untouched. Free the ruleset with cc_ruleset_free(). */
int cc_rulefiles_load(const char *const *files, size_t nfiles, cc_ruleset_t **out, char *err, size_t errlen);

/* Validate rule files, reporting every error (one per line, each
 * "FILE:LINE: message") into report (cc_ruleset_check_texts). Returns the
 * number of errors. */
int cc_rulefiles_check(const char *const *files, size_t nfiles, cc_buf_t *report);

#endif
