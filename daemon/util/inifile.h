/* INI files read with inih, with the line number of each key known to the
 * handler, so that every error can name FILE:LINE. Internal to careclock. */
#ifndef CARECLOCK_INIFILE_H
#define CARECLOCK_INIFILE_H

#include <ini.h>

/* Parse path, calling handler for each key. *line holds the number of the
 * line being handled while handler runs. Returns 0; CC_EIO when the file
 * cannot be read; or a positive line number where inih found a syntax error,
 * where handler returned 0, or of a line longer than CC_INI_MAX_LINE - 2
 * characters (refused whole rather than split). */
#define CC_INI_MAX_LINE 200
int cc__ini_parse(const char *path, ini_handler handler, void *user, int *line);

#endif
