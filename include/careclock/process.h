/* Whether another process is still running (Linux).
 *
 * By pid, from /proc: enough to tell whether the process that wrote a claim
 * of the old form ("pid:start-time") is still the one running under that
 * pid, where /proc shows it. systemd's ProtectProc=invisible hides other
 * users' processes from careclockd, so a live sender under another account
 * looked dead (issue 19).
 *
 * By liveness mark, whatever /proc shows: a process holds an open file
 * description lock (a read lock, F_OFD_SETLK) on one byte of a shared file
 * for as long as it runs; another process asks the kernel whether that byte
 * is locked (F_OFD_GETLK). The kernel drops the lock when the process ends,
 * however it ends (SIGKILL included), so a mark is never stale.
 */
#ifndef CARECLOCK_PROCESS_H
#define CARECLOCK_PROCESS_H

/* Field 22 of /proc/PID/stat: the process's start time in clock ticks
 * since boot; 0 when it cannot be read (no such process). */
unsigned long long cc_process_start_time(long pid);

/* 1 if process pid is running and, when started is not 0, is the one that
 * started then (a reused pid does not count); else 0. */
int cc_process_alive(long pid, unsigned long long started);

#include <stdint.h>

/* Hold the liveness mark id in the file at path (created, without following
 * a link, with the mode and owner of the file like, as SQLite gives a
 * database's -wal and -shm; like may be NULL). Returns a descriptor that
 * holds the mark until it is closed (the process ending closes it), or -1
 * with errno set. */
int cc_process_mark(const char *path, const char *like, uint64_t id);

/* 1 when some process holds the mark id in path (this one too, through the
 * descriptor cc_process_mark gave), 0 when none does (or path does not
 * exist), -1 when it cannot be told (path cannot be opened: errno). */
int cc_process_marked(const char *path, uint64_t id);

#endif
