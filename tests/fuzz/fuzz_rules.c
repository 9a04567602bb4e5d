/* Fuzz target: rule files (cc_rulefiles_load and cc_rulefiles_check), alone or
 * as a council's override file after the shipped england.rules, then the
 * clock engine run with whatever rules loaded over one child whose events
 * cover every event type, and every clock explained.
 * Input: one byte of mode (bit 0: load england.rules first), then the file.
 * Invariants: load succeeds exactly when check reports no error; a loaded
 * ruleset is consistent (anchors first, type indexes in range, bounded
 * lists); the engine's clocks name real rules and dated statuses. */
#include "fuzz_common.h"

#include "careclock/buf.h"
#include "careclock/calendar.h"
#include "careclock/holidays.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/rulefiles.h"
#include "careclock/rules.h"

static cc_calendar_t *cal;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    (void)argc;
    (void)argv;
    if (cc_holidays_open(FZ_HOLIDAYS, "england-and-wales", NULL, 0, &cal, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_rules: %s\n", err);
        abort();
    }
    return 0;
}

static void check_ruleset(const cc_ruleset_t *rs)
{
    size_t ntypes = cc_ruleset_type_count(rs);
    FZ_CHECK(ntypes >= 2, "types %zu", ntypes);
    for (size_t i = 0; i < cc_ruleset_count(rs); i++) {
        const cc_rule_t *r = cc_ruleset_rule(rs, i);
        FZ_CHECK(r->enabled, "disabled rule %s listed", r->id);
        FZ_CHECK(r->title && r->source && r->file, "rule %s lacks strings", r->id);
        FZ_CHECK(r->starts_when.active ? r->start_type == -1 && r->starts_when.days > 0
                                       : r->start_type >= 0 && (size_t)r->start_type < ntypes && r->nstart_types > 0,
                 "%s start_type %d", r->id, r->start_type);
        for (int k = 0; k < r->nstart_types; k++)
            FZ_CHECK(r->start_types[k] >= 0 && (size_t)r->start_types[k] < ntypes, "%s start_types", r->id);
        for (int k = 0; k < r->nmore_cancels; k++)
            FZ_CHECK(r->more_cancels[k].type >= 0 && (size_t)r->more_cancels[k].type < ntypes, "%s more_cancels",
                     r->id);
        FZ_CHECK(r->anchor_rule < (int)i, "%s anchored on a later rule %d", r->id, r->anchor_rule);
        FZ_CHECK(r->anchor_rule < 0 || r->anchor_seq >= 1, "%s anchor seq %d", r->id, r->anchor_seq);
        FZ_CHECK(r->nmet_by >= 1 && r->nmet_by <= CC_RULE_MAX_TYPES, "%s met_by %d", r->id, r->nmet_by);
        for (int k = 0; k < r->nmet_by; k++)
            FZ_CHECK(r->met_by[k] >= 0 && (size_t)r->met_by[k] < ntypes, "%s met_by type", r->id);
        FZ_CHECK(r->cancel_type >= -1 && r->cancel_type < (int)ntypes, "%s cancel_type", r->id);
        FZ_CHECK(r->nthen >= 0 && r->nthen <= CC_RULE_MAX_IFS, "%s nthen", r->id);
        FZ_CHECK(r->ndue_if >= 0 && r->ndue_if <= CC_RULE_MAX_IFS, "%s ndue_if", r->id);
        FZ_CHECK(r->nthen_if >= 0 && r->nthen_if <= CC_RULE_MAX_IFS, "%s nthen_if", r->id);
        FZ_CHECK(r->napplies >= 0 && r->napplies <= CC_RULE_MAX_IFS, "%s napplies", r->id);
        FZ_CHECK(r->nstages >= 0 && r->nstages <= CC_RULE_MAX_STAGES, "%s nstages", r->id);
        FZ_CHECK(r->warn_wd >= 0, "%s warn", r->id);
        FZ_CHECK(cc_ruleset_find(rs, r->id) == r, "%s not found by id", r->id);
    }
}

/* One child looked after from 2024-01-08 with an event of every type, one
 * a fortnight, some with attributes the shipped rules test. */
