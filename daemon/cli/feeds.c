/* careclock feed add|list|revoke and careclock ics: calendar feeds from the
 * command line. The rendering is the daemon's (feeds.c, ics.c). */
#include "cli/cli.h"
#include "careclock/error.h"
#include "careclock/feeds.h"
#include "careclock/time.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void feed_usage(FILE *out)
{
    fputs("usage: careclock feed add --team ID | --staff ID\n"
          "       careclock feed list [--format table|json]\n"
          "       careclock feed revoke FEED_ID\n"
          "  add     create a calendar feed and print its subscription URL (shown this once: only a hash\n"
          "          of its token is kept)\n"
          "  list    the feeds, with when each was last fetched (never their tokens)\n"
          "  revoke  stop a feed's URL working, at once\n",
          out);
}

static void ics_usage(FILE *out)
{
    fputs("usage: careclock ics --team ID | --staff ID\n"
          "  recompute what changed, then write the feed's calendar (iCalendar) to stdout\n",
          out);
}

/* --team ID | --staff ID, exactly one, from argv[first..]. Returns 0, or
 * -1 after --help, or an exit status. */
static int parse_target(const char *cmd, int argc, char **argv, int first, void (*usage)(FILE *),
                        cc_feed_kind_t *kind, const char **target)
{
    *target = NULL;
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return -1;
        }
        int team = strcmp(argv[i], "--team") == 0, staff = strcmp(argv[i], "--staff") == 0;
        if ((!team && !staff) || i + 1 >= argc) {
            fprintf(stderr, "careclock %s: %s \"%s\"\n", cmd, team || staff ? "missing value for" : "unknown option",
                    argv[i]);
            usage(stderr);
            return CC_EXIT_USAGE;
        }
        if (*target != NULL) {
            fprintf(stderr, "careclock %s: give one of --team or --staff, once\n", cmd);
            return CC_EXIT_USAGE;
        }
        *kind = team ? CC_FEED_TEAM : CC_FEED_STAFF;
        *target = argv[++i];
    }
    if (*target == NULL) {
        fprintf(stderr, "careclock %s: --team ID or --staff ID is required\n", cmd);
        usage(stderr);
        return CC_EXIT_USAGE;
    }
    return 0;
}

static int feed_add(cc_cli_t *cli, int argc, char **argv)
{
    cc_feed_kind_t kind = CC_FEED_TEAM;
    const char *target;
    cc_cli_env_t env;
    cc_store_t *store = NULL;
    char token[CC_FEED_TOKEN_LEN + 1], err[512], url[2048];
    int64_t id = 0;
    int status = parse_target("feed add", argc, argv, 2, feed_usage, &kind, &target);
    if (status != 0)
        return status < 0 ? CC_EXIT_OK : status;
    if ((status = cc_cli_env_load(cli, &env)) != 0)
        return status;
    if ((status = cc_cli_open_db(cli, &store)) != 0)
        goto out;
    int rc = cc_feeds_add(store, kind, target, token, &id, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "careclock feed add: %s\n", err);
        status = rc == CC_ENOTFOUND || rc == CC_EINVAL ? CC_EXIT_USAGE : CC_EXIT_FAIL;
        goto out;
    }
    int n = cc_feeds_url(&env.config, token, url, sizeof(url));
    OPENSSL_cleanse(token, sizeof(token));
    if (n < 0 || (size_t)n >= sizeof(url)) {
        fprintf(stderr, "careclock feed add: the subscription URL is too long\n");
        status = CC_EXIT_FAIL;
        goto out;
    }
    printf("%s\n", url);
    fprintf(stderr,
            "careclock feed add: feed %lld (%s %s) created. Keep the URL above secret: it is shown only this once "
            "(careclock keeps a hash of its token); 'careclock feed revoke %lld' ends it.\n",
            (long long)id, cc_feed_kind_name(kind), target, (long long)id);
    OPENSSL_cleanse(url, sizeof(url));
out:
    cc_store_close(store);
    cc_cli_env_free(&env);
    return status;
}

static const char *or_dash(const char *s)
{
    return s[0] ? s : "-";
}

