/* careclock backup DEST [--keep N]: a consistent copy of the plan database
 * while careclockd runs (SQLite's online backup API; daemon/store/backup.c).
 * DEST is a new file, or a directory: then the copy is
 * DEST/careclock-YYYYMMDDTHHMMSSZ.db (UTC) and --keep N deletes the oldest
 * such copies there beyond N (the nightly timer, careclock-backup.timer). */
#include "cli/cli.h"
#include "careclock/backup.h"
#include "careclock/error.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define BACKUP_PREFIX "careclock-"
#define BACKUP_SUFFIX ".db"

static void usage(FILE *out)
{
    fputs("usage: careclock backup DEST [--keep N]\n"
          "  a consistent copy of the database as of one commit, taken while careclockd writes (SQLite's\n"
          "  online backup API), created mode 0600, one self-contained file (no -wal); never overwrites\n"
          "  DEST        a new file, or a directory: then DEST/careclock-YYYYMMDDTHHMMSSZ.db (UTC)\n"
          "  --keep N    with a directory: then delete the oldest careclock-*.db there beyond the newest N\n",
          out);
}

int cc_cli_backup(cc_cli_t *cli, int argc, char **argv)
{
    const char *dest = NULL;
    long keep = -1;
    char path[PATH_MAX], err[1024];
    struct stat st;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CC_EXIT_OK;
        }
        if (strcmp(a, "--keep") == 0) {
            char *end;
            if (i + 1 >= argc || (keep = strtol(argv[i + 1], &end, 10), *end != '\0') || keep < 1 ||
                keep > 100000) {
                fprintf(stderr, "careclock backup: --keep needs a number of copies from 1\n");
                return CC_EXIT_USAGE;
            }
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "careclock backup: unknown option \"%s\"\n", a);
            usage(stderr);
            return CC_EXIT_USAGE;
        } else if (dest == NULL) {
            dest = a;
        } else {
            fprintf(stderr, "careclock backup: one DEST only (\"%s\" is a second)\n", a);
            return CC_EXIT_USAGE;
        }
    }
    if (dest == NULL) {
        fprintf(stderr, "careclock backup: needs DEST, a new file or a directory\n");
        usage(stderr);
        return CC_EXIT_USAGE;
    }
    int directory = stat(dest, &st) == 0 && S_ISDIR(st.st_mode);
    if (keep > 0 && !directory) {
        fprintf(stderr, "careclock backup: --keep needs DEST to be a directory (%s is not one)\n", dest);
        return CC_EXIT_USAGE;
    }
    int rc = cc_cli_resolve_db(cli);
    if (rc != 0)
        return rc;
    if (directory)
        cc_backup_name(dest, BACKUP_PREFIX, BACKUP_SUFFIX, (long long)time(NULL), path, sizeof(path));
    else
        snprintf(path, sizeof(path), "%s", dest);
    cc_backup_info_t info;
    rc = cc_backup_database(cli->db_path, path, &info, err, sizeof(err));
    if (rc == CC_ENOTFOUND) {
        fprintf(stderr, "careclock backup: there is no database at %s (%s)\n", cli->db_path, cli->db_origin);
        return CC_EXIT_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "careclock backup: %s\n", err);
        return rc == CC_EEXIST ? CC_EXIT_USAGE : CC_EXIT_FAIL;
    }
    printf("backed up %s to %s (%lld bytes, schema version %d)\n", cli->db_path, path, (long long)info.bytes,
           info.schema_version);
    if (keep > 0) {
        int deleted = 0;
        if (cc_backup_rotate(dest, BACKUP_PREFIX, BACKUP_SUFFIX, (int)keep, &deleted, err, sizeof(err)) != 0) {
            fprintf(stderr, "careclock backup: %s\n", err);
            return CC_EXIT_FAIL;
        }
        if (deleted > 0)
            printf("deleted the %d oldest backup%s in %s, keeping %ld\n", deleted, deleted == 1 ? "" : "s", dest,
                   keep);
    }
    return CC_EXIT_OK;
}
