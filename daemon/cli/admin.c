/* careclock init / staff / team / child / event: the administrative
 * commands. A thin front end over the store (daemon/store/people.c,
 * events.c; store.c for init's migrations): this file parses
 * arguments, checks what needs today or the rule set (dates, event types),
 * and prints; the store checks references and duplicates and writes in one
 * transaction. Every refusal exits 2 with the field and value named, and
 * leaves the database as it was. */
#include "cli/cli.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/import.h"
#include "careclock/events.h"
#include "careclock/people.h"
#include "careclock/store.h"

#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ADMIN_MAX_WORDS 64

/* One "--name VALUE" option of a command. */
typedef struct {
    const char *name;  /* "--name" */
    const char *value; /* NULL until given */
    int required;
} opt_t;

static void bad_subcommand(const char *cmd, int argc, char **argv)
{
    if (argc < 2)
        cc_cli_errorf(cmd, "needs a subcommand");
    else
        cc_cli_errorf(cmd, "unknown subcommand \"%s\"", argv[1]);
}

/* The add | set subcommand of noun: sets *add and returns -1 to go on, or
 * prints the usage (for --help, or after naming a bad subcommand) and
 * returns the exit status. */
static int pick_add_set(const char *noun, int argc, char **argv, const char *add_usage, const char *set_usage,
                        int *add)
{
    *add = argc >= 2 && strcmp(argv[1], "add") == 0;
    if (*add || (argc >= 2 && strcmp(argv[1], "set") == 0))
        return -1;
    int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    if (!help)
        bad_subcommand(noun, argc, argv);
    fprintf(help ? stdout : stderr, "usage: careclock %s\n       careclock %s\n", add_usage, set_usage);
    return help ? CC_EXIT_OK : CC_EXIT_USAGE;
}

/* Split argv (after the subcommand word) into options and positional
 * words. Returns 0, 1 for --help (usage printed), or CC_EXIT_USAGE with a
 * message printed. */
static int parse_args(const char *cmd, const char *usage, int argc, char **argv, opt_t *opts, size_t nopts,
                      const char **words, size_t *nwords)
{
    *nwords = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: careclock %s\n", usage);
            return 1;
        }
        if (a[0] == '-' && a[1] == '-') {
            opt_t *o = NULL;
            for (size_t k = 0; k < nopts; k++)
                if (strcmp(opts[k].name, a) == 0)
                    o = &opts[k];
            if (o == NULL) {
                cc_cli_errorf(cmd, "unknown option \"%s\"", a);
                fprintf(stderr, "usage: careclock %s\n", usage);
                return CC_EXIT_USAGE;
            }
            if (i + 1 >= argc) {
                cc_cli_errorf(cmd, "%s needs a value", a);
                return CC_EXIT_USAGE;
            }
            if (o->value != NULL) {
                cc_cli_errorf(cmd, "%s given twice", a);
                return CC_EXIT_USAGE;
            }
            o->value = argv[++i];
            continue;
        }
        if (*nwords >= ADMIN_MAX_WORDS) {
            cc_cli_errorf(cmd, "too many arguments (at most %d)", ADMIN_MAX_WORDS);
            return CC_EXIT_USAGE;
        }
        words[(*nwords)++] = a;
    }
    for (size_t k = 0; k < nopts; k++) {
        if (opts[k].required && opts[k].value == NULL) {
            cc_cli_errorf(cmd, "%s is required", opts[k].name);
            fprintf(stderr, "usage: careclock %s\n", usage);
            return CC_EXIT_USAGE;
        }
    }
    return 0;
}

/* Check the count of positional words; print usage when wrong. */
static int want_words(const char *cmd, const char *usage, size_t nwords, size_t min, size_t max)
{
    if (nwords >= min && nwords <= max)
        return 0;
    cc_cli_errorf(cmd, "%s", nwords < min ? "missing arguments" : "too many arguments");
    fprintf(stderr, "usage: careclock %s\n", usage);
    return CC_EXIT_USAGE;
}

/* The exit status for a store error: the caller's input, or the system. */
static int exit_for(int rc)
{
    switch (rc) {
    case 0: return CC_EXIT_OK;
    case CC_EINVAL:
    case CC_ENOTFOUND:
    case CC_EEXIST:
    case CC_ESTATE: return CC_EXIT_USAGE;
    default: return CC_EXIT_FAIL;
    }
}

