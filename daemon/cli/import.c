/* careclock import ssda903 PATH... [--skip-bad-rows] [--dry-run]
 *
 * The front end of the SSDA903 import: expands directories, reads the
 * files, hands them to daemon/core/import.c (checking and mapping, pure) and
 * daemon/store/import_db.c (one transaction), and prints what happened. Bad rows
 * stop the import (exit 2, nothing written) unless --skip-bad-rows. */
#include "cli/cli.h"
#include "careclock/error.h"
#include "careclock/import_db.h"
#include "careclock/store.h"
#include "util/readfile.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char IMPORT_USAGE[] =
    "usage: careclock import ssda903 PATH... [--skip-bad-rows] [--dry-run]\n"
    "  PATH: SSDA903 CSV files (header, episodes, reviews; recognised by their first row, whatever\n"
    "        their names) or directories holding them. Dates dd/mm/yyyy.\n"
    "  --skip-bad-rows  import the good rows and list each bad row with its reason\n"
    "                   (default: any bad row stops the import; nothing is written)\n"
    "  --dry-run        check and count everything, then write nothing\n";

/* Bad rows listed before "... and N more". */
#define MAX_SHOWN_PROBLEMS 200

typedef struct {
    char **paths;
    int *explicit_; /* named on the command line (not found in a directory) */
    size_t n, cap;
} paths_t;

static void paths_free(paths_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->paths[i]);
    free(p->paths);
    free(p->explicit_);
}

static int paths_add(paths_t *p, const char *path, int named)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        char **paths = realloc(p->paths, cap * sizeof(*paths));
        if (paths == NULL)
            return CC_ENOMEM;
        p->paths = paths;
        int *ex = realloc(p->explicit_, cap * sizeof(*ex));
        if (ex == NULL)
            return CC_ENOMEM;
        p->explicit_ = ex;
        p->cap = cap;
    }
    if ((p->paths[p->n] = strdup(path)) == NULL)
        return CC_ENOMEM;
    p->explicit_[p->n++] = named;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* PATH into files: a file as it is, a directory's regular files (not
 * hidden ones) in name order. Returns 0 or an exit status. */
static int expand(const char *path, paths_t *out)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "careclock import: %s: %s\n", path, strerror(errno));
        return errno == ENOENT || errno == ENOTDIR ? CC_EXIT_USAGE : CC_EXIT_FAIL;
    }
    if (!S_ISDIR(sb.st_mode))
        return paths_add(out, path, 1) == 0 ? 0 : CC_EXIT_FAIL;
    DIR *dir = opendir(path);
    if (dir == NULL) {
        fprintf(stderr, "careclock import: %s: %s\n", path, strerror(errno));
        return CC_EXIT_FAIL;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int status = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        char full[PATH_MAX];
        if (de->d_name[0] == '.')
            continue;
        int len = snprintf(full, sizeof(full), "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", de->d_name);
        if (len < 0 || (size_t)len >= sizeof(full) || stat(full, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(names, cap * sizeof(*names));
            if (grown == NULL) {
                status = CC_EXIT_FAIL;
                break;
            }
            names = grown;
        }
        if ((names[n] = strdup(full)) == NULL) {
            status = CC_EXIT_FAIL;
            break;
        }
        n++;
    }
    closedir(dir);
    if (n > 1)
        qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (status == 0 && paths_add(out, names[i], 0) != 0)
            status = CC_EXIT_FAIL;
        free(names[i]);
    }
    free(names);
    if (status == 0 && n == 0) {
        fprintf(stderr, "careclock import: directory %s holds no files\n", path);
        status = CC_EXIT_USAGE;
    }
    return status;
}

static cc_import_kind_t kind_of_file(const cc_import_t *imp, const char *name)
{
    for (size_t i = 0; i < imp->nfiles; i++)
        if (imp->files[i].name == name)
            return imp->files[i].kind;
    return CC_IMPORT_UNKNOWN;
}

static void print_problems(const cc_import_t *imp, FILE *out, const char *prefix)
{
    size_t shown = imp->nproblems < MAX_SHOWN_PROBLEMS ? imp->nproblems : MAX_SHOWN_PROBLEMS;
    for (size_t i = 0; i < shown; i++) {
        const cc_import_problem_t *p = &imp->problems[i];
        fprintf(out, "%s%s:%zu:%zu: %s\n", prefix, p->file, p->line, p->column, p->message);
    }
    if (imp->nproblems > shown)
        fprintf(out, "%s... and %zu more bad rows\n", prefix, imp->nproblems - shown);
}

