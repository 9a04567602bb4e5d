/* SSDA903 import, the pure half: recognise the files, check each row, and
 * decide which events each child's episodes and reviews become. See
 * include/careclock/import.h and docs/import.md.
 *
 * Design notes:
 *  - Files are parsed in place (daemon/util/csv.c): a field is a pointer into
 *    the file's buffer, so a 100,000-child extract costs its own size plus
 *    a few small records per row, and no string copies.
 *  - Rows are checked as they stream: the header files first (so every
 *    episode or review can be checked against the children), then the
 *    episodes, then the reviews. A bad row becomes a problem and is left
 *    out; whether to go on is the caller's decision.
 *  - Periods of care are derived per child from its episodes in DECOM
 *    order by a small state machine (map_episodes), which also decides
 *    what to make of the inconsistencies real extracts carry; each such
 *    decision is a counted warning.
 */
#include "careclock/import.h"
#include "careclock/error.h"
#include "util/grow.h"
#include "careclock/utf8.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Columns each kind uses, by position in cc_import_file_t.col. */
enum { H_CHILD, H_DOB, H_NCOLS };
enum { E_CHILD, E_DECOM, E_RNE, E_PLACE, E_DEC, E_REC, E_LS, E_PROVIDER, E_NCOLS };
/* Episode columns an older or partial extract may lack (from E_LS on). */
#define E_REQUIRED E_LS
enum { R_CHILD, R_DOB, R_REVIEW, R_NCOLS };

/* Longest PLACE or REC accepted: the 903's codes are 2 or 3 characters;
 * the bound keeps an event's attributes within cc_import_episode_attrs'
 * buffers (CC_IMPORT_ATTRS_MAX). */
#define CODE_MAX 32
_Static_assert(sizeof("{\"place\":\"\",\"provider\":\"\",\"legal_status\":\"\"}") + 3 * 2 * CODE_MAX <=
                   CC_IMPORT_ATTRS_MAX,
               "attributes fit");

static const char *const HEADER_COLS[] = {"CHILD", "DOB"};
static const char *const EPISODE_COLS[] = {"CHILD", "DECOM", "RNE", "PLACE", "DEC", "REC", "LS", "PLACE_PROVIDER"};

/* The SSDA903 legal status codes (the DfE's children looked after return
 * guide): C1 interim care order, C2 full care order, D1 freeing order, E1
 * placement order, J1-J3 youth justice, L1-L3 police protection, EPO, child
 * assessment order, V2 single period of s20 accommodation, V3 and V4 an
 * agreed series of short breaks (V3: each episode recorded; V4: the
 * agreements). */
static const char *const LEGAL_STATUSES[] = {"C1", "C2", "D1", "E1", "J1", "J2", "J3",
                                             "L1", "L2", "L3", "V2", "V3", "V4", NULL};

int cc_import_legal_status_valid(const char *ls)
{
    for (size_t i = 0; LEGAL_STATUSES[i]; i++)
        if (strcmp(ls, LEGAL_STATUSES[i]) == 0)
            return 1;
    return 0;
}

/* Legal statuses that authorise a placement for adoption (903 guide: E1
 * placement order granted, D1 freeing order granted). */
static int authorises_adoption(const char *ls)
{
    return strcmp(ls, "E1") == 0 || strcmp(ls, "D1") == 0;
}
static const char *const REVIEW_COLS[] = {"CHILD", "DOB", "REVIEW"};

static const struct {
    const char *id, *text;
} WARNINGS[CC_IMPORT_W_COUNT] = {
    [CC_IMPORT_W_FIRST_NOT_S] = {"first_episode_not_s",
                                 "the child's first episode is not RNE S (started to be looked after): its DECOM is "
                                 "taken as the start of care"},
    [CC_IMPORT_W_NEW_PERIOD_NOT_S] = {"new_period_not_s",
                                      "an episode after an end of care (REC other than X1) is not RNE S: taken as "
                                      "the start of a new period of care"},
    [CC_IMPORT_W_S_IN_PERIOD] = {"s_within_period",
                                 "RNE S while the period of care continues (the previous episode ended X1 or has no "
                                 "DEC): taken as a continuation, no new start"},
    [CC_IMPORT_W_OVERLAP] = {"overlapping_episodes",
                             "an episode begins before the previous one ended: taken as one continuous period of "
                             "care (an end of care inside it is not recorded)"},
    [CC_IMPORT_W_GAP] = {"gap_after_x1",
                         "the previous episode ended X1 (care continues) but the next begins later: taken as "
                         "continuous care"},
    [CC_IMPORT_W_OPEN_FOLLOWED] = {"open_episode_followed",
                                   "an episode without DEC is followed by a later episode: taken as ending when the "
                                   "next began, care continuing"},
    [CC_IMPORT_W_SAME_DAY_RESTART] = {"ended_and_restarted_same_day",
                                      "care ended and a new episode began on the same day: taken as continuous care "
                                      "(the end is not recorded)"},
    [CC_IMPORT_W_REC_WITHOUT_DEC] = {"rec_without_dec",
                                     "REC says care ended (not X1) but DEC is empty: no end of care recorded, the "
                                     "episode is taken as open"},
    [CC_IMPORT_W_END_FUTURE] = {"dec_after_today", "DEC is after today: no end of care recorded yet"},
    [CC_IMPORT_W_EPISODE_FUTURE] = {"decom_after_today", "DECOM is after today: the episode is not imported"},
    [CC_IMPORT_W_REVIEW_FUTURE] = {"review_after_today", "REVIEW is after today: not imported as a review held"},
    [CC_IMPORT_W_REVIEW_DUPLICATE] = {"duplicate_review", "the same child and REVIEW date twice: imported once"},
    [CC_IMPORT_W_REVIEW_DOB] = {"review_dob_differs",
                                "a review's DOB differs from the header's: the header's DOB is kept"},
    [CC_IMPORT_W_REVIEWS_NO_EPISODES] = {"reviews_without_episodes",
                                         "a child has reviews but no episodes: the reviews are imported, and meet no "
                                         "review clock (no period of care starts one)"},
    [CC_IMPORT_W_REVIEW_OUTSIDE_CARE] = {"review_outside_care",
                                         "a review is dated outside every period of care: imported, and meets no "
                                         "review clock"},
};

