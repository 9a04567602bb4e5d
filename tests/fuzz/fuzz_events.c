/* Fuzz target: a child's events as other systems write them into the plan
 * database (the council's integration writes SQL directly): event types,
 * dates and above all the attributes JSON that the rules' conditions read
 * (emergency=yes, long_term=yes), through the clock engine and its
 * explanations, on the shipped england.rules.
 * Input: NUL-separated fields: date of birth (days), then per event: type
 * (number), date (days after 2020-01-01), attributes text (empty: none).
 * Invariants: the engine never fails on data (bad data is a data_error
 * clock); clocks name real rules; every clock can be explained; and the
 * attributes are read as JSON: writing the same object another way (the
 * compact form jansson writes) gives the same clocks. */
#include "fuzz_common.h"

#include "careclock/buf.h"
#include "careclock/calendar.h"
#include "careclock/holidays.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/rulefiles.h"
#include "careclock/rules.h"

#include <jansson.h>

static cc_calendar_t *cal;
static cc_ruleset_t *rs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    const char *files[] = {FZ_RULES};
    (void)argc;
    (void)argv;
    if (cc_holidays_open(FZ_HOLIDAYS, "england-and-wales", NULL, 0, &cal, err, sizeof(err)) != 0 ||
        cc_rulefiles_load(files, 1, &rs, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_events: %s\n", err);
        abort();
    }
    return 0;
}

#define MAXEV 24

static int same_clocks(const cc_clocks_t *a, const cc_clocks_t *b)
{
    if (a->len != b->len)
        return 0;
    for (size_t i = 0; i < a->len; i++) {
        const cc_clock_t *x = &a->items[i], *y = &b->items[i];
        if (x->rule != y->rule || x->seq != y->seq || x->due != y->due || x->status != y->status ||
            x->met_on != y->met_on || x->start != y->start)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    cc_event_t events[MAXEV], canon[MAXEV];
    char dates[MAXEV][CC_DATE_STRLEN], *canon_text[MAXEV] = {0};
    char dob_text[CC_DATE_STRLEN];
    size_t ntypes = cc_ruleset_type_count(rs), n = 0;
    cc_date_t base = cc_date_from_ymd(2020, 1, 1);
    cc_child_t child = {.id = "C1"};
    child.dob = base - 365 * 2 - (cc_date_t)(fz_num(&f) % 6000);
    child.raw_dob = cc_date_format(child.dob, dob_text);
    int differential = 1;
    while (n < MAXEV && f.next + 3 <= f.n) {
        cc_event_t *e = &events[n];
        unsigned t = fz_num(&f);
        e->id = (int64_t)n + 1;
        e->type = t % (ntypes + 1) == ntypes ? -1 : (int)(t % (ntypes + 1)); /* -1: a type the rules lack */
        e->date = base + (cc_date_t)(fz_num(&f) % 2500);
        e->attrs = fz_opt(&f);
        e->raw_type = e->type >= 0 ? cc_ruleset_type_name(rs, (size_t)e->type) : "unknown_type";
        e->raw_date = cc_date_format(e->date, dates[n]);
        canon[n] = *e;
        if (e->attrs != NULL) {
            json_t *root = json_loads(e->attrs, JSON_REJECT_DUPLICATES, NULL);
            if (root != NULL && json_is_object(root))
                canon_text[n] = json_dumps(root, JSON_COMPACT);
            else
                differential = 0; /* not JSON: the engine must only survive it */
            json_decref(root);
            canon[n].attrs = canon_text[n];
        }
        n++;
    }
    cc_date_t today = base + 2600;
    cc_clocks_t a, b;
    cc_clocks_init(&a);
    cc_clocks_init(&b);
    FZ_CHECK(cc_engine_run(rs, cal, today, &child, events, n, &a) == 0, "engine failed");
    for (size_t i = 0; i < a.len; i++) {
        const cc_clock_t *c = &a.items[i];
        if (c->status == CC_STATUS_DATA_ERROR) {
            FZ_CHECK(c->reason[0] != '\0', "a data error without a reason");
            continue;
        }
        FZ_CHECK(c->rule >= 0 && (size_t)c->rule < cc_ruleset_count(rs), "clock rule %d", c->rule);
        if (i < 16) {
            cc_buf_t text;
            cc_buf_init(&text);
            FZ_CHECK(cc_engine_explain(rs, cal, today, &child, events, n, &a, i, &text) == 0, "explain failed");
            cc_buf_free(&text);
        }
    }
    if (differential) {
        FZ_CHECK(cc_engine_run(rs, cal, today, &child, canon, n, &b) == 0, "engine failed");
        FZ_CHECK(same_clocks(&a, &b), "the same attributes written another way give other clocks");
    }
    cc_clocks_free(&a);
    cc_clocks_free(&b);
    for (size_t i = 0; i < n; i++)
        free(canon_text[i]);
    fz_free(&f);
    return 0;
}
