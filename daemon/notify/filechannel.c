/* The file channel of the sender: with [notify] file_channel, each message
 * is written as a file in that directory instead of being sent (for
 * demonstrations and trials). See notify/sender_internal.h.
 *
 * Design notes:
 *  - The file appears whole or not at all: written to NAME.tmp, fsynced,
 *    then renamed to NAME. A failure removes the temporary file and
 *    completes the job with RETRY, so the outbox tries again.
 *  - The name comes from the message id (job->file_name); any byte other
 *    than a letter, a digit, ".", "-", "_" or "@" becomes "_", and a
 *    leading "." too, so a name can neither leave the directory nor hide.
 *  - The directory is made 0700 and the files 0600 (docs/security.md):
 *    the messages are about children.
 *  - The write is synchronous, on the loop, inside cc_sender_send; the job
 *    still completes from the loop (deferred), never before
 *    cc_sender_send returns.
 */
#include "notify/sender_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cc_filechannel_write(cc_sender_t *s, cc_send_job_t *job)
{
    char name[256], path[4096], tmp[4200];
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
    snprintf(path, sizeof(path), "%s/%s", s->file_dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    mkdir(s->file_dir, 0700);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t off = 0;
    while (fd >= 0 && off < job->len) {
        ssize_t w = write(fd, job->body + off, job->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    int ok = fd >= 0 && off == job->len && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (ok && rename(tmp, path) == 0) {
        job->result = CC_SEND_OK;
    } else {
        cc_sender_set_error(job, CC_SEND_RETRY, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    cc_sender_defer(s, job);
}
