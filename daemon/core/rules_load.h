/* Loading rule files, shared by rules.c (reading, ordering, the ruleset) and
 * rulecompile.c (a rule's entries compiled): internal to daemon/core.
 */
#ifndef CARECLOCK_CORE_RULES_LOAD_H
#define CARECLOCK_CORE_RULES_LOAD_H

#include "careclock/rules.h"
#include "careclock/error.h"
#include "util/grow.h"
#include "util/inifile.h"

#include <stddef.h>

#define MAX_TYPES 128
#define TYPE_LEN 48
#define MAX_STATES 8

typedef struct {
    char *key, *value, *file;
    int line, filegen;
} entry_t;

typedef struct {
    char id[CC_RULE_ID_MAX];
    char *file;
    int line;
    entry_t *entries;
    size_t n, cap;
} raw_rule_t;

struct cc_ruleset {
    cc_rule_t *rules;      /* enabled rules in evaluation order */
    size_t nrules;
    char types[MAX_TYPES][TYPE_LEN];
    unsigned char future[MAX_TYPES];
    size_t ntypes;
    char states[MAX_STATES][32]; /* [events] state = ...: attributes judged on the child's state */
    size_t nstates;
    int local_off;         /* [options] local_standards = no */
};

typedef struct {
    raw_rule_t *raw;
    size_t nraw, capraw;
    cc_ruleset_t *rs;
    cc_buf_t *errors;
    int nerrors;
    const char *file;
    int filegen;
    int line;
} loader_t;

/* Resolve "RULE#N" anchors after every rule is compiled. */
typedef struct {
    char rule[CC_RULE_ID_MAX];
    const entry_t *e;
} anchor_ref_t;

/* Ages in conditions: whole years, 0 to CC_COND_AGE_MAX. */
#define CC_COND_AGE_MAX 150

/* Compile raw's entries into rule, noting a "RULE#N" anchor in *anchor
 * for after every rule is compiled; errors go to l with their file and line.
 * 0 when raw compiled without a new error, else -1. */
int cc__rules_compile_rule(loader_t *l, const raw_rule_t *raw, cc_rule_t *rule, anchor_ref_t *anchor);

/* 1 when off is within what a rule may state; else 0 with the bound, in
 * the offset's own unit ("60m"), in max. */
int cc__rules_bounded(cc_offset_t off, char *max, size_t len);

/* Call fn for each comma-separated, trimmed item of value. */
int cc__rules_each_item(const char *value, int (*fn)(void *, const char *), void *ctx);
/* Note an error at file:line in l (the first 100 are kept in its text). */
void cc__rules_error_at(loader_t *l, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "yes"/"true" as 1, "no"/"false" as 0 into *out: 0, or -1 for
 * anything else. */
int cc__rules_parse_yes_no(const char *value, int *out);

#endif