/* Open the existing database (cc_cli_open_db: never create one, that is
 * init's job) and record the OS user as the audit actor. Returns 0, or the
 * exit status after printing why. */
static int open_existing(cc_cli_t *cli, cc_store_t **store)
{
    int rc = cc_cli_open_db(cli, store);
    if (rc == 0)
        cc_cli_set_actor(*store);
    return rc;
}

/* A date argument: parsed, and (unless future_ok) not after today. */
static int parse_date(const cc_cli_t *cli, const char *cmd, const char *field, const char *text, int future_ok,
                      cc_date_t *out)
{
    char today[CC_DATE_STRLEN];
    if (cc_date_parse(text, out) != 0) {
        cc_cli_errorf(cmd, "%s \"%s\" is not a valid date (expected YYYY-MM-DD or DD/MM/YYYY, a day that exists)", field,
               text);
        return CC_EXIT_USAGE;
    }
    if (!future_ok && *out > cli->today) {
        cc_cli_errorf(cmd, "%s \"%s\" is after today (%s)", field, text, cc_date_format(cli->today, today));
        return CC_EXIT_USAGE;
    }
    return 0;
}

/* ---- init -------------------------------------------------------------- */

/* Before init creates a database: its directory must exist (said with
 * where the path came from), and root must not create it in a directory
 * that belongs to another user (the service's state directory): careclockd,
 * running as that user, could not then write the root-owned file. Returns
 * 0, or the exit status after saying why and what to do. */
static int init_may_create(const cc_cli_t *cli)
{
    struct stat st;
    char dir[PATH_MAX];
    if (stat(cli->db_path, &st) == 0)
        return 0; /* it exists: init migrates it, and SQLite keeps its owner for -wal and -shm */
    const char *slash = strrchr(cli->db_path, '/');
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash == cli->db_path ? 1 : slash - cli->db_path) : 1,
             slash ? cli->db_path : ".");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cc_cli_errorf("init", "cannot create %s (%s): the directory %s does not exist; installing careclock creates "
                       "/var/lib/careclock (systemd-tmpfiles --create), or give --db PATH",
               cli->db_path, cli->db_origin, dir);
        return CC_EXIT_USAGE;
    }
    if (geteuid() == 0 && st.st_uid != 0) {
        struct passwd *pw = getpwuid(st.st_uid);
        char owner[64];
        snprintf(owner, sizeof(owner), "%s", pw ? pw->pw_name : "its owner");
        cc_cli_errorf("init", "not creating %s as root: %s belongs to %s, and careclockd running as %s could not write "
                       "a database root owns. Run it as that user (runuser -u %s -- careclock init), or start "
                       "careclockd, which creates it",
               cli->db_path, dir, owner, owner, owner);
        return CC_EXIT_USAGE;
    }
    return 0;
}

int cc_cli_init(cc_cli_t *cli, int argc, char **argv)
{
    static const char usage[] = "init";
    const char *words[ADMIN_MAX_WORDS];
    size_t nwords;
    char err[1024];
    cc_store_t *store = NULL;
    int rc = parse_args("init", usage, argc - 1, argv + 1, NULL, 0, words, &nwords);
    if (rc != 0)
        return rc == 1 ? CC_EXIT_OK : rc;
    if ((rc = want_words("init", usage, nwords, 0, 0)) != 0)
        return rc;
    if ((rc = cc_cli_resolve_db(cli)) != 0 || (rc = init_may_create(cli)) != 0)
        return rc;
    rc = cc_store_open(cli->db_path, &store, err, sizeof(err));
    if (rc != 0) {
        cc_cli_errorf("init", "%s", err);
        return CC_EXIT_FAIL;
    }
    int created, from, to;
    cc_store_open_info(store, &created, &from, &to);
    if (created)
        printf("created %s (%s; schema version %d)\n", cli->db_path, cli->db_origin, to);
    else if (from != to)
        printf("%s: migrated the schema from version %d to %d; the database as it was is in %s\n", cli->db_path,
               from, to, cc_store_backup_path(store) ? cc_store_backup_path(store) : "(no copy)");
    else
        printf("%s: schema version %d is current; nothing to do\n", cli->db_path, to);
    cc_store_close(store);
    return CC_EXIT_OK;
}

/* ---- staff ------------------------------------------------------------- */

