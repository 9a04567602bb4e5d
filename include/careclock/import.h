/* The SSDA903 import: the DfE's looked-after children return (header,
 * episodes and reviews CSV files) turned into careclock children and
 * events. docs/import.md describes the mapping and every choice in words.
 *
 * Two halves:
 *  - daemon/core/import.c is pure: file contents in (the caller reads them),
 *    checked rows, warnings and the events each child should have out. No
 *    I/O, no clock reads (today is a parameter).
 *  - daemon/store/import_db.c is the shell: it compares that with the plan
 *    database and writes only what differs, in one transaction.
 *
 * Usage: cc_import_init; cc_import_add_file for each file (any order);
 * cc_import_map; inspect problems (bad rows) and warnings; cc_import_apply
 * (or not, when there are problems and the caller is strict);
 * cc_import_free.
 */
#ifndef CARECLOCK_IMPORT_H
#define CARECLOCK_IMPORT_H

#include "careclock/csv.h"
#include "careclock/date.h"
#include "careclock/engine.h" /* CC_DATE_NONE */
#include "util/strmap.h"

#include <stddef.h>

/* The source written in events.source for everything the import writes. */
#define CC_IMPORT_SOURCE "ssda903"

/* The team new children are placed in until someone allocates them. */
#define CC_IMPORT_TEAM "unallocated"

typedef enum { CC_IMPORT_UNKNOWN = 0, CC_IMPORT_HEADER, CC_IMPORT_EPISODES, CC_IMPORT_REVIEWS } cc_import_kind_t;

/* "header", "episodes", "reviews", "unknown". */
const char *cc_import_kind_name(cc_import_kind_t kind);

/* Recognise a file from the column names of its first row (trimmed,
 * any case, any order): reviews have CHILD, DOB and REVIEW; episodes
 * CHILD, DECOM and RNE; the header CHILD, SEX and DOB (and none of DECOM,
 * REVIEW, or DUC, which marks the UASC file). Anything else is unknown:
 * the other 903 tables, or not a 903 file at all. */
cc_import_kind_t cc_import_recognise(char *const *names, size_t n);

/* What the import noticed and coped with. Each is counted; the summary
 * gives the count, what was done, and where it was first seen. */
typedef enum {
    CC_IMPORT_W_FIRST_NOT_S,        /* a child's first episode is not RNE S: taken as the start of care */
    CC_IMPORT_W_NEW_PERIOD_NOT_S,   /* the episode after an end of care is not RNE S: taken as a new start */
    CC_IMPORT_W_S_IN_PERIOD,        /* RNE S while the period continues (previous REC X1 or no DEC) */
    CC_IMPORT_W_OVERLAP,            /* an episode begins before the previous one ended */
    CC_IMPORT_W_GAP,                /* a gap after an X1 end before the next episode */
    CC_IMPORT_W_OPEN_FOLLOWED,      /* an episode without DEC followed by a later episode */
    CC_IMPORT_W_SAME_DAY_RESTART,   /* care ended and began again on the same day */
    CC_IMPORT_W_REC_WITHOUT_DEC,    /* a REC other than X1 with no DEC: no end of care recorded */
    CC_IMPORT_W_END_FUTURE,         /* DEC after today: no end recorded yet */
    CC_IMPORT_W_EPISODE_FUTURE,     /* DECOM after today: episode not imported */
    CC_IMPORT_W_REVIEW_FUTURE,      /* REVIEW after today: not imported */
    CC_IMPORT_W_REVIEW_DUPLICATE,   /* the same child and REVIEW date twice: imported once */
    CC_IMPORT_W_REVIEW_DOB,         /* a review's DOB differs from the header's */
    CC_IMPORT_W_REVIEWS_NO_EPISODES,/* a child with reviews and no episodes */
    CC_IMPORT_W_REVIEW_OUTSIDE_CARE,/* a review outside every period of care */
    CC_IMPORT_W_COUNT
} cc_import_warn_t;

/* The warning's stable id ("first_episode_not_s") and a sentence saying
 * what the import did about it. */
const char *cc_import_warn_id(cc_import_warn_t w);
const char *cc_import_warn_text(cc_import_warn_t w);

typedef struct {
    size_t count;
    const char *file; /* the first occurrence */
    size_t line;
} cc_import_warning_t;

/* A bad row: FILE:LINE:COLUMN (COLUMN is the 1-based field number) and
 * what is wrong. The row is left out of the import. */
typedef struct {
    const char *file;
    size_t line;
    size_t column;
    char *message;
} cc_import_problem_t;

/* The events an episode can produce, and the suffix of each one's key:
 * start, placement, end, legal (a legal status change within a period of
 * care: RNE L), authority (the first episode of a period whose LS gives
 * authority to place for adoption: E1 placement order, D1 freeing order). */
enum { CC_IMPORT_START, CC_IMPORT_PLACEMENT, CC_IMPORT_END, CC_IMPORT_LEGAL, CC_IMPORT_AUTHORITY, CC_IMPORT_SLOTS };

typedef struct {
    size_t child;           /* index in children */
    const char *file;
    size_t line;
    cc_date_t decom;
    cc_date_t dec;          /* CC_DATE_NONE when empty */
    const char *rne, *place, *rec; /* trimmed field text (inside the file's buffer) */
    const char *ls, *provider;     /* LS and PLACE_PROVIDER: "" when the file has no such column */
    int future;             /* DECOM after today: not imported */
    unsigned char has[CC_IMPORT_SLOTS]; /* the events it produces ... */
    cc_date_t date[CC_IMPORT_SLOTS];    /* ... and their dates */
} cc_import_episode_t;

