/* INI text read with inih, with the line number of each key known to the
 * handler, so that every error can name FILE:LINE. Internal to careclock. */
#ifndef CARECLOCK_INIFILE_H
#define CARECLOCK_INIFILE_H

#include <ini.h>
#include <stddef.h>

/* Parse the len bytes of text (NUL bytes in it are taken as fgets() would
 * take them from a file), calling handler for each key. *line holds the
 * number of the line being handled while handler runs. Returns 0; CC_ENOMEM
 * when inih could not allocate; or a positive line number where inih found
 * a syntax error, where handler returned 0, or of a line longer than
 * CC_INI_MAX_LINE - 2 characters (refused whole rather than split). Reads
 * no file. */
#define CC_INI_MAX_LINE 200
int cc__ini_parse_text(const char *text, size_t len, ini_handler handler, void *user, int *line);

/* cc__ini_parse_text() over the file at path. Returns the same, or CC_EIO
 * when the file cannot be read. */
int cc__ini_parse(const char *path, ini_handler handler, void *user, int *line);

#endif