static const char STAFF_ADD_USAGE[] =
    "staff add ID --name NAME --email ADDRESS --role worker|team_manager|service_manager|iro|viewer [--manager ID]\n"
    "       careclock staff list";
static const char TEAM_LIST_USAGE[] =
    "team list\n  one line a team: id, name, manager, service manager, webhook (tab-separated)";
static const char STAFF_LIST_USAGE[] =
    "staff list\n  one line a member of staff: id, role, name, email, manager (tab-separated)";

/* One row of a listing: its columns tab-separated, "" for NULL. */
static int print_row(void *data, const char *const *cols, int ncols)
{
    (void)data;
    for (int i = 0; i < ncols; i++)
        printf("%s%s", i ? "\t" : "", cols[i] ? cols[i] : "");
    putchar('\n');
    return 0;
}

/* careclock staff list | team list: ids first (shell completion reads them). */
static int list(cc_cli_t *cli, int argc, char **argv, const char *cmd, const char *usage,
                int (*each)(cc_store_t *, cc_store_row_fn, void *))
{
    cc_store_t *store = NULL;
    if (argc > 2) {
        int help = strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0;
        if (!help)
            cc_cli_errorf(cmd, "takes no arguments (\"%s\")", argv[2]);
        fprintf(help ? stdout : stderr, "usage: careclock %s\n", usage);
        return help ? CC_EXIT_OK : CC_EXIT_USAGE;
    }
    int rc = cc_cli_open_db(cli, &store);
    if (rc != 0)
        return rc;
    rc = each(store, print_row, NULL);
    if (rc != 0)
        cc_cli_errorf(cmd, "%s", cc_store_errmsg(store, NULL));
    cc_store_close(store);
    return rc == 0 ? CC_EXIT_OK : CC_EXIT_FAIL;
}

int cc_cli_staff(cc_cli_t *cli, int argc, char **argv)
{
    const char *words[ADMIN_MAX_WORDS];
    size_t nwords;
    char err[1024];
    cc_store_t *store = NULL;
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return list(cli, argc, argv, "staff list", STAFF_LIST_USAGE, cc_store_staff_each);
    if (argc < 2 || strcmp(argv[1], "add") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            printf("usage: careclock %s\n", STAFF_ADD_USAGE);
            return CC_EXIT_OK;
        }
        bad_subcommand("staff", argc, argv);
        fprintf(stderr, "usage: careclock %s\n", STAFF_ADD_USAGE);
        return CC_EXIT_USAGE;
    }
    opt_t opts[] = {{"--name", NULL, 1}, {"--email", NULL, 1}, {"--role", NULL, 1}, {"--manager", NULL, 0}};
    static const char add_usage[] =
        "staff add ID --name NAME --email ADDRESS --role worker|team_manager|service_manager|iro [--manager ID]";
    int rc = parse_args("staff add", add_usage, argc - 2, argv + 2, opts, 4, words, &nwords);
    if (rc != 0)
        return rc == 1 ? CC_EXIT_OK : rc;
    if ((rc = want_words("staff add", add_usage, nwords, 1, 1)) != 0)
        return rc;
    /* Shape checks that need no database come first. */
    if (!cc_store_role_valid(opts[2].value)) {
        cc_cli_errorf("staff add", "--role \"%s\" is not one of %s", opts[2].value, CC_STORE_ROLES);
        return CC_EXIT_USAGE;
    }
    if ((rc = open_existing(cli, &store)) != 0)
        return rc;
    cc_store_staff_t staff = {words[0], opts[0].value, opts[1].value, opts[2].value, opts[3].value};
    rc = cc_store_staff_add(store, &staff, err, sizeof(err));
    if (rc == 0)
        printf("added staff %s (%s)\n", staff.id, staff.role);
    else
        cc_cli_errorf("staff add", "%s", err);
    cc_store_close(store);
    return exit_for(rc);
}

/* ---- team -------------------------------------------------------------- */

static const char TEAM_ADD_USAGE[] =
    "team add ID --name NAME --manager STAFF_ID [--service-manager STAFF_ID] [--webhook NAME]";
static const char TEAM_SET_USAGE[] =
    "team set ID [--webhook NAME] [--name NAME] [--manager STAFF_ID] [--service-manager STAFF_ID]\n"
    "  (an empty --webhook, --manager or --service-manager clears it)\n"
    "       careclock team list";

