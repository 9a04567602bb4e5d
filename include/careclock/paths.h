/* Where careclock finds the files it ships (holiday calendars, rules). */
#ifndef CARECLOCK_PATHS_H
#define CARECLOCK_PATHS_H

#include <stddef.h>

/* Write into buf (len bytes) the directory holding holidays/ and rules/:
 * <exe>/../share/careclock when installed, <exe>/../config in the build tree
 * (<exe>/../../config for build/sanitize),
 * else the compiled-in CC_DATADIR. Returns 0, or CC_ENOTFOUND with the
 * compiled-in path written anyway. */
int cc_paths_datadir(char *buf, size_t len);

/* The directory part of path into dir (len bytes): "." when path names
 * no directory, "/" for a file at the root. */
void cc_path_dir(const char *path, char *dir, size_t len);

#endif
