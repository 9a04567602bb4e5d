/* careclock's version (the VERSION file at build time) and the versions of
 * the libraries it runs with, for --version, -V, the start-up log line and
 * the careclock_build_info metric. */
#ifndef CARECLOCK_VERSION_H
#define CARECLOCK_VERSION_H

#include <stdio.h>

/* The release, "0.9.0": a static string, never NULL. */
const char *cc_version(void);

/* Write one line per library, "  NAME VERSION (how known)\n", to out:
 * SQLite, libuv, libcurl (with its TLS library), libmicrohttpd, jansson and
 * OpenSSL as each library reports itself at run time; libical, which has no
 * such call, from the name of the shared object loaded into this process
 * (libical.so.3.0.16), else from the headers it was built with. */
void cc_version_libraries(FILE *out);

#endif
