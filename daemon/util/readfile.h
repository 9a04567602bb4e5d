/* Reading a whole file into memory: the one place the config layer (rule
 * and holiday files), the INI reader and the CLI's import read files whole.
 * Internal to careclock. */
#ifndef CARECLOCK_READFILE_H
#define CARECLOCK_READFILE_H

#include <stddef.h>

/* Read the file at path into *text, NUL-terminated (the file may hold NUL
 * bytes of its own: *len counts every byte read). Returns 0 with *text
 * owned by the caller (free()); CC_EIO when the file cannot be opened or
 * read; CC_ENOMEM. *text is NULL on error. */
int cc__read_file(const char *path, char **text, size_t *len);

#endif
