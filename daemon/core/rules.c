/* Rule files: parsing, overriding and compiling into a ruleset.
 *
 * Two phases. Reading collects every key of every rule section, with its
 * file and line, across all files in order; when a later file names a key
 * of a rule again, that key's earlier entries are dropped (so list keys such
 * as due_if or stages are replaced whole, never merged). Compiling then
 * turns each rule's entries into a cc_rule_t, once the event vocabulary of
 * every file is known, and orders rules so that anchors come first.
 */
#include "careclock/rules.h"
#include "careclock/error.h"
#include "util/grow.h"
#include "util/inifile.h"
#include "core/rules_load.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const builtin_types[] = {
    "looked_after_start", "looked_after_end", "placement_start", "care_plan_completed", "review_scheduled",
    "review_held", "review_report_sent", "review_minutes_sent", "iro_report_issued", "permanence_plan_agreed",
    "pep_completed", "health_assessment", "visit", "sgo_notice", "sgo_report_filed", "court_filing_scheduled",
    "report_to_managers", "referral", "referral_decision", "assessment_completed", "strategy_discussion",
    "icpc_held", "core_group_held", "core_group_minutes_sent", "cp_review_held", "cp_plan_end",
    /* issue 16: the regimes (legal status, placement type, short breaks, care leavers, adoption, secure) */
    "legal_status_change", "authority_to_place", "placement_plan_completed", "connected_person_approved",
    "approval_extended", "needs_assessment_completed", "pathway_plan_completed", "pathway_plan_reviewed",
    "secure_order_made", "secure_review_held", NULL};

static const char *const builtin_future[] = {"review_scheduled", "court_filing_scheduled", NULL};


void cc__rules_error_at(loader_t *l, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    l->nerrors++;
    if (l->nerrors > 100)
        return;
    cc_buf_printf(l->errors, "%s:%d: ", file, line);
    va_start(ap, fmt);
    cc_buf_vprintf(l->errors, fmt, ap);
    va_end(ap);
    cc_buf_puts(l->errors, "\n");
}

/* ---- vocabulary ---- */

int cc_ruleset_type_index(const cc_ruleset_t *rs, const char *type)
{
    assert(rs != NULL && type != NULL);
    for (size_t i = 0; i < rs->ntypes; i++)
        if (strcmp(rs->types[i], type) == 0)
            return (int)i;
    return -1;
}

size_t cc_ruleset_type_count(const cc_ruleset_t *rs)
{
    assert(rs != NULL);
    return rs->ntypes;
}

const char *cc_ruleset_type_name(const cc_ruleset_t *rs, size_t i)
{
    assert(rs != NULL);
    return i < rs->ntypes ? rs->types[i] : NULL;
}

int cc_ruleset_type_future_ok(const cc_ruleset_t *rs, int type)
{
    assert(rs != NULL);
    return type >= 0 && (size_t)type < rs->ntypes && rs->future[type];
}

static int valid_name(const char *s)
{
    if (!*s || strlen(s) >= TYPE_LEN)
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

static int add_type(loader_t *l, const char *name)
{
    int i = cc_ruleset_type_index(l->rs, name);
    if (i >= 0)
        return i;
    if (!valid_name(name)) {
        cc__rules_error_at(l, l->file, l->line, "event type \"%s\" must be lower-case letters, digits and _", name);
        return -1;
    }
    if (l->rs->ntypes >= MAX_TYPES) {
        cc__rules_error_at(l, l->file, l->line, "too many event types (at most %d)", MAX_TYPES);
        return -1;
    }
    snprintf(l->rs->types[l->rs->ntypes], TYPE_LEN, "%s", name);
    return (int)l->rs->ntypes++;
}

/* Call fn for each comma-separated, trimmed item of value. */
int cc__rules_each_item(const char *value, int (*fn)(void *, const char *), void *ctx)
{
    char copy[1024];
    snprintf(copy, sizeof(copy), "%s", value);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*tok && fn(ctx, tok) != 0)
            return -1;
    }
    return 0;
}

static int add_type_item(void *ctx, const char *item)
{
    return add_type(ctx, item) < 0 ? -1 : 0;
}

static int future_item(void *ctx, const char *item)
{
    loader_t *l = ctx;
    int i = add_type(l, item);
    if (i < 0)
        return -1;
    l->rs->future[i] = 1;
    return 0;
}

