/* The timeliness report's renderers (reportfmt.c: the table, CSV and
 * JSON) and its building (report.c) share these: internal to
 * daemon/store.
 */
#ifndef CARECLOCK_STORE_REPORTFMT_H
#define CARECLOCK_STORE_REPORTFMT_H

#include "careclock/report.h"



#endif