static int feed_list(cc_cli_t *cli, int argc, char **argv)
{
    const char *format = "table";
    cc_store_t *store = NULL;
    cc_feed_t *feeds = NULL;
    size_t n = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            feed_usage(stdout);
            return CC_EXIT_OK;
        }
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
            (strcmp(argv[i + 1], "table") == 0 || strcmp(argv[i + 1], "json") == 0)) {
            format = argv[++i];
            continue;
        }
        fprintf(stderr, "careclock feed list: unexpected \"%s\"\n", argv[i]);
        feed_usage(stderr);
        return CC_EXIT_USAGE;
    }
    int status = cc_cli_open_db(cli, &store);
    if (status != 0)
        return status;
    int rc = cc_feeds_list(store, &feeds, &n);
    if (rc != 0) {
        fprintf(stderr, "careclock feed list: %s (%s)\n", cc_strerror(rc), cc_store_errmsg(store, NULL));
        cc_store_close(store);
        return CC_EXIT_FAIL;
    }
    if (strcmp(format, "json") == 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            const cc_feed_t *f = &feeds[i];
            json_t *o = json_object();
            json_object_set_new(o, "id", json_integer(f->id));
            json_object_set_new(o, "kind", json_string(cc_feed_kind_name(f->kind)));
            json_object_set_new(o, "target", json_string(f->target_id));
            json_object_set_new(o, "created_at", json_string(f->created_at));
            json_object_set_new(o, "revoked_at", f->revoked_at[0] ? json_string(f->revoked_at) : json_null());
            json_object_set_new(o, "last_access_at",
                                f->last_access_at[0] ? json_string(f->last_access_at) : json_null());
            json_object_set_new(o, "access_count", json_integer(f->access_count));
            json_array_append_new(arr, o);
        }
        char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text != NULL)
            printf("%s\n", text);
        else
            status = CC_EXIT_FAIL;
        free(text);
        json_decref(arr);
    } else {
        int wt = (int)strlen("target");
        for (size_t i = 0; i < n; i++)
            if ((int)strlen(feeds[i].target_id) > wt)
                wt = (int)strlen(feeds[i].target_id);
        printf("%-4s  %-5s  %-*s  %-20s  %-20s  %-7s  %s\n", "id", "kind", wt, "target", "created", "last fetched",
               "fetches", "state");
        for (size_t i = 0; i < n; i++) {
            const cc_feed_t *f = &feeds[i];
            printf("%-4lld  %-5s  %-*s  %-20s  %-20s  %-7lld  %s%s\n", (long long)f->id, cc_feed_kind_name(f->kind),
                   wt, f->target_id, f->created_at, or_dash(f->last_access_at), (long long)f->access_count,
                   f->revoked_at[0] ? "revoked " : "live", f->revoked_at);
        }
        printf("(%zu feed%s)\n", n, n == 1 ? "" : "s");
    }
    free(feeds);
    cc_store_close(store);
    return status;
}

static int feed_revoke(cc_cli_t *cli, int argc, char **argv)
{
    cc_store_t *store = NULL;
    char err[256], now[32], *end = NULL;
    if (argc == 3 && strcmp(argv[2], "--help") == 0) {
        feed_usage(stdout);
        return CC_EXIT_OK;
    }
    long long id = argc == 3 ? strtoll(argv[2], &end, 10) : 0;
    if (argc != 3 || end == argv[2] || *end != '\0' || id < 1) {
        fprintf(stderr, "usage: careclock feed revoke FEED_ID (a number from 'careclock feed list')\n");
        return CC_EXIT_USAGE;
    }
    int status = cc_cli_open_db(cli, &store);
    if (status != 0)
        return status;
    int rc = cc_feeds_revoke(store, id, cc_time_format_utc(cli->now, now, sizeof(now)), err, sizeof(err));
    if (rc == 0)
        printf("feed %lld revoked\n", id);
    else
        fprintf(stderr, "careclock feed revoke: %s\n", err);
    cc_store_close(store);
    return rc == 0 ? CC_EXIT_OK : rc == CC_ENOTFOUND || rc == CC_ESTATE ? CC_EXIT_USAGE : CC_EXIT_FAIL;
}

int cc_cli_feed(cc_cli_t *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "add") == 0)
        return feed_add(cli, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return feed_list(cli, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
        return feed_revoke(cli, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        feed_usage(stdout);
        return CC_EXIT_OK;
    }
    feed_usage(stderr);
    return CC_EXIT_USAGE;
}

int cc_cli_ics(cc_cli_t *cli, int argc, char **argv)
{
    cc_feed_kind_t kind = CC_FEED_TEAM;
    const char *target;
    cc_cli_env_t env;
    cc_store_t *store = NULL;
    cc_buf_t out;
    char err[512];
    int status = parse_target("ics", argc, argv, 1, ics_usage, &kind, &target);
    if (status != 0)
        return status < 0 ? CC_EXIT_OK : status;
    if ((status = cc_cli_env_load(cli, &env)) != 0)
        return status;
    cc_buf_init(&out);
    if ((status = cc_cli_open_db(cli, &store)) != 0 || (status = cc_cli_refresh(cli, &env, store)) != 0)
        goto out;
    int rc = cc_feeds_render(store, kind, target, &env.config, env.cal, cli->today, &out, NULL, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "careclock ics: %s\n", err);
        status = rc == CC_ENOTFOUND ? CC_EXIT_USAGE : CC_EXIT_FAIL;
        goto out;
    }
    if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        fprintf(stderr, "careclock ics: writing the calendar failed\n");
        status = CC_EXIT_FAIL;
    }
out:
    cc_buf_free(&out);
    cc_store_close(store);
    cc_cli_env_free(&env);
    return status;
}