/* A state attribute: its conditions judge on the child's state on the day. */
static int state_item(void *ctx, const char *item)
{
    loader_t *l = ctx;
    for (size_t i = 0; i < l->rs->nstates; i++)
        if (strcmp(l->rs->states[i], item) == 0)
            return 0;
    size_t n = strlen(item);
    int ok = n > 0 && n < sizeof(l->rs->states[0]);
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)item[i]) || item[i] == '_' || item[i] == '-';
    if (!ok) {
        cc__rules_error_at(l, l->file, l->line, "[events]: state: \"%s\" is not an attribute name (letters, digits, _ and -)",
                 item);
        return -1;
    }
    if (l->rs->nstates >= MAX_STATES) {
        cc__rules_error_at(l, l->file, l->line, "[events]: state: at most %d state attributes", MAX_STATES);
        return -1;
    }
    snprintf(l->rs->states[l->rs->nstates++], sizeof(l->rs->states[0]), "%s", item);
    return 0;
}

size_t cc_ruleset_state_count(const cc_ruleset_t *rs)
{
    assert(rs != NULL);
    return rs->nstates;
}

const char *cc_ruleset_state_name(const cc_ruleset_t *rs, size_t i)
{
    assert(rs != NULL);
    return i < rs->nstates ? rs->states[i] : NULL;
}

int cc_rule_starts_on(const cc_rule_t *rule, int type)
{
    assert(rule != NULL);
    for (int i = 0; i < rule->nstart_types; i++)
        if (rule->start_types[i] == type)
            return 1;
    return 0;
}

/* ---- reading ---- */

static raw_rule_t *raw_find(loader_t *l, const char *id)
{
    for (size_t i = 0; i < l->nraw; i++)
        if (strcmp(l->raw[i].id, id) == 0)
            return &l->raw[i];
    return NULL;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    loader_t *l = user;
    if (strcmp(section, "events") == 0) {
        if (strcmp(key, "add") == 0)
            cc__rules_each_item(value, add_type_item, l);
        else if (strcmp(key, "future") == 0)
            cc__rules_each_item(value, future_item, l);
        else if (strcmp(key, "state") == 0)
            cc__rules_each_item(value, state_item, l);
        else
            cc__rules_error_at(l, l->file, l->line, "[events]: unknown key \"%s\" (expected add, future or state)", key);
        return 1;
    }
    if (strcmp(section, "options") == 0) {
        int yes;
        if (strcmp(key, "local_standards") != 0)
            cc__rules_error_at(l, l->file, l->line, "[options]: unknown key \"%s\" (expected local_standards)", key);
        else if (cc__rules_parse_yes_no(value, &yes) != 0)
            cc__rules_error_at(l, l->file, l->line, "[options]: local_standards: \"%s\" is not yes or no", value);
        else
            l->rs->local_off = !yes;
        return 1;
    }
    if (!valid_name(section) || strlen(section) >= CC_RULE_ID_MAX) {
        cc__rules_error_at(l, l->file, l->line, "rule id \"%s\" must be lower-case letters, digits and _", section);
        return 1;
    }
    raw_rule_t *r = raw_find(l, section);
    if (r == NULL) {
        if (cc__grow(&l->raw, &l->capraw, l->nraw + 1, sizeof(raw_rule_t), 32) != 0)
            return 0;
        r = &l->raw[l->nraw++];
        memset(r, 0, sizeof(*r));
        snprintf(r->id, sizeof(r->id), "%s", section);
    }
    /* A key named again by a later file replaces all its earlier entries. */
    size_t kept = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->entries[i].key, key) == 0 && r->entries[i].filegen != l->filegen) {
            free(r->entries[i].key);
            free(r->entries[i].value);
            continue;
        }
        r->entries[kept++] = r->entries[i];
    }
    r->n = kept;
    if (cc__grow(&r->entries, &r->cap, r->n + 1, sizeof(entry_t), 16) != 0)
        return 0;
    entry_t *e = &r->entries[r->n++];
    e->key = strdup(key);
    e->value = strdup(value);
    e->file = (char *)l->file;
    e->line = l->line;
    e->filegen = l->filegen;
    if (r->file == NULL || l->filegen != 0) {
        r->file = (char *)l->file;
        r->line = l->line;
    }
    return e->key && e->value;
}

/* ---- compiling ---- */

int cc__rules_parse_yes_no(const char *value, int *out)
{
    if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0) {
        *out = 0;
        return 0;
    }
    return -1;
}