const char *cc_import_warn_id(cc_import_warn_t w)
{
    return (unsigned)w < CC_IMPORT_W_COUNT ? WARNINGS[w].id : "unknown";
}

const char *cc_import_warn_text(cc_import_warn_t w)
{
    return (unsigned)w < CC_IMPORT_W_COUNT ? WARNINGS[w].text : "";
}

const char *cc_import_kind_name(cc_import_kind_t kind)
{
    switch (kind) {
    case CC_IMPORT_HEADER: return "header";
    case CC_IMPORT_EPISODES: return "episodes";
    case CC_IMPORT_REVIEWS: return "reviews";
    default: return "unknown";
    }
}

static const char *const SLOT_TYPES[CC_IMPORT_SLOTS] = {"looked_after_start", "placement_start", "looked_after_end",
                                                         "legal_status_change", "authority_to_place"};
static const char *const SLOT_SUFFIX[CC_IMPORT_SLOTS] = {"start", "placement", "end", "legal", "authority"};

const char *cc_import_slot_type(int slot)
{
    return slot >= 0 && slot < CC_IMPORT_SLOTS ? SLOT_TYPES[slot] : "";
}

int cc_import_writes_attr(const char *key)
{
    return strcmp(key, "place") == 0 || strcmp(key, "provider") == 0 || strcmp(key, "legal_status") == 0 ||
           strcmp(key, "rec") == 0;
}

int cc_import_writes_type(const char *type)
{
    for (int i = 0; i < CC_IMPORT_SLOTS; i++)
        if (strcmp(type, SLOT_TYPES[i]) == 0)
            return 1;
    return strcmp(type, "review_held") == 0;
}

/* ---- small helpers ---- */

/* Strip ASCII spaces and tabs around s, in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Index of name among the n column names (trimmed, any case), or -1. */
static int column_of(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = names[i];
        while (*s == ' ' || *s == '\t')
            s++;
        size_t len = strlen(name);
        if (strncasecmp(s, name, len) == 0) {
            const char *rest = s + len;
            while (*rest == ' ' || *rest == '\t')
                rest++;
            if (*rest == '\0')
                return (int)i;
        }
    }
    return -1;
}

cc_import_kind_t cc_import_recognise(char *const *names, size_t n)
{
    int child = column_of(names, n, "CHILD") >= 0;
    int dob = column_of(names, n, "DOB") >= 0;
    int decom = column_of(names, n, "DECOM") >= 0;
    int review = column_of(names, n, "REVIEW") >= 0;
    if (!child)
        return CC_IMPORT_UNKNOWN;
    if (review && dob && !decom)
        return CC_IMPORT_REVIEWS;
    if (decom && column_of(names, n, "RNE") >= 0 && !review)
        return CC_IMPORT_EPISODES;
    if (dob && column_of(names, n, "SEX") >= 0 && !decom && !review && column_of(names, n, "DUC") < 0)
        return CC_IMPORT_HEADER;
    return CC_IMPORT_UNKNOWN;
}

static int has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

/* Text the database and every JSON output can carry: no control
 * characters, well-formed UTF-8. */
static int valid_text(const char *s)
{
    return !has_control(s) && cc_utf8_valid(s, strlen(s));
}

/* A 903 code (PLACE, REC): printable ASCII, as the DfE's codes are. It
 * goes into an event's attributes JSON, which must stay valid. */
static int valid_code(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            return 0;
    return strlen(s) <= CODE_MAX;
}

/* A value for a message: quoted, control characters shown as '?', long
 * values cut. Returns buf. */