static const char *rows_word(size_t n)
{
    return n == 1 ? "bad row skipped" : "bad rows skipped";
}

static void print_summary(const cc_import_t *imp, const cc_import_result_t *r, int dry_run, FILE *out)
{
    size_t skipped[4] = {0};
    for (size_t i = 0; i < imp->nproblems; i++)
        skipped[kind_of_file(imp, imp->problems[i].file)]++;
    fprintf(out, "SSDA903 import%s:\n", dry_run ? " (dry run: nothing was written)" : "");
    for (size_t i = 0; i < imp->nfiles; i++)
        fprintf(out, "  file      %s: %s, %zu rows\n", imp->files[i].name, cc_import_kind_name(imp->files[i].kind),
                imp->files[i].rows);
    fprintf(out, "  children  %zu read: %zu imported, %zu updated (date of birth), %zu unchanged, %zu %s\n",
            imp->rows[CC_IMPORT_HEADER], r->children_new, r->children_updated, r->children_unchanged,
            skipped[CC_IMPORT_HEADER], rows_word(skipped[CC_IMPORT_HEADER]));
    fprintf(out,
            "  episodes  %zu read: %zu imported, %zu updated, %zu unchanged, %zu with no event of their own "
            "(legal status changes within a period of care), %zu dated after today, %zu %s\n",
            imp->rows[CC_IMPORT_EPISODES], r->episodes_new, r->episodes_updated, r->episodes_unchanged,
            r->episodes_no_events, r->episodes_future, skipped[CC_IMPORT_EPISODES],
            rows_word(skipped[CC_IMPORT_EPISODES]));
    fprintf(out,
            "  reviews   %zu read: %zu imported, %zu updated, %zu unchanged, %zu duplicates, %zu dated after today, "
            "%zu %s\n",
            imp->rows[CC_IMPORT_REVIEWS], r->reviews_new, r->reviews_updated, r->reviews_unchanged,
            r->reviews_duplicate, r->reviews_future, skipped[CC_IMPORT_REVIEWS], rows_word(skipped[CC_IMPORT_REVIEWS]));
    fprintf(out, "  events    %zu inserted, %zu updated, %zu deleted (no longer in the extract)\n", r->events_inserted,
            r->events_updated, r->events_deleted);
    /* What was deleted, by kind; a kind whose file was not among the inputs
     * is never deleted, and the summary says so. */
    if (r->episodes_input && r->reviews_input)
        fprintf(out, "  deleted   %zu episode event%s, %zu review%s (no longer in the newer files)\n",
                r->episode_events_deleted, r->episode_events_deleted == 1 ? "" : "s", r->reviews_deleted,
                r->reviews_deleted == 1 ? "" : "s");
    else if (r->episodes_input)
        fprintf(out, "  deleted   %zu episode event%s (no longer in the newer files)\n", r->episode_events_deleted,
                r->episode_events_deleted == 1 ? "" : "s");
    else if (r->reviews_input)
        fprintf(out, "  deleted   %zu review%s (no longer in the newer files)\n", r->reviews_deleted,
                r->reviews_deleted == 1 ? "" : "s");
    if (!r->episodes_input)
        fprintf(out, "  episodes: no episodes file among the inputs, so no imported episode event was deleted\n");
    if (!r->reviews_input)
        fprintf(out, "  reviews: no reviews file among the inputs, so no imported review was deleted\n");
    if (r->unallocated > 0)
        fprintf(out,
                "  %zu new children are in team \"%s\"%s with no worker: allocate each with\n"
                "    careclock child set ID --team TEAM --worker STAFF_ID\n",
                r->unallocated, CC_IMPORT_TEAM, r->team_created ? " (created)" : "");
    size_t kinds = 0;
    for (int w = 0; w < CC_IMPORT_W_COUNT; w++)
        kinds += imp->warnings[w].count > 0;
    if (kinds == 0) {
        fprintf(out, "warnings: none\n");
        return;
    }
    fprintf(out, "warnings (%zu kind%s; count, kind, first seen at, what the import did):\n", kinds,
            kinds == 1 ? "" : "s");
    for (int w = 0; w < CC_IMPORT_W_COUNT; w++) {
        const cc_import_warning_t *x = &imp->warnings[w];
        if (x->count > 0)
            fprintf(out, "  %6zu  %s  %s:%zu\n          %s\n", x->count, cc_import_warn_id((cc_import_warn_t)w),
                    x->file, x->line, cc_import_warn_text((cc_import_warn_t)w));
    }
}