int cc_cli_team(cc_cli_t *cli, int argc, char **argv)
{
    const char *words[ADMIN_MAX_WORDS];
    size_t nwords;
    char err[1024];
    cc_store_t *store = NULL;
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return list(cli, argc, argv, "team list", TEAM_LIST_USAGE, cc_store_team_each);
    int add, set, picked = pick_add_set("team", argc, argv, TEAM_ADD_USAGE, TEAM_SET_USAGE, &add);
    if (picked >= 0)
        return picked;
    set = !add;
    const char *cmd = add ? "team add" : "team set";
    const char *usage = add ? TEAM_ADD_USAGE : TEAM_SET_USAGE;
    opt_t opts[] = {{"--name", NULL, add},
                    {"--manager", NULL, add},
                    {"--service-manager", NULL, 0},
                    {"--webhook", NULL, 0}};
    int rc = parse_args(cmd, usage, argc - 2, argv + 2, opts, 4, words, &nwords);
    if (rc != 0)
        return rc == 1 ? CC_EXIT_OK : rc;
    if ((rc = want_words(cmd, usage, nwords, 1, 1)) != 0)
        return rc;
    if (set && opts[0].value == NULL && opts[1].value == NULL && opts[2].value == NULL && opts[3].value == NULL) {
        cc_cli_errorf(cmd, "nothing to change: give --webhook, --name, --manager or --service-manager");
        return CC_EXIT_USAGE;
    }
    if ((rc = open_existing(cli, &store)) != 0)
        return rc;
    cc_store_team_t team = {words[0], opts[0].value, opts[1].value, opts[2].value, opts[3].value};
    rc = add ? cc_store_team_add(store, &team, err, sizeof(err)) : cc_store_team_set(store, &team, err, sizeof(err));
    if (rc == 0)
        printf("%s team %s\n", add ? "added" : "updated", team.id);
    else
        cc_cli_errorf(cmd, "%s", err);
    cc_store_close(store);
    return exit_for(rc);
}

/* ---- child ------------------------------------------------------------- */

static const char CHILD_ADD_USAGE[] = "child add ID --dob DATE --team TEAM_ID --worker STAFF_ID [--iro STAFF_ID] "
                                      "[--initials AB] [--name NAME]";
static const char CHILD_SET_USAGE[] = "child set ID [--team TEAM_ID] [--worker STAFF_ID] [--iro STAFF_ID] [--from DATE]\n"
                                      "  (an empty --iro clears the IRO; --from: the day the new allocation holds from,\n"
                                      "  default today, kept in the allocation history the timeliness report credits)";

int cc_cli_child(cc_cli_t *cli, int argc, char **argv)
{
    const char *words[ADMIN_MAX_WORDS];
    size_t nwords;
    char err[1024];
    cc_store_t *store = NULL;
    int add, set, picked = pick_add_set("child", argc, argv, CHILD_ADD_USAGE, CHILD_SET_USAGE, &add);
    if (picked >= 0)
        return picked;
    set = !add;
    const char *cmd = add ? "child add" : "child set";
    const char *usage = add ? CHILD_ADD_USAGE : CHILD_SET_USAGE;
    /* child set takes the first four; child add all but --from. */
    opt_t opts[] = {{"--team", NULL, add},    {"--worker", NULL, add},   {"--iro", NULL, 0},
                    {"--from", NULL, 0},      {"--dob", NULL, add},      {"--initials", NULL, 0},
                    {"--name", NULL, 0}};
    opt_t add_opts[] = {opts[0], opts[1], opts[2], opts[4], opts[5], opts[6]};
    int rc = add ? parse_args(cmd, usage, argc - 2, argv + 2, add_opts, 6, words, &nwords)
                 : parse_args(cmd, usage, argc - 2, argv + 2, opts, 4, words, &nwords);
    if (rc != 0)
        return rc == 1 ? CC_EXIT_OK : rc;
    if ((rc = want_words(cmd, usage, nwords, 1, 1)) != 0)
        return rc;
    if (set) {
        cc_date_t from = cli->today;
        if (opts[0].value == NULL && opts[1].value == NULL && opts[2].value == NULL) {
            cc_cli_errorf(cmd, "nothing to change: give --team, --worker or --iro");
            return CC_EXIT_USAGE;
        }
        if (opts[3].value != NULL && (rc = parse_date(cli, cmd, "--from", opts[3].value, 0, &from)) != 0)
            return rc;
        if ((rc = open_existing(cli, &store)) != 0)
            return rc;
        cc_store_set_since(store, from);
        rc = cc_store_child_set(store, words[0], opts[0].value, opts[1].value, opts[2].value, err, sizeof(err));
    } else {
        cc_date_t dob;
        if ((rc = parse_date(cli, cmd, "--dob", add_opts[3].value, 0, &dob)) != 0)
            return rc;
        if ((rc = open_existing(cli, &store)) != 0)
            return rc;
        cc_store_child_t child = {words[0], add_opts[4].value, add_opts[5].value, dob,
                                  add_opts[0].value, add_opts[1].value, add_opts[2].value};
        rc = cc_store_child_add(store, &child, err, sizeof(err));
    }
    if (rc == 0)
        printf("%s child %s\n", add ? "added" : "updated", words[0]);
    else
        cc_cli_errorf(cmd, "%s", err);
    cc_store_close(store);
    return exit_for(rc);
}

