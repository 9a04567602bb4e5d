/* Processes: by pid, from /proc, and by liveness marks, from the kernel's
 * file locks. See include/careclock/process.h. */
#include "careclock/process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned long long cc_process_start_time(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    /* After ") " come fields 3, 4, ...: field 22 is the 20th. */
    p++;
    unsigned long long value = 0;
    for (int field = 3; field <= 22 && p; field++) {
        while (*p == ' ')
            p++;
        if (field == 22)
            value = strtoull(p, NULL, 10);
        p = strchr(p, ' ');
    }
    return value;
}

int cc_process_alive(long pid, unsigned long long started)
{
    if (pid <= 0)
        return 0;
    unsigned long long now_started = cc_process_start_time(pid);
    if (now_started == 0)
        return 0;
    return started == 0 || now_started == started;
}

/* ---- liveness marks ---- */

/* The byte of id: below 2^62, so that l_start never overflows. */
static off_t mark_byte(uint64_t id)
{
    return (off_t)(id & 0x3fffffffffffffffULL);
}

int cc_process_mark(const char *path, const char *like, uint64_t id)
{
    struct stat st;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        /* New: the database's mode and owner, as SQLite gives -wal and -shm,
         * so every user who may send from the database may read it. */
        if (like != NULL && stat(like, &st) == 0) {
            if (fchmod(fd, st.st_mode & 0666) != 0 ||
                (geteuid() == 0 && (st.st_uid != 0 || st.st_gid != 0) && fchown(fd, st.st_uid, st.st_gid) != 0)) {
                int saved = errno;
                close(fd);
                unlink(path);
                errno = saved;
                return -1;
            }
        }
    } else if (errno == EEXIST) {
        fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == EACCES)
            fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC); /* a read lock needs only read access */
    }
    if (fd < 0)
        return -1;
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = mark_byte(id), .l_len = 1};
    if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int cc_process_marked(const char *path, uint64_t id)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1; /* no file: nobody ever held a mark there */
    /* Would a write lock on the byte conflict? Only with a mark held
     * through another open file description: any process's, this one's
     * included. */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = mark_byte(id), .l_len = 1};
    int rc = fcntl(fd, F_OFD_GETLK, &fl);
    close(fd);
    if (rc != 0)
        return -1;
    return fl.l_type != F_UNLCK;
}
