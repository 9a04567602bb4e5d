/* The file channel of the sender: with [notify] file_channel, each message
 * is written as a file in that directory instead of being sent (for
 * demonstrations and trials). See notify/sender_internal.h.
 *
 * Design notes:
 *  - The file appears whole or not at all: written to a temporary file,
 *    fsynced, then renamed to NAME (and the directory fsynced). A failure
 *    removes the temporary file and completes the job with RETRY, so the
 *    outbox tries again.
 *  - The temporary file is ".NAME.<16 random hex digits>.tmp", created with
 *    O_CREAT | O_EXCL | O_NOFOLLOW and mode 0600 relative to the directory's
 *    descriptor: nobody can predict the name to plant a link there, and a
 *    link or file that is there anyway is never opened. rename() replaces a
 *    link at NAME itself rather than follow it.
 *  - The name comes from the message id (job->file_name); any byte other
 *    than a letter, a digit, ".", "-", "_" or "@" becomes "_", and a
 *    leading "." too, so a name can neither leave the directory nor hide.
 *  - The directory is made 0700 when missing, and refused when another user
 *    could write to it: owned by someone other than this user or root, or
 *    writable by its group or by all (/tmp, for example). Whoever can write
 *    the directory can swap its entries; the messages are about children
 *    (docs/security.md, "Files careclock writes besides the database").
 *  - The write is synchronous, on the loop, inside cc_sender_send; the job
 *    still completes from the loop (deferred), never before
 *    cc_sender_send returns.
 */
#include "notify/sender_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* The channel's directory, opened: its descriptor, or -1 with why set. */
static int open_dir(const char *dir, char *why, size_t whylen)
{
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, whylen, "cannot open %s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        snprintf(why, whylen,
                 "%s (owner uid %lu, mode %04o) can be written by another user: the file channel writes only into "
                 "a directory of this user's (uid %lu) that its group and others cannot write (chmod 0700)",
                 dir, (unsigned long)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned long)geteuid());
        close(fd);
        return -1;
    }
    return fd;
}

/* Create the temporary file for name in dirfd: 0 with *fd and tmp set. */
static int create_tmp(int dirfd, const char *name, char *tmp, size_t tmplen, int *fd)
{
    static const char hex[] = "0123456789abcdef";
    for (int attempt = 0; attempt < 8; attempt++) {
        unsigned char rnd[8];
        char suffix[17];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            return -1;
        for (size_t i = 0; i < sizeof(rnd); i++) {
            suffix[2 * i] = hex[rnd[i] >> 4];
            suffix[2 * i + 1] = hex[rnd[i] & 15];
        }
        suffix[16] = '\0';
        snprintf(tmp, tmplen, ".%s.%s.tmp", name, suffix);
        *fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (*fd >= 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

void cc_filechannel_write(cc_sender_t *s, cc_send_job_t *job)
{
    char name[256], tmp[300], why[600];
    size_t n = 0;
    for (const char *p = job->file_name ? job->file_name : "message"; *p && n + 1 < sizeof(name); p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '-' || c == '_' || c == '@';
        name[n++] = ok ? c : '_';
    }
    name[n] = '\0';
    if (name[0] == '.' || name[0] == '\0')
        name[0] = '_';
    int dirfd = open_dir(s->file_dir, why, sizeof(why)), fd = -1, ok = 0;
    if (dirfd < 0)
        goto out;
    if (create_tmp(dirfd, name, tmp, sizeof(tmp), &fd) != 0) {
        snprintf(why, sizeof(why), "cannot create a temporary file in %s: %s", s->file_dir, strerror(errno));
        goto out;
    }
    size_t off = 0;
    while (off < job->len) {
        ssize_t w = write(fd, job->body + off, job->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    ok = off == job->len && fsync(fd) == 0;
    if (close(fd) != 0)
        ok = 0;
    if (ok && renameat(dirfd, tmp, dirfd, name) != 0)
        ok = 0;
    if (!ok) {
        snprintf(why, sizeof(why), "cannot write %s/%s: %s", s->file_dir, name, strerror(errno));
        unlinkat(dirfd, tmp, 0);
    } else {
        fsync(dirfd); /* the rename itself durable; a failure here loses nothing already written */
    }
out:
    if (dirfd >= 0)
        close(dirfd);
    if (ok)
        job->result = CC_SEND_OK;
    else
        cc_sender_set_error(job, CC_SEND_RETRY, "%s", why);
    cc_sender_defer(s, job);
}