static void run_engine(const cc_ruleset_t *rs)
{
    enum { MAXEV = 160 };
    cc_event_t events[MAXEV];
    char dates[MAXEV][CC_DATE_STRLEN];
    size_t ntypes = cc_ruleset_type_count(rs), n = 0;
    cc_date_t start = cc_date_from_ymd(2024, 1, 8);
    static const char *const attrs[] = {NULL, "{\"emergency\":\"yes\"}", "{\"long_term\":\"yes\"}", "{}"};
    for (size_t round = 0; round < 2; round++) {
        for (size_t t = 0; t < ntypes && n < MAXEV; t++) {
            if (t == CC_TYPE_LOOKED_AFTER_END)
                continue; /* one end, at the close */
            cc_event_t *e = &events[n];
            e->id = (int64_t)n + 1;
            e->type = (int)t;
            e->date = start + (cc_date_t)(14 * n);
            e->attrs = attrs[n % 4];
            e->raw_type = cc_ruleset_type_name(rs, t);
            e->raw_date = cc_date_format(e->date, dates[n]);
            n++;
        }
    }
    if (n < MAXEV) {
        cc_event_t *e = &events[n];
        e->id = (int64_t)n + 1;
        e->type = CC_TYPE_LOOKED_AFTER_END;
        e->date = start + (cc_date_t)(14 * n);
        e->attrs = NULL;
        e->raw_type = cc_ruleset_type_name(rs, CC_TYPE_LOOKED_AFTER_END);
        e->raw_date = cc_date_format(e->date, dates[n]);
        n++;
    }
    cc_child_t child = {.id = "C1", .dob = cc_date_from_ymd(2012, 4, 1), .raw_dob = "2012-04-01"};
    cc_clocks_t clocks;
    cc_clocks_init(&clocks);
    cc_date_t today = start + 14 * (cc_date_t)n + 30;
    int rc = cc_engine_run(rs, cal, today, &child, events, n, &clocks);
    FZ_CHECK(rc == 0, "engine rc %d", rc);
    for (size_t i = 0; i < clocks.len; i++) {
        const cc_clock_t *c = &clocks.items[i];
        FZ_CHECK(c->status >= CC_STATUS_OPEN && c->status <= CC_STATUS_DATA_ERROR, "status %d", (int)c->status);
        if (c->status == CC_STATUS_DATA_ERROR)
            continue;
        FZ_CHECK(c->rule >= 0 && (size_t)c->rule < cc_ruleset_count(rs), "clock rule %d", c->rule);
        FZ_CHECK(c->seq >= 1, "seq %d", c->seq);
        FZ_CHECK((c->status == CC_STATUS_MET || c->status == CC_STATUS_MET_LATE) == (c->met_on != CC_DATE_NONE) ||
                     c->status == CC_STATUS_CANCELLED,
                 "status %d with met_on %d", (int)c->status, (int)c->met_on);
        if (i < 24) {
            cc_buf_t text;
            cc_buf_init(&text);
            int e = cc_engine_explain(rs, cal, today, &child, events, n, &clocks, i, &text);
            FZ_CHECK(e == 0 || e == CC_ENOMEM, "explain rc %d", e);
            cc_buf_free(&text);
        }
    }
    cc_clocks_free(&clocks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fz_file_t file;
    if (fz_file(&file, data + 1, size - 1) != 0)
        return 0;
    const char *files[2];
    size_t n = 0;
    if (data[0] & 1)
        files[n++] = FZ_RULES;
    files[n++] = file.path;
    cc_ruleset_t *rs = NULL;
    char err[512];
    cc_buf_t report;
    cc_buf_init(&report);
    int rc = cc_rulefiles_load(files, n, &rs, err, sizeof(err));
    int errors = cc_rulefiles_check(files, n, &report);
    FZ_CHECK((rc == 0) == (errors == 0), "load %d but check found %d errors", rc, errors);
    FZ_CHECK(rc == 0 || rc == CC_EPARSE || rc == CC_EIO, "rc %d", rc);
    if (rc != 0)
        FZ_CHECK(err[0] != '\0' && report.len > 0, "an error without a message");
    cc_buf_free(&report);
    if (rc == 0) {
        check_ruleset(rs);
        run_engine(rs);
        cc_ruleset_free(rs);
    }
    fz_file_close(&file);
    return 0;
}