/* ---- event ------------------------------------------------------------- */

static const char EVENT_ADD_USAGE[] = "event add CHILD_ID TYPE DATE [key=value ...] [--note TEXT]";
static const char EVENT_LIST_USAGE[] = "event list CHILD_ID";
static const char EVENT_DELETE_USAGE[] = "event delete EVENT_ID";

static int attr_key_valid(const char *key, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* key=value words into a JSON object's text (*json, the caller frees).
 * Returns 0 or an exit status after printing why. */
static int attributes_json(const char *const *words, size_t n, char **json)
{
    const char *cmd = "event add";
    json_t *obj = json_object();
    int rc = CC_EXIT_USAGE;
    *json = NULL;
    if (obj == NULL)
        return CC_EXIT_FAIL;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(words[i], '=');
        char key[64];
        if (eq == NULL) {
            cc_cli_errorf(cmd, "attribute \"%s\" is not of the form key=value", words[i]);
            goto out;
        }
        size_t klen = (size_t)(eq - words[i]);
        if (!attr_key_valid(words[i], klen) || klen >= sizeof(key)) {
            cc_cli_errorf(cmd, "attribute \"%s\": the key must be 1-63 letters, digits, \"_\" or \"-\"", words[i]);
            goto out;
        }
        memcpy(key, words[i], klen);
        key[klen] = '\0';
        if (json_object_get(obj, key) != NULL) {
            cc_cli_errorf(cmd, "attribute \"%s\" is given twice", key);
            goto out;
        }
        for (const unsigned char *p = (const unsigned char *)eq + 1; *p != '\0'; p++) {
            if (*p < 0x20 || *p == 0x7f) {
                cc_cli_errorf(cmd, "attribute \"%s\": the value contains a control character", key);
                goto out;
            }
        }
        /* The attributes a regime turns on: a value that is none of the
         * codes would silently put the child in the wrong regime. */
        const char *v = eq + 1;
        if (strcmp(key, "legal_status") == 0 && !cc_import_legal_status_valid(v)) {
            cc_cli_errorf(cmd, "attribute legal_status=%s: not an SSDA903 legal status (C1, C2, D1, E1, J1, J2, J3, L1, L2, "
                        "L3, V2, V3, V4)", v);
            goto out;
        }
        if ((strcmp(key, "reg19") == 0 || strcmp(key, "reg24") == 0) && strcmp(v, "yes") != 0 &&
            strcmp(v, "no") != 0) {
            cc_cli_errorf(cmd, "attribute %s=%s: yes or no", key, v);
            goto out;
        }
        if (strcmp(key, "time") == 0 && (strlen(v) != 5 || v[2] != ':' || !isdigit((unsigned char)v[0]) ||
                                         !isdigit((unsigned char)v[1]) || !isdigit((unsigned char)v[3]) ||
                                         !isdigit((unsigned char)v[4]) || (v[0] - '0') * 10 + (v[1] - '0') > 23 ||
                                         v[3] > '5')) {
            cc_cli_errorf(cmd, "attribute time=%s: a time of day, HH:MM (00:00 to 23:59)", v);
            goto out;
        }
        json_t *value = json_string(eq + 1);
        if (value == NULL) {
            cc_cli_errorf(cmd, "attribute \"%s\": the value is not valid UTF-8", key);
            goto out;
        }
        if (json_object_set_new(obj, key, value) != 0) {
            rc = CC_EXIT_FAIL;
            goto out;
        }
    }
    *json = json_dumps(obj, JSON_COMPACT);
    rc = *json ? 0 : CC_EXIT_FAIL;
    /* What the engine will judge the attributes by: refuse here anything it
     * would make a data_error (it cannot happen with the object built
     * above, but this keeps the two in step). */
    char why[96];
    if (rc == 0 && cc_engine_attrs_check(*json, why, sizeof(why)) != 0) {
        cc_cli_errorf(cmd, "attributes %s are not an object of strings: %s", *json, why);
        free(*json);
        *json = NULL;
        rc = CC_EXIT_USAGE;
    }
out:
    json_decref(obj);
    return rc;
}