/* The largest count a rule may give in unit (CC_RULE_MAX_*). */
static int rule_max(cc_unit_t unit)
{
    switch (unit) {
    case CC_UNIT_WORKING_DAYS: return CC_RULE_MAX_WD;
    case CC_UNIT_DAYS: return CC_RULE_MAX_DAYS;
    case CC_UNIT_WEEKS: return CC_RULE_MAX_WEEKS;
    default: return CC_RULE_MAX_MONTHS;
    }
}

/* 1 when off is within what a rule may state; else 0 with the bound, in
 * the offset's own unit ("60m"), in max. */
int cc__rules_bounded(cc_offset_t off, char *max, size_t len)
{
    int n = off.n < 0 ? -off.n : off.n;
    if (n <= rule_max(off.unit))
        return 1;
    cc_offset_t limit = {rule_max(off.unit), off.unit};
    cc_offset_format(limit, max, len);
    memmove(max, max + 1, strlen(max)); /* no sign */
    return 0;
}

static void rule_free_strings(cc_rule_t *rule)
{
    free(rule->title);
    free(rule->source);
    free(rule->file);
    free(rule->cancel_reason);
    free(rule->regime);
    for (int i = 0; i < rule->nmore_cancels; i++)
        free(rule->more_cancels[i].reason);
}

void cc_ruleset_free(cc_ruleset_t *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->nrules; i++)
        rule_free_strings(&rs->rules[i]);
    free(rs->rules);
    free(rs);
}

static void loader_free(loader_t *l)
{
    for (size_t i = 0; i < l->nraw; i++) {
        for (size_t j = 0; j < l->raw[i].n; j++) {
            free(l->raw[i].entries[j].key);
            free(l->raw[i].entries[j].value);
        }
        free(l->raw[i].entries);
    }
    free(l->raw);
}

/* Compile and order the rules: every rule whose due date is anchored on
 * another comes after it. Returns 0 or -1 (errors in l). */
static int compile_all(loader_t *l)
{
    cc_ruleset_t *rs = l->rs;
    size_t n = l->nraw;
    cc_rule_t *tmp = calloc(n ? n : 1, sizeof(*tmp));
    anchor_ref_t *anchors = calloc(n ? n : 1, sizeof(*anchors));
    int *order = calloc(n ? n : 1, sizeof(int));
    int *placed = calloc(n ? n : 1, sizeof(int));
    int rc = -1;
    if (!tmp || !anchors || !order || !placed)
        goto out;
    for (size_t i = 0; i < n; i++) {
        cc__rules_compile_rule(l, &l->raw[i], &tmp[i], &anchors[i]);
        /* [options] local_standards = no: the councils' own standards off. */
        if (rs->local_off && tmp[i].local)
            tmp[i].enabled = 0;
    }
    /* Resolve anchors to raw indexes first. */
    int *anchor_idx = order; /* reuse as scratch: anchor raw index or -1 */
    for (size_t i = 0; i < n; i++) {
        anchor_idx[i] = -1;
        if (anchors[i].e == NULL)
            continue;
        for (size_t j = 0; j < n; j++)
            if (strcmp(l->raw[j].id, anchors[i].rule) == 0 && tmp[j].enabled)
                anchor_idx[i] = (int)j;
        if (anchor_idx[i] < 0)
            cc__rules_error_at(l, anchors[i].e->file, anchors[i].e->line, "%s: due: anchor rule \"%s\" is not defined",
                     tmp[i].id, anchors[i].rule);
    }
    if (l->nerrors)
        goto out;
    rs->rules = calloc(n ? n : 1, sizeof(cc_rule_t));
    if (rs->rules == NULL)
        goto out;
    size_t out_n = 0;
    int progress = 1;
    while (progress) {
        progress = 0;
        for (size_t i = 0; i < n; i++) {
            if (placed[i] || !tmp[i].enabled)
                continue;
            int a = anchor_idx[i];
            if (a >= 0 && !placed[a])
                continue;
            placed[i] = (int)out_n + 1;
            rs->rules[out_n] = tmp[i];
            if (a >= 0)
                rs->rules[out_n].anchor_rule = placed[a] - 1;
            memset(&tmp[i], 0, sizeof(tmp[i]));
            out_n++;
            progress = 1;
        }
    }
    rs->nrules = out_n;
    for (size_t i = 0; i < n; i++)
        if (!placed[i] && tmp[i].enabled)
            cc__rules_error_at(l, l->raw[i].file, l->raw[i].line, "%s: due: anchors form a cycle", tmp[i].id);
    rc = l->nerrors ? -1 : 0;
out:
    for (size_t i = 0; tmp && i < n; i++)
        rule_free_strings(&tmp[i]);
    free(tmp);
    free(anchors);
    free(order);
    free(placed);
    return rc;
}