typedef enum { CC_IMPORT_REVIEW_OK, CC_IMPORT_REVIEW_DUPLICATE, CC_IMPORT_REVIEW_FUTURE } cc_import_review_status_t;

typedef struct {
    size_t child;
    const char *file;
    size_t line;
    cc_date_t date;
    cc_import_review_status_t status;
} cc_import_review_t;

typedef struct {
    const char *id;         /* CHILD */
    cc_date_t dob;
    const char *file;
    size_t line;
    cc_date_t window;       /* earliest DECOM or REVIEW of the child in these files; CC_DATE_NONE */
    int skipped_rows;       /* some of the child's episode or review rows were bad */
    size_t first_episode, nepisodes; /* its episodes, in DECOM order */
    size_t first_review, nreviews;   /* its reviews, in date order */
} cc_import_child_t;

typedef struct {
    char *name;             /* as given */
    char *buf;              /* the contents (owned) */
    size_t len;
    cc_import_kind_t kind;
    cc_csv_t csv;           /* positioned after the column names */
    int col[8];             /* field index of each column the kind uses; -1 for an optional one it lacks */
    size_t ncols;           /* fields in the column-name row */
    size_t rows;            /* data rows read */
} cc_import_file_t;

typedef struct {
    cc_date_t today;
    cc_import_file_t *files;
    size_t nfiles, capfiles;
    /* Results of cc_import_map. */
    cc_import_child_t *children;       /* header order */
    size_t nchildren, capchildren;
    cc_import_episode_t *episodes;     /* grouped by child, DECOM order */
    size_t nepisodes, capepisodes;
    cc_import_review_t *reviews;       /* grouped by child, date order */
    size_t nreviews, capreviews;
    cc_import_problem_t *problems;     /* in file, then line order */
    size_t nproblems, capproblems;
    cc_import_warning_t warnings[CC_IMPORT_W_COUNT];
    size_t rows[4];                    /* data rows read, by kind */
    int episodes_without_ls;           /* an episodes file had no LS column (no legal status regimes) */
    cc_strmap_t child_index;           /* CHILD -> index in children */
    cc_strmap_t bad_children;          /* CHILD of header rows left out -> problem index */
} cc_import_t;

void cc_import_init(cc_import_t *imp, cc_date_t today);

/* Free everything, including the file buffers. NULL-safe. */
void cc_import_free(cc_import_t *imp);

/* Add a file's contents: buf[0..len) with one spare writable byte at
 * buf[len]. The import takes buf (freed by cc_import_free, or at once on
 * error). Reads the first row and recognises the file. Returns 0 with
 * *kind set (CC_IMPORT_UNKNOWN: not kept, not an error, so a directory may
 * hold other files); CC_EPARSE with "NAME:LINE:COLUMN: reason" in err for
 * a file that is not valid CSV or lacks a column its kind needs; CC_ENOMEM. */
int cc_import_add_file(cc_import_t *imp, const char *name, char *buf, size_t len, cc_import_kind_t *kind, char *err,
                       size_t errlen);

/* Check every row and map children, episodes and reviews to events: the
 * header files first, then episodes, then reviews. Bad rows become
 * problems and are left out (the caller decides whether to go on).
 * Returns 0; CC_EINVAL with err when episodes or reviews came without any
 * header file; CC_EPARSE with "NAME:LINE:COLUMN: reason" when a file is
 * not valid CSV (an unclosed quote loses the rest of the file, so this is
 * never a row to skip); CC_ENOMEM. Call once. */
int cc_import_map(cc_import_t *imp, char *err, size_t errlen);

/* The stable source_key of an imported event, into buf:
 *   903:CHILD:episode:YYYY-MM-DD(DECOM):start|placement|end
 *   903:CHILD:review:YYYY-MM-DD
 * Returns buf, or NULL when it does not fit. */
char *cc_import_episode_key(char *buf, size_t len, const char *child, cc_date_t decom, int slot);
char *cc_import_review_key(char *buf, size_t len, const char *child, cc_date_t date);

/* The event type of an episode slot ("looked_after_start", ...). */
const char *cc_import_slot_type(int slot);

/* 1 when the import writes events of this type (an episode slot's type or
 * review_held): the clocks met by none of them are the ones an extract
 * cannot meet, which the summary lists. */
int cc_import_writes_type(const char *type);

/* 1 when the import writes attributes named key (place, provider,
 * legal_status, rec). */
int cc_import_writes_attr(const char *key);

/* 1 when ls is an SSDA903 legal status code (903 guide: C1, C2, D1, E1,
 * J1-J3, L1-L3, V2-V4). */
int cc_import_legal_status_valid(const char *ls);

/* Room for any attributes text cc_import_episode_attrs writes (codes are
 * at most 32 characters, each escaped to at most 2 bytes). */
#define CC_IMPORT_ATTRS_MAX 256

/* The attributes JSON of an episode's event into buf (CC_IMPORT_ATTRS_MAX
 * bytes): {"place":"A5","provider":"PR1","legal_status":"E1"} for a
 * placement, {"legal_status":"C2"} for a start, a legal status change or
 * an authority to place, {"rec":"E11"} for an end; a key only when its
 * column is in the file and the field not empty, {} when none is. Returns
 * buf. */
char *cc_import_episode_attrs(const cc_import_episode_t *ep, int slot, char *buf, size_t len);

#endif