/* "looked_after_start, looked_after_end, ..." into buf. */
static void known_types(const cc_ruleset_t *rs, cc_buf_t *buf)
{
    size_t n = cc_ruleset_type_count(rs);
    for (size_t i = 0; i < n; i++)
        cc_buf_printf(buf, "%s%s", i ? ", " : "", cc_ruleset_type_name(rs, i));
}

static int event_add(cc_cli_t *cli, int argc, char **argv)
{
    const char *cmd = "event add";
    const char *words[ADMIN_MAX_WORDS];
    size_t nwords;
    char err[1024], *attrs = NULL;
    cc_store_t *store = NULL;
    cc_cli_env_t env;
    cc_date_t date;
    int64_t id = 0;
    opt_t opts[] = {{"--note", NULL, 0}};
    int rc = parse_args(cmd, EVENT_ADD_USAGE, argc, argv, opts, 1, words, &nwords);
    if (rc != 0)
        return rc == 1 ? CC_EXIT_OK : rc;
    if ((rc = want_words(cmd, EVENT_ADD_USAGE, nwords, 3, ADMIN_MAX_WORDS)) != 0)
        return rc;
    if ((rc = cc_cli_env_load(cli, &env)) != 0)
        return rc;
    const char *child = words[0], *type = words[1];
    int type_index = cc_ruleset_type_index(env.rules, type);
    if (type_index < 0) {
        cc_buf_t list;
        cc_buf_init(&list);
        known_types(env.rules, &list);
        cc_cli_errorf(cmd, "event type \"%s\" is not known to the rules; known types: %s", type, cc_buf_str(&list));
        cc_buf_free(&list);
        rc = CC_EXIT_USAGE;
        goto out;
    }
    if ((rc = parse_date(cli, cmd, "date", words[2], 1, &date)) != 0)
        goto out;
    if (!cc_ruleset_type_future_ok(env.rules, type_index) && date > cli->today) {
        char today[CC_DATE_STRLEN];
        cc_cli_errorf(cmd, "date \"%s\" is after today (%s): a %s records something that has happened", words[2],
               cc_date_format(cli->today, today), type);
        rc = CC_EXIT_USAGE;
        goto out;
    }
    if ((rc = attributes_json(words + 3, nwords - 3, &attrs)) != 0)
        goto out;
    if ((rc = open_existing(cli, &store)) != 0)
        goto out;
    cc_store_event_in_t ev = {.child_id = child, .type = type, .date = date, .attributes = attrs,
                              .source = "cli", .note = opts[0].value};
    rc = cc_store_event_add(store, &ev, &id, err, sizeof(err));
    if (rc == 0)
        printf("%lld\n", (long long)id);
    else
        cc_cli_errorf(cmd, "%s", err);
    rc = exit_for(rc);
out:
    free(attrs);
    cc_store_close(store);
    cc_cli_env_free(&env);
    return rc;
}

/* Text from the database made safe for a terminal: control characters
 * become '?'. Returns buf. */
static const char *printable(const char *text, char *buf, size_t len)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p != '\0' && o + 1 < len; p++)
        buf[o++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
    buf[o] = '\0';
    return buf;
}

#define LIST_COLS 7

/* One table cell padded to width, or the row's last cell and its newline. */
static void print_cell(const char *text, size_t width, int last)
{
    if (last)
        printf("%s\n", text);
    else
        printf("%-*s  ", (int)width, text);
}

