/* Processes by pid, from /proc (Linux): enough to tell whether the process
 * that wrote a claim (the outbox's claimer id, "pid:start-time") is still
 * the one running under that pid.
 */
#ifndef CARECLOCK_PROCESS_H
#define CARECLOCK_PROCESS_H

/* Field 22 of /proc/PID/stat: the process's start time in clock ticks
 * since boot; 0 when it cannot be read (no such process). */
unsigned long long cc_process_start_time(long pid);

/* 1 if process pid is running and, when started is not 0, is the one that
 * started then (a reused pid does not count); else 0. */
int cc_process_alive(long pid, unsigned long long started);

#endif
