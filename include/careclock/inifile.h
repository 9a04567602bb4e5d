/* INI files read with inih, with the line number of each key known to the
 * handler, so that every error can name FILE:LINE. Internal to careclock. */
#ifndef CARECLOCK_INIFILE_H
#define CARECLOCK_INIFILE_H

#include <ini.h>

/* Parse path, calling handler for each key. *line holds the number of the
 * line being handled while handler runs. Returns 0; CC_EIO when the file
 * cannot be read; or a positive line number where inih found a syntax error
 * (or where handler returned 0). */
int cc__ini_parse(const char *path, ini_handler handler, void *user, int *line);

#endif