static int event_list(cc_cli_t *cli, int argc, char **argv)
{
    const char *cmd = "event list";
    const char *words[ADMIN_MAX_WORDS];
    size_t nwords;
    char err[1024];
    cc_store_t *store = NULL;
    cc_store_events_t events = {0};
    int rc = parse_args(cmd, EVENT_LIST_USAGE, argc, argv, NULL, 0, words, &nwords);
    if (rc != 0)
        return rc == 1 ? CC_EXIT_OK : rc;
    if ((rc = want_words(cmd, EVENT_LIST_USAGE, nwords, 1, 1)) != 0)
        return rc;
    if ((rc = open_existing(cli, &store)) != 0)
        return rc;
    rc = cc_store_event_list(store, words[0], &events, err, sizeof(err));
    if (rc != 0) {
        cc_cli_errorf(cmd, "%s", err);
        rc = exit_for(rc);
        goto out;
    }
    static const char *const head[LIST_COLS] = {"ID", "TYPE", "DATE", "ATTRIBUTES", "SOURCE", "RECORDED_AT",
                                                "NOTE"};
    size_t width[LIST_COLS];
    for (int c = 0; c < LIST_COLS; c++)
        width[c] = strlen(head[c]);
    /* Two passes: widths, then rows. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            for (int c = 0; c < LIST_COLS; c++)
                print_cell(head[c], width[c], c + 1 == LIST_COLS);
        }
        for (size_t i = 0; i < events.len; i++) {
            const cc_store_event_t *e = &events.items[i];
            char id[24], cell[LIST_COLS][512];
            snprintf(id, sizeof(id), "%lld", (long long)e->id);
            const char *raw[LIST_COLS] = {id, e->type, e->date, e->attributes, e->source, e->recorded_at, e->note};
            for (int c = 0; c < LIST_COLS; c++) {
                printable(raw[c], cell[c], sizeof(cell[c]));
                size_t w = strlen(cell[c]);
                if (pass == 0 && w > width[c])
                    width[c] = w;
                if (pass == 1)
                    print_cell(cell[c], width[c], c + 1 == LIST_COLS);
            }
        }
    }
    if (events.len == 0)
        printf("(no events for child %s)\n", words[0]);
out:
    cc_store_events_free(&events);
    cc_store_close(store);
    return rc;
}

static int event_delete(cc_cli_t *cli, int argc, char **argv)
{
    const char *cmd = "event delete";
    const char *words[ADMIN_MAX_WORDS];
    size_t nwords;
    char err[1024], *end = NULL;
    cc_store_t *store = NULL;
    cc_store_event_t deleted = {0};
    int rc = parse_args(cmd, EVENT_DELETE_USAGE, argc, argv, NULL, 0, words, &nwords);
    if (rc != 0)
        return rc == 1 ? CC_EXIT_OK : rc;
    if ((rc = want_words(cmd, EVENT_DELETE_USAGE, nwords, 1, 1)) != 0)
        return rc;
    errno = 0;
    long long id = strtoll(words[0], &end, 10);
    if (words[0][0] < '0' || words[0][0] > '9' || *end != '\0' || errno != 0 || id <= 0) {
        cc_cli_errorf(cmd, "event id \"%s\" is not a positive whole number", words[0]);
        return CC_EXIT_USAGE;
    }
    if ((rc = open_existing(cli, &store)) != 0)
        return rc;
    rc = cc_store_event_delete(store, id, &deleted, err, sizeof(err));
    if (rc == 0) {
        char a[128], b[128], c[64];
        printf("deleted event %lld: %s %s %s (kept in the audit table)\n", id,
               printable(deleted.child_id, a, sizeof(a)), printable(deleted.type, b, sizeof(b)),
               printable(deleted.date, c, sizeof(c)));
    } else {
        cc_cli_errorf(cmd, "%s", err);
    }
    cc_store_event_clear(&deleted);
    cc_store_close(store);
    return exit_for(rc);
}

int cc_cli_event(cc_cli_t *cli, int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "add") == 0)
        return event_add(cli, argc - 2, argv + 2);
    if (strcmp(sub, "list") == 0)
        return event_list(cli, argc - 2, argv + 2);
    if (strcmp(sub, "delete") == 0)
        return event_delete(cli, argc - 2, argv + 2);
    int help = strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0;
    if (!help)
        bad_subcommand("event", argc, argv);
    fprintf(help ? stdout : stderr, "usage: careclock %s\n       careclock %s\n       careclock %s\n",
            EVENT_ADD_USAGE, EVENT_LIST_USAGE, EVENT_DELETE_USAGE);
    return help ? CC_EXIT_OK : CC_EXIT_USAGE;
}