/* What the extract cannot give: the clocks it can start (their starting
 * events are among those the import writes, or they start from the episodes
 * themselves) but never meet (no event meeting them is), which therefore
 * show as overdue until those events are recorded; and the regimes it
 * cannot tell. */
static void print_cannot_meet(const cc_import_t *imp, const cc_ruleset_t *rs, FILE *out)
{
    size_t n = 0, col = 4;
    for (size_t i = 0; i < cc_ruleset_count(rs); i++) {
        const cc_rule_t *rule = cc_ruleset_rule(rs, i);
        int starts = rule->starts_when.active, meets = 0;
        for (int t = 0; t < rule->nstart_types; t++)
            starts |= cc_import_writes_type(cc_ruleset_type_name(rs, (size_t)rule->start_types[t]));
        for (int t = 0; t < rule->nmet_by; t++)
            meets |= cc_import_writes_type(cc_ruleset_type_name(rs, (size_t)rule->met_by[t]));
        /* A clock for an attribute the extract never has (reg24=yes)
         * starts from no imported event. */
        for (int k = 0; k < rule->napplies; k++)
            if (rule->applies[k].kind == CC_COND_ATTR && !cc_import_writes_attr(rule->applies[k].key))
                starts = 0;
        if (!starts || meets)
            continue;
        if (n++ == 0)
            fprintf(out, "clocks the extract cannot meet (the SSDA903 return has no care plan, PEP, placement plan, "
                         "visit, health or\n  assessment dates: these show as overdue until the events that meet "
                         "them are recorded):\n   ");
        size_t w = strlen(rule->id) + 1;
        if (col + w > 110) {
            fprintf(out, "\n   ");
            col = 4;
        }
        fprintf(out, " %s", rule->id);
        col += w;
    }
    if (n > 0)
        fputc('\n', out);
    fprintf(out, "regimes the extract cannot tell: a placement with a parent before assessment (CPPCR reg 19) or "
                 "with a connected\n  person on temporary approval (reg 24): record placement_start reg19=yes or "
                 "reg24=yes; the hour of a secure\n  placement (placement_start time=HH:MM): without it the 72 hours "
                 "count from the start of the day\n");
    if (imp->episodes_without_ls)
        fprintf(out, "  the episodes file has no LS column: no legal status was imported, so short breaks (V3, V4) "
                     "and authority\n  to place for adoption (E1, D1) cannot be told; every child has the standard "
                     "looked-after clocks\n");
}