static const char *shown(const char *value, char *buf, size_t len)
{
    size_t o = 0;
    buf[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)value; *p && o + 5 < len; p++)
        buf[o++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
    if (strlen(value) + 5 >= len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

#define SHOW(v) shown((v), (char[96]){0}, 96)

static void warn(cc_import_t *imp, cc_import_warn_t w, const char *file, size_t line)
{
    cc_import_warning_t *x = &imp->warnings[w];
    if (x->count++ == 0) {
        x->file = file;
        x->line = line;
    }
}

static int problem(cc_import_t *imp, const char *file, size_t line, size_t column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Record a bad row. Returns 0 or CC_ENOMEM. */
static int problem(cc_import_t *imp, const char *file, size_t line, size_t column, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (cc__grow(&imp->problems, &imp->capproblems, imp->nproblems + 1, sizeof(*imp->problems), 16) != 0)
        return CC_ENOMEM;
    char *copy = strdup(text);
    if (copy == NULL)
        return CC_ENOMEM;
    imp->problems[imp->nproblems++] = (cc_import_problem_t){file, line, column, copy};
    return 0;
}

/* ---- lifecycle ---- */

void cc_import_init(cc_import_t *imp, cc_date_t today)
{
    memset(imp, 0, sizeof(*imp));
    imp->today = today;
    cc_strmap_init(&imp->child_index);
    cc_strmap_init(&imp->bad_children);
}

void cc_import_free(cc_import_t *imp)
{
    if (imp == NULL)
        return;
    for (size_t i = 0; i < imp->nfiles; i++) {
        free(imp->files[i].name);
        free(imp->files[i].buf);
        cc_csv_free(&imp->files[i].csv);
    }
    free(imp->files);
    for (size_t i = 0; i < imp->nproblems; i++)
        free(imp->problems[i].message);
    free(imp->problems);
    free(imp->children);
    free(imp->episodes);
    free(imp->reviews);
    cc_strmap_free(&imp->child_index);
    cc_strmap_free(&imp->bad_children);
    memset(imp, 0, sizeof(*imp));
}

int cc_import_add_file(cc_import_t *imp, const char *name, char *buf, size_t len, cc_import_kind_t *kind, char *err,
                       size_t errlen)
{
    cc_import_file_t f;
    int rc;
    memset(&f, 0, sizeof(f));
    *kind = CC_IMPORT_UNKNOWN;
    cc_csv_init(&f.csv, buf, len);
    rc = cc_csv_next(&f.csv);
    if (rc == CC_EPARSE) {
        snprintf(err, errlen, "%s:%zu:%zu: %s", name, f.csv.err_line, f.csv.err_column, f.csv.err);
        goto fail;
    }
    if (rc < 0)
        goto fail;
    f.kind = rc == 1 ? cc_import_recognise(f.csv.fields, f.csv.nfields) : CC_IMPORT_UNKNOWN;
    if (f.kind == CC_IMPORT_UNKNOWN) {
        rc = 0;
        goto fail;
    }
    const char *const *want = f.kind == CC_IMPORT_HEADER ? HEADER_COLS : f.kind == CC_IMPORT_EPISODES ? EPISODE_COLS
                                                                                                       : REVIEW_COLS;
    size_t nwant = f.kind == CC_IMPORT_HEADER ? H_NCOLS : f.kind == CC_IMPORT_EPISODES ? E_NCOLS : R_NCOLS;
    f.ncols = f.csv.nfields;
    for (size_t i = 0; i < nwant; i++) {
        f.col[i] = column_of(f.csv.fields, f.csv.nfields, want[i]);
        if (f.col[i] < 0 && f.kind == CC_IMPORT_EPISODES && i >= E_REQUIRED)
            continue; /* optional: LS, PLACE_PROVIDER */
        if (f.col[i] < 0) {
            snprintf(err, errlen, "%s:%zu:%zu: an SSDA903 %s file needs a %s column", name, f.csv.row_line,
                     f.csv.nfields + 1, cc_import_kind_name(f.kind), want[i]);
            rc = CC_EPARSE;
            goto fail;
        }
        /* The same column twice would make the row ambiguous. */
        for (size_t j = (size_t)f.col[i] + 1; j < f.csv.nfields; j++) {
            char *const one[1] = {f.csv.fields[j]};
            if (column_of(one, 1, want[i]) == 0) {
                snprintf(err, errlen, "%s:%zu:%zu: the %s column appears twice (columns %d and %zu)", name,
                         f.csv.row_line, j + 1, want[i], f.col[i] + 1, j + 1);
                rc = CC_EPARSE;
                goto fail;
            }
        }
    }
    if (cc__grow(&imp->files, &imp->capfiles, imp->nfiles + 1, sizeof(*imp->files), 4) != 0 ||
        (f.name = strdup(name)) == NULL) {
        rc = CC_ENOMEM;
        goto fail;
    }
    f.buf = buf;
    f.len = len;
    if (f.kind == CC_IMPORT_EPISODES && f.col[E_LS] < 0)
        imp->episodes_without_ls = 1;
    imp->files[imp->nfiles++] = f;
    *kind = f.kind;
    return 0;
fail:
    if (rc == CC_ENOMEM)
        snprintf(err, errlen, "out of memory");
    cc_csv_free(&f.csv);
    free(f.name);
    free(buf);
    return rc;
}

/* ---- keys and attributes ---- */

char *cc_import_episode_key(char *buf, size_t len, const char *child, cc_date_t decom, int slot)
{
    char d[CC_DATE_STRLEN];
    int n = snprintf(buf, len, "903:%s:episode:%s:%s", child, cc_date_format(decom, d), SLOT_SUFFIX[slot]);
    return n > 0 && (size_t)n < len ? buf : NULL;
}

char *cc_import_review_key(char *buf, size_t len, const char *child, cc_date_t date)
{
    char d[CC_DATE_STRLEN];
    int n = snprintf(buf, len, "903:%s:review:%s", child, cc_date_format(date, d));
    return n > 0 && (size_t)n < len ? buf : NULL;
}

/* Append s as JSON string text (quotes and backslashes escaped; control
 * characters never reach here: rows carrying them are refused). */
static size_t json_text(char *buf, size_t o, size_t len, const char *s)
{
    for (; *s && o + 3 < len; s++) {
        if (*s == '"' || *s == '\\')
            buf[o++] = '\\';
        buf[o++] = *s;
    }
    return o;
}

char *cc_import_episode_attrs(const cc_import_episode_t *ep, int slot, char *buf, size_t len)
{
    const char *keys[3], *values[3];
    int n = 0;
    const char *ls = ep->ls ? ep->ls : "", *provider = ep->provider ? ep->provider : "";
    if (slot == CC_IMPORT_PLACEMENT && ep->place && ep->place[0])
        keys[n] = "place", values[n++] = ep->place;
    if (slot == CC_IMPORT_PLACEMENT && provider[0])
        keys[n] = "provider", values[n++] = provider;
    if (slot != CC_IMPORT_END && ls[0])
        keys[n] = "legal_status", values[n++] = ls;
    if (slot == CC_IMPORT_END && ep->rec && ep->rec[0])
        keys[n] = "rec", values[n++] = ep->rec;
    size_t o = (size_t)snprintf(buf, len, "{");
    for (int i = 0; i < n && o < len; i++) {
        o += (size_t)snprintf(buf + o, len - o, "%s\"%s\":\"", i ? "," : "", keys[i]);
        o = json_text(buf, o, len, values[i]);
        o += (size_t)snprintf(buf + o, len - o, "\"");
    }
    if (o < len)
        snprintf(buf + o, len - o, "}");
    return buf;
}

/* ---- rows ---- */

/* Column `which` of the current row, trimmed; "" when the row is too
 * short to have it (check_width reports that). */
static char *field(cc_import_file_t *f, int which)
{
    static char empty[1];
    if (f->col[which] < 0)
        return empty; /* an optional column the file lacks */
    size_t k = (size_t)f->col[which];
    return k < f->csv.nfields ? trim(f->csv.fields[k]) : empty;
}

static const cc_import_file_t *file_named(const cc_import_t *imp, const char *name)
{
    for (size_t k = 0; k < imp->nfiles; k++)
        if (imp->files[k].name == name)
            return &imp->files[k];
    return NULL;
}

/* Parse a dd/mm/yyyy field; on failure record a problem. Returns 1 when
 * parsed, 0 when not (problem recorded), CC_ENOMEM. */
static int date_field(cc_import_t *imp, cc_import_file_t *f, int which, const char *name, cc_date_t *out)
{
    const char *text = field(f, which);
    if (cc_date_parse_uk(text, out) == 0)
        return 1;
    int rc = text[0] == '\0' ? problem(imp, f->name, f->csv.row_line, (size_t)f->col[which] + 1, "%s is empty", name)
                             : problem(imp, f->name, f->csv.row_line, (size_t)f->col[which] + 1,
                                       "%s %s is not a valid date (expected dd/mm/yyyy, a day that exists)", name,
                                       SHOW(text));
    return rc == 0 ? 0 : rc;
}

/* The row has as many fields as the column-name row; else a problem. */
static int check_width(cc_import_t *imp, cc_import_file_t *f)
{
    size_t n = f->csv.nfields;
    if (n == f->ncols)
        return 1;
    int rc = problem(imp, f->name, f->csv.row_line, (n < f->ncols ? n : f->ncols) + 1,
                     "expected %zu columns, as in the first row, but the row has %zu", f->ncols, n);
    return rc == 0 ? 0 : rc;
}

/* CHILD of an episode or review row: must be a child of the header files.
 * Returns 1 with *child set, 0 (problem recorded), CC_ENOMEM. */
static int known_child(cc_import_t *imp, cc_import_file_t *f, int col, size_t *child)
{
    const char *id = field(f, col);
    size_t *at = cc_strmap_get(&imp->child_index, id);
    if (at != NULL) {
        *child = *at;
        return 1;
    }
    size_t *bad = cc_strmap_get(&imp->bad_children, id);
    int rc;
    if (id[0] == '\0')
        rc = problem(imp, f->name, f->csv.row_line, (size_t)f->col[col] + 1, "CHILD is empty");
    else if (bad != NULL)
        rc = problem(imp, f->name, f->csv.row_line, (size_t)f->col[col] + 1,
                     "child %s is not imported: its header row (%s:%zu) is bad", SHOW(id),
                     imp->problems[*bad].file, imp->problems[*bad].line);
    else
        rc = problem(imp, f->name, f->csv.row_line, (size_t)f->col[col] + 1, "child %s is not in the header file",
                     SHOW(id));
    return rc == 0 ? 0 : rc;
}

static int header_row(cc_import_t *imp, cc_import_file_t *f)
{
    size_t before = imp->nproblems;
    const char *id = field(f, H_CHILD);
    size_t col = (size_t)f->col[H_CHILD] + 1;
    cc_date_t dob = 0;
    int rc = check_width(imp, f);
    if (rc == 1) {
        size_t *dup = cc_strmap_get(&imp->child_index, id);
        if (id[0] == '\0')
            rc = problem(imp, f->name, f->csv.row_line, col, "CHILD is empty");
        else if (strlen(id) > CC_ID_MAX || !valid_text(id))
            rc = problem(imp, f->name, f->csv.row_line, col,
                         "CHILD %s is not a valid id (at most %d characters, no control characters, UTF-8)", SHOW(id),
                         CC_ID_MAX);
        else if (dup != NULL)
            rc = problem(imp, f->name, f->csv.row_line, col, "child %s appears twice in the header (first at %s:%zu)",
                         SHOW(id), imp->children[*dup].file, imp->children[*dup].line);
        else if ((rc = date_field(imp, f, H_DOB, "DOB", &dob)) == 1 && dob > imp->today) {
            char d[CC_DATE_STRLEN];
            rc = problem(imp, f->name, f->csv.row_line, (size_t)f->col[H_DOB] + 1, "DOB %s is after today (%s)",
                         SHOW(field(f, H_DOB)), cc_date_format(imp->today, d));
        }
    }
    if (rc < 0)
        return rc;
    if (imp->nproblems > before) {
        /* Remember the child so that its other rows say why they are out;
         * the first bad row of an id is the one to point at. */
        if (id[0] != '\0' && cc_strmap_get(&imp->child_index, id) == NULL) {
            int r = cc_strmap_put(&imp->bad_children, id, before, NULL);
            if (r == CC_ENOMEM)
                return r;
        }
        return 0;
    }
    if (cc__grow(&imp->children, &imp->capchildren, imp->nchildren + 1, sizeof(*imp->children), 256) != 0 ||
        cc_strmap_put(&imp->child_index, id, imp->nchildren, NULL) != 0)
        return CC_ENOMEM;
    imp->children[imp->nchildren++] = (cc_import_child_t){.id = id, .dob = dob, .file = f->name,
                                                          .line = f->csv.row_line, .window = CC_DATE_NONE};
    return 0;
}

/* A bad episode or review row of a known child: its earlier events are
 * kept whole (nothing of that child is deleted as "gone"). */
static void mark_skipped(cc_import_t *imp, cc_import_file_t *f, int child_col)
{
    size_t *at = cc_strmap_get(&imp->child_index, field(f, child_col));
    if (at != NULL)
        imp->children[*at].skipped_rows = 1;
}

static int is_rne(const char *rne)
{
    return rne[0] != '\0' && rne[1] == '\0' && strchr("SLPBTU", rne[0]) != NULL;
}

static void widen_window(cc_import_child_t *c, cc_date_t d)
{
    if (c->window == CC_DATE_NONE || d < c->window)
        c->window = d;
}

static int episode_row(cc_import_t *imp, cc_import_file_t *f)
{
    size_t before = imp->nproblems, child = 0;
    cc_date_t decom = 0, dec = CC_DATE_NONE;
    char d1[CC_DATE_STRLEN];
    int rc = check_width(imp, f);
    if (rc == 1)
        rc = known_child(imp, f, E_CHILD, &child);
    if (rc == 1)
        rc = date_field(imp, f, E_DECOM, "DECOM", &decom);
    if (rc < 0)
        return rc;
    if (imp->nproblems > before)
        goto bad;
    const cc_import_child_t *c = &imp->children[child];
    const char *rne = field(f, E_RNE), *place = field(f, E_PLACE), *rec = field(f, E_REC), *dectext = field(f, E_DEC);
    const char *ls = field(f, E_LS), *provider = field(f, E_PROVIDER);
    size_t line = f->csv.row_line;
    if (decom < c->dob)
        rc = problem(imp, f->name, line, (size_t)f->col[E_DECOM] + 1, "DECOM %s is before the child's DOB (%s)",
                     SHOW(field(f, E_DECOM)), cc_date_format(c->dob, d1));
    else if (!is_rne(rne))
        rc = problem(imp, f->name, line, (size_t)f->col[E_RNE] + 1,
                     "RNE %s is not one of S, L, P, B, T, U (the reason for a new episode)", SHOW(rne));
    else if (!valid_code(place))
        rc = problem(imp, f->name, line, (size_t)f->col[E_PLACE] + 1,
                     "PLACE %s is not a placement code (at most %d characters, printable ASCII)", SHOW(place),
                     CODE_MAX);
    else if (!valid_code(rec))
        rc = problem(imp, f->name, line, (size_t)f->col[E_REC] + 1,
                     "REC %s is not a reason code (at most %d characters, printable ASCII)", SHOW(rec), CODE_MAX);
    else if (ls[0] != '\0' && !cc_import_legal_status_valid(ls))
        /* It decides which regime's clocks the child has: never guessed. */
        rc = problem(imp, f->name, line, (size_t)f->col[E_LS] + 1,
                     "LS %s is not a legal status code (C1, C2, D1, E1, J1, J2, J3, L1, L2, L3, V2, V3, V4)", SHOW(ls));
    else if (!valid_code(provider))
        rc = problem(imp, f->name, line, (size_t)f->col[E_PROVIDER] + 1,
                     "PLACE_PROVIDER %s is not a provider code (at most %d characters, printable ASCII)",
                     SHOW(provider), CODE_MAX);
    else if (dectext[0] != '\0' && (rc = date_field(imp, f, E_DEC, "DEC", &dec)) == 1) {
        if (dec < decom)
            rc = problem(imp, f->name, line, (size_t)f->col[E_DEC] + 1, "DEC %s is before DECOM %s", SHOW(dectext),
                         SHOW(field(f, E_DECOM)));
        else if (rec[0] == '\0')
            rc = problem(imp, f->name, line, (size_t)f->col[E_REC] + 1,
                         "REC is empty but DEC is given (why the episode ended: X1 if care continues)");
    }
    if (rc < 0)
        return rc;
    if (imp->nproblems > before)
        goto bad;
    if (cc__grow(&imp->episodes, &imp->capepisodes, imp->nepisodes + 1, sizeof(*imp->episodes), 256) != 0)
        return CC_ENOMEM;
    imp->episodes[imp->nepisodes++] = (cc_import_episode_t){.child = child, .file = f->name, .line = line,
                                                            .decom = decom, .dec = dec, .rne = rne,
                                                            .place = place, .rec = rec, .ls = ls,
                                                            .provider = provider};
    widen_window(&imp->children[child], decom);
    return 0;
bad:
    mark_skipped(imp, f, E_CHILD);
    return 0;
}

static int review_row(cc_import_t *imp, cc_import_file_t *f)
{
    size_t before = imp->nproblems, child = 0;
    cc_date_t date = 0, dob = 0;
    char d1[CC_DATE_STRLEN];
    int rc = check_width(imp, f);
    if (rc == 1)
        rc = known_child(imp, f, R_CHILD, &child);
    if (rc == 1)
        rc = date_field(imp, f, R_REVIEW, "REVIEW", &date);
    if (rc == 1)
        rc = date_field(imp, f, R_DOB, "DOB", &dob);
    if (rc == 1 && date < imp->children[child].dob)
        rc = problem(imp, f->name, f->csv.row_line, (size_t)f->col[R_REVIEW] + 1,
                     "REVIEW %s is before the child's DOB (%s)", SHOW(field(f, R_REVIEW)),
                     cc_date_format(imp->children[child].dob, d1));
    if (rc < 0)
        return rc;
    if (imp->nproblems > before) {
        mark_skipped(imp, f, R_CHILD);
        return 0;
    }
    if (dob != imp->children[child].dob)
        warn(imp, CC_IMPORT_W_REVIEW_DOB, f->name, f->csv.row_line);
    if (cc__grow(&imp->reviews, &imp->capreviews, imp->nreviews + 1, sizeof(*imp->reviews), 256) != 0)
        return CC_ENOMEM;
    imp->reviews[imp->nreviews++] =
        (cc_import_review_t){.child = child, .file = f->name, .line = f->csv.row_line, .date = date};
    widen_window(&imp->children[child], date);
    return 0;
}

/* ---- mapping ---- */

static int episode_cmp(const void *a, const void *b)
{
    const cc_import_episode_t *x = a, *y = b;
    if (x->child != y->child)
        return x->child < y->child ? -1 : 1;
    if (x->decom != y->decom)
        return x->decom < y->decom ? -1 : 1;
    if (x->file != y->file)
        return strcmp(x->file, y->file);
    return (x->line > y->line) - (x->line < y->line);
}

static int review_cmp(const void *a, const void *b)
{
    const cc_import_review_t *x = a, *y = b;
    if (x->child != y->child)
        return x->child < y->child ? -1 : 1;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    if (x->file != y->file)
        return strcmp(x->file, y->file);
    return (x->line > y->line) - (x->line < y->line);
}

/* The periods of care of one child from its episodes (DECOM order): which
 * events each episode produces. See docs/import.md for the rules. */
static void map_episodes(cc_import_t *imp, cc_import_episode_t *eps, size_t n)
{
    cc_import_episode_t *prev = NULL;
    cc_date_t prev_dec = CC_DATE_NONE; /* the previous episode's DEC as used (none when empty or future) */
    int in_care = 0, first = 1;
    int authorised = 0; /* the period of care already has an authority to place for adoption */
    for (size_t i = 0; i < n; i++) {
        cc_import_episode_t *e = &eps[i];
        memset(e->has, 0, sizeof(e->has));
        if (e->decom > imp->today) {
            e->future = 1;
            warn(imp, CC_IMPORT_W_EPISODE_FUTURE, e->file, e->line);
            continue;
        }
        cc_date_t dec = e->dec;
        if (dec != CC_DATE_NONE && dec > imp->today) {
            warn(imp, CC_IMPORT_W_END_FUTURE, e->file, e->line);
            dec = CC_DATE_NONE;
        }
        int continuing = in_care;
        if (prev != NULL && in_care) {
            if (prev_dec == CC_DATE_NONE)
                warn(imp, CC_IMPORT_W_OPEN_FOLLOWED, e->file, e->line);
            else if (e->decom > prev_dec)
                warn(imp, CC_IMPORT_W_GAP, e->file, e->line);
            else if (e->decom < prev_dec)
                warn(imp, CC_IMPORT_W_OVERLAP, e->file, e->line);
        } else if (prev != NULL && e->decom <= prev->date[CC_IMPORT_END]) {
            /* The previous episode ended care on or after this one began:
             * care never stopped (the engine could not place an end and a
             * start on one day in that order anyway). */
            warn(imp, e->decom == prev->date[CC_IMPORT_END] ? CC_IMPORT_W_SAME_DAY_RESTART : CC_IMPORT_W_OVERLAP,
                 e->file, e->line);
            prev->has[CC_IMPORT_END] = 0;
            in_care = 1;
        }
        if (!in_care) {
            if (e->rne[0] != 'S')
                warn(imp, first ? CC_IMPORT_W_FIRST_NOT_S : CC_IMPORT_W_NEW_PERIOD_NOT_S, e->file, e->line);
            e->has[CC_IMPORT_START] = 1;
            e->date[CC_IMPORT_START] = e->decom;
            in_care = 1;
            authorised = 0;
        } else if (continuing && e->rne[0] == 'S') {
            warn(imp, CC_IMPORT_W_S_IN_PERIOD, e->file, e->line);
        }
        if (e->rne[0] != 'L') {
            e->has[CC_IMPORT_PLACEMENT] = 1;
            e->date[CC_IMPORT_PLACEMENT] = e->decom;
        } else if (!e->has[CC_IMPORT_START] && e->ls && e->ls[0]) {
            /* A legal status change only, within the period (its placement
             * goes on): the new status holds from DECOM (the placement
             * events of B and U rows carry theirs). */
            e->has[CC_IMPORT_LEGAL] = 1;
            e->date[CC_IMPORT_LEGAL] = e->decom;
        }
        /* The first E1 or D1 of a period of care: the agency's authority
         * to place for adoption (AAR 2005 reg 36(1) counts from it). */
        if (e->ls && authorises_adoption(e->ls)) {
            if (!authorised) {
                e->has[CC_IMPORT_AUTHORITY] = 1;
                e->date[CC_IMPORT_AUTHORITY] = e->decom;
            }
            authorised = 1;
        }
        if (dec != CC_DATE_NONE && strcmp(e->rec, "X1") != 0) {
            e->has[CC_IMPORT_END] = 1;
            e->date[CC_IMPORT_END] = dec;
            in_care = 0;
        } else if (e->dec == CC_DATE_NONE && e->rec[0] != '\0' && strcmp(e->rec, "X1") != 0) {
            warn(imp, CC_IMPORT_W_REC_WITHOUT_DEC, e->file, e->line);
        }
        prev = e;
        prev_dec = dec;
        first = 0;
    }
}

/* 1 if date falls inside a period of care of these (mapped) episodes. */
static int in_care_on(const cc_import_episode_t *eps, size_t n, cc_date_t date)
{
    int in = 0;
    for (size_t i = 0; i < n && eps[i].decom <= date; i++) {
        if (eps[i].future)
            continue;
        if (eps[i].has[CC_IMPORT_START])
            in = 1;
        if (eps[i].has[CC_IMPORT_END] && eps[i].date[CC_IMPORT_END] < date)
            in = 0;
    }
    return in;
}

/* 1 if the latest episode beginning on or before date was a short break
 * (LS V3, V4): the review of a series of short breaks falls between stays
 * (CPPCR reg 48), and is no review outside care. */
static int short_breaks_before(const cc_import_episode_t *eps, size_t n, cc_date_t date)
{
    const cc_import_episode_t *last = NULL;
    for (size_t i = 0; i < n && eps[i].decom <= date; i++)
        if (!eps[i].future)
            last = &eps[i];
    return last != NULL && last->ls != NULL && (strcmp(last->ls, "V3") == 0 || strcmp(last->ls, "V4") == 0);
}

static void map_reviews(cc_import_t *imp, const cc_import_child_t *c)
{
    /* No episodes file at all leaves imp->episodes NULL: no arithmetic on it. */
    const cc_import_episode_t *eps = c->nepisodes > 0 ? imp->episodes + c->first_episode : NULL;
    int any_episode = 0, any_review = 0;
    for (size_t i = 0; i < c->nepisodes; i++)
        any_episode |= !eps[i].future;
    for (size_t i = 0; i < c->nreviews; i++) {
        cc_import_review_t *r = &imp->reviews[c->first_review + i];
        if (r->date > imp->today) {
            r->status = CC_IMPORT_REVIEW_FUTURE;
            warn(imp, CC_IMPORT_W_REVIEW_FUTURE, r->file, r->line);
            continue;
        }
        if (i > 0 && r[-1].date == r->date) {
            r->status = CC_IMPORT_REVIEW_DUPLICATE;
            warn(imp, CC_IMPORT_W_REVIEW_DUPLICATE, r->file, r->line);
            continue;
        }
        if (!any_review && !any_episode)
            warn(imp, CC_IMPORT_W_REVIEWS_NO_EPISODES, r->file, r->line);
        else if (any_episode && !in_care_on(eps, c->nepisodes, r->date) && !short_breaks_before(eps, c->nepisodes,
                                                                                                r->date))
            warn(imp, CC_IMPORT_W_REVIEW_OUTSIDE_CARE, r->file, r->line);
        any_review = 1;
    }
}

static int read_rows(cc_import_t *imp, cc_import_kind_t kind, char *err, size_t errlen)
{
    for (size_t i = 0; i < imp->nfiles; i++) {
        cc_import_file_t *f = &imp->files[i];
        if (f->kind != kind)
            continue;
        int rc;
        while ((rc = cc_csv_next(&f->csv)) == 1) {
            f->rows++;
            imp->rows[kind]++;
            rc = kind == CC_IMPORT_HEADER ? header_row(imp, f) : kind == CC_IMPORT_EPISODES ? episode_row(imp, f)
                                                                                            : review_row(imp, f);
            if (rc != 0)
                break;
        }
        if (rc == CC_EPARSE)
            snprintf(err, errlen, "%s:%zu:%zu: %s", f->name, f->csv.err_line, f->csv.err_column, f->csv.err);
        else if (rc == CC_ENOMEM)
            snprintf(err, errlen, "out of memory");
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int problem_cmp(const void *a, const void *b)
{
    const cc_import_problem_t *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    if (c != 0)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (x->column > y->column) - (x->column < y->column);
}

int cc_import_map(cc_import_t *imp, char *err, size_t errlen)
{
    int headers = 0, others = 0, rc;
    for (size_t i = 0; i < imp->nfiles; i++) {
        headers += imp->files[i].kind == CC_IMPORT_HEADER;
        others += imp->files[i].kind != CC_IMPORT_HEADER;
    }
    if (others > 0 && headers == 0) {
        snprintf(err, errlen, "no SSDA903 header file among the files: the children (CHILD, DOB) come from it");
        return CC_EINVAL;
    }
    if ((rc = read_rows(imp, CC_IMPORT_HEADER, err, errlen)) != 0 ||
        (rc = read_rows(imp, CC_IMPORT_EPISODES, err, errlen)) != 0 ||
        (rc = read_rows(imp, CC_IMPORT_REVIEWS, err, errlen)) != 0)
        return rc;
    /* Duplicate episodes (same child and DECOM) would share keys. */
    if (imp->nepisodes > 1)
        qsort(imp->episodes, imp->nepisodes, sizeof(*imp->episodes), episode_cmp);
    if (imp->nreviews > 1)
        qsort(imp->reviews, imp->nreviews, sizeof(*imp->reviews), review_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < imp->nepisodes; i++) {
        cc_import_episode_t *e = &imp->episodes[i];
        if (kept > 0 && imp->episodes[kept - 1].child == e->child && imp->episodes[kept - 1].decom == e->decom) {
            const cc_import_episode_t *first = &imp->episodes[kept - 1];
            char d[CC_DATE_STRLEN];
            const cc_import_file_t *ef = file_named(imp, e->file);
            if (problem(imp, e->file, e->line, ef ? (size_t)ef->col[E_DECOM] + 1 : 0,
                        "child %s already has an episode starting on %s (%s:%zu): one episode per DECOM",
                        SHOW(imp->children[e->child].id), cc_date_format(e->decom, d), first->file,
                        first->line) != 0)
                return CC_ENOMEM;
            imp->children[e->child].skipped_rows = 1;
            continue;
        }
        imp->episodes[kept++] = *e;
    }
    imp->nepisodes = kept;
    for (size_t i = 0, j = 0, k = 0; i < imp->nchildren; i++) {
        cc_import_child_t *c = &imp->children[i];
        c->first_episode = j;
        while (j < imp->nepisodes && imp->episodes[j].child == i)
            j++;
        c->nepisodes = j - c->first_episode;
        c->first_review = k;
        while (k < imp->nreviews && imp->reviews[k].child == i)
            k++;
        c->nreviews = k - c->first_review;
        if (c->nepisodes > 0)
            map_episodes(imp, imp->episodes + c->first_episode, c->nepisodes);
        map_reviews(imp, c);
    }
    /* Problems in file, then line order, as a person fixes them. */
    if (imp->nproblems > 1)
        qsort(imp->problems, imp->nproblems, sizeof(*imp->problems), problem_cmp);
    return 0;
}