/* Parse and compile the texts into a new ruleset; errors go to l->errors. */
static cc_ruleset_t *load(const cc_rule_text_t *texts, size_t nfiles, cc_buf_t *errors, int *nerrors)
{
    loader_t l = {.errors = errors};
    l.rs = calloc(1, sizeof(cc_ruleset_t));
    if (l.rs == NULL) {
        *nerrors = 1;
        cc_buf_puts(errors, "out of memory\n");
        return NULL;
    }
    for (size_t i = 0; builtin_types[i]; i++)
        snprintf(l.rs->types[l.rs->ntypes++], TYPE_LEN, "%s", builtin_types[i]);
    for (size_t i = 0; builtin_future[i]; i++)
        l.rs->future[cc_ruleset_type_index(l.rs, builtin_future[i])] = 1;
    for (size_t f = 0; f < nfiles; f++) {
        assert(texts[f].name != NULL);
        l.file = texts[f].name;
        l.filegen = (int)f + 1;
        int rc = texts[f].text == NULL ? CC_EIO
                                       : cc__ini_parse_text(texts[f].text, texts[f].len, handler, &l, &l.line);
        if (rc == CC_EIO)
            cc__rules_error_at(&l, texts[f].name, 0, "cannot read rule file");
        else if (rc < 0)
            cc__rules_error_at(&l, texts[f].name, 0, "%s", cc_strerror(rc));
        else if (rc > 0)
            cc__rules_error_at(&l, texts[f].name, rc, "not a valid line (expected [rule_id], key = value or a ; comment, at most %d characters)", CC_INI_MAX_LINE - 2);
    }
    if (nfiles == 0)
        cc__rules_error_at(&l, "(none)", 0, "no rule files given");
    if (l.nerrors == 0)
        compile_all(&l);
    /* The file names in rules point at the caller's strings only until
     * compile copies them; nothing else keeps them. */
    loader_free(&l);
    *nerrors = l.nerrors;
    if (l.nerrors) {
        cc_ruleset_free(l.rs);
        return NULL;
    }
    return l.rs;
}

int cc_ruleset_parse(const cc_rule_text_t *texts, size_t nfiles, cc_ruleset_t **out, char *err, size_t errlen)
{
    cc_buf_t errors;
    int nerrors = 0;
    assert(out != NULL && (texts != NULL || nfiles == 0));
    cc_buf_init(&errors);
    cc_ruleset_t *rs = load(texts, nfiles, &errors, &nerrors);
    if (rs == NULL) {
        const char *text = cc_buf_str(&errors);
        const char *nl = strchr(text, '\n');
        snprintf(err, errlen, "%.*s", nl ? (int)(nl - text) : (int)strlen(text), text);
        int rc = strstr(text, "cannot read") ? CC_EIO : CC_EPARSE;
        cc_buf_free(&errors);
        return rc;
    }
    cc_buf_free(&errors);
    *out = rs;
    return 0;
}

int cc_ruleset_check_texts(const cc_rule_text_t *texts, size_t nfiles, cc_buf_t *report)
{
    int nerrors = 0;
    assert(report != NULL && (texts != NULL || nfiles == 0));
    cc_ruleset_t *rs = load(texts, nfiles, report, &nerrors);
    cc_ruleset_free(rs);
    return nerrors;
}

size_t cc_ruleset_count(const cc_ruleset_t *rs)
{
    assert(rs != NULL);
    return rs->nrules;
}

const cc_rule_t *cc_ruleset_rule(const cc_ruleset_t *rs, size_t i)
{
    assert(rs != NULL);
    return i < rs->nrules ? &rs->rules[i] : NULL;
}

const cc_rule_t *cc_ruleset_find(const cc_ruleset_t *rs, const char *id)
{
    assert(rs != NULL && id != NULL);
    for (size_t i = 0; i < rs->nrules; i++)
        if (strcmp(rs->rules[i].id, id) == 0)
            return &rs->rules[i];
    return NULL;
}

size_t cc_ruleset_index(const cc_ruleset_t *rs, const cc_rule_t *rule)
{
    /* rule is one of rs's own (from cc_ruleset_rule or cc_ruleset_find). */
    assert(rs != NULL && rule >= rs->rules && rule < rs->rules + rs->nrules);
    return (size_t)(rule - rs->rules);
}