int cc_cli_import(cc_cli_t *cli, int argc, char **argv)
{
    paths_t paths = {0};
    cc_import_t imp;
    cc_import_result_t result;
    cc_store_t *store = NULL;
    char err[1024];
    int skip = 0, dry_run = 0, status = 0, rc, recognised = 0;
    cc_import_init(&imp, cli->today);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(IMPORT_USAGE, stdout);
        return CC_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "ssda903") != 0) {
        if (argc < 2)
            fprintf(stderr, "careclock import: needs a format (ssda903)\n");
        else
            fprintf(stderr, "careclock import: unknown format \"%s\" (the one format is ssda903)\n", argv[1]);
        fputs(IMPORT_USAGE, stderr);
        return CC_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(IMPORT_USAGE, stdout);
            goto out;
        }
        if (strcmp(argv[i], "--skip-bad-rows") == 0)
            skip = 1;
        else if (strcmp(argv[i], "--dry-run") == 0)
            dry_run = 1;
        else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "careclock import: unknown option \"%s\"\n", argv[i]);
            fputs(IMPORT_USAGE, stderr);
            status = CC_EXIT_USAGE;
            goto out;
        } else if ((status = expand(argv[i], &paths)) != 0)
            goto out;
    }
    if (paths.n == 0) {
        fprintf(stderr, "careclock import: give the SSDA903 files, or a directory holding them\n");
        fputs(IMPORT_USAGE, stderr);
        status = CC_EXIT_USAGE;
        goto out;
    }
    /* The database first: a typo in --db should not cost a parse. */
    if ((status = cc_cli_open_db(cli, &store)) != 0)
        goto out;
    cc_cli_set_actor(store);
    cc_store_set_since(store, cli->today); /* new children's first allocation holds from today */
    for (size_t i = 0; i < paths.n; i++) {
        char *buf;
        size_t len;
        cc_import_kind_t kind;
        /* The same file named twice (or by a directory too) is read once. */
        int seen = 0;
        for (size_t k = 0; k < imp.nfiles && !seen; k++)
            seen = strcmp(imp.files[k].name, paths.paths[i]) == 0;
        if (seen)
            continue;
        rc = cc__read_file(paths.paths[i], &buf, &len);
        if (rc != 0) {
            fprintf(stderr, "careclock import: %s: %s\n", paths.paths[i],
                    rc == CC_ENOMEM ? "out of memory" : strerror(errno));
            status = CC_EXIT_FAIL;
            goto out;
        }
        rc = cc_import_add_file(&imp, paths.paths[i], buf, len, &kind, err, sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "careclock import: %s\n", err);
            status = rc == CC_ENOMEM ? CC_EXIT_FAIL : CC_EXIT_USAGE;
            goto out;
        }
        if (kind == CC_IMPORT_UNKNOWN) {
            if (paths.explicit_[i]) {
                fprintf(stderr,
                        "careclock import: %s:1: not an SSDA903 header, episodes or reviews file (its first row "
                        "must name the columns: CHILD,SEX,DOB,... or CHILD,DECOM,RNE,... or CHILD,DOB,REVIEW,...)\n",
                        paths.paths[i]);
                status = CC_EXIT_USAGE;
                goto out;
            }
            printf("not an SSDA903 header, episodes or reviews file, left alone: %s\n", paths.paths[i]);
            continue;
        }
        recognised++;
    }
    if (recognised == 0) {
        fprintf(stderr, "careclock import: no SSDA903 header, episodes or reviews file found\n");
        status = CC_EXIT_USAGE;
        goto out;
    }
    rc = cc_import_map(&imp, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "careclock import: %s\n", err);
        if (rc == CC_EPARSE)
            fprintf(stderr, "careclock import: the file is not valid CSV; nothing was imported\n");
        status = rc == CC_ENOMEM ? CC_EXIT_FAIL : CC_EXIT_USAGE;
        goto out;
    }
    if (imp.nproblems > 0 && !skip) {
        print_problems(&imp, stderr, "careclock import: ");
        fprintf(stderr,
                "careclock import: %zu bad row%s; nothing was imported (correct %s, or give --skip-bad-rows to "
                "import the good rows)\n",
                imp.nproblems, imp.nproblems == 1 ? "" : "s", imp.nproblems == 1 ? "it" : "them");
        status = CC_EXIT_USAGE;
        goto out;
    }
    if (imp.nproblems > 0) {
        printf("bad rows skipped (%zu):\n", imp.nproblems);
        print_problems(&imp, stdout, "  skipped ");
    }
    rc = cc_import_apply(store, &imp, dry_run, &result, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "careclock import: %s; nothing was imported\n", err);
        status = CC_EXIT_FAIL;
        goto out;
    }
    print_summary(&imp, &result, dry_run, stdout);
    {
        /* The rules say which clocks the extract cannot meet; a
         * configuration that does not load says why on stderr, and the
         * import (done) stands. */
        cc_cli_env_t env;
        if (cc_cli_env_load(cli, &env) == 0) {
            print_cannot_meet(&imp, env.rules, stdout);
            cc_cli_env_free(&env);
        }
    }
    if (!dry_run && result.events_inserted + result.events_updated + result.events_deleted + result.children_new +
                            result.children_updated > 0)
        printf("clocks: recomputed for the changed children by the next 'careclock clocks' (or by careclockd)\n");
out:
    cc_store_close(store);
    cc_import_free(&imp);
    paths_free(&paths);
    return status;
}
