/* The holiday files. See include/careclock/holidays.h. */
#include "careclock/holidays.h"
#include "careclock/error.h"
#include "util/readfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cc_holidays_divisions[] = {"england-and-wales", "scotland", "northern-ireland", NULL};

int cc_holidays_load_ics(cc_calendar_t *cal, const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cc__read_file(path, &text, &len);
    if (rc == CC_EIO)
        snprintf(err, errlen, "%s: cannot read holiday calendar", path);
    else if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, cc_strerror(rc));
    else
        rc = cc_calendar_add_ics(cal, text, path, err, errlen);
    free(text);
    return rc;
}

int cc_holidays_open(const char *holiday_dir, const char *division, const char *const *extra, size_t nextra,
                     cc_calendar_t **out, char *err, size_t errlen)
{
    cc_calendar_t *cal = NULL;
    char path[4096];
    int known = 0, rc;
    for (size_t i = 0; cc_holidays_divisions[i] != NULL; i++)
        known |= strcmp(division, cc_holidays_divisions[i]) == 0;
    if (!known) {
        snprintf(err, errlen, "unknown division \"%s\" (expected england-and-wales, scotland or northern-ireland)",
                 division);
        return CC_EINVAL;
    }
    rc = cc_calendar_new(&cal);
    if (rc != 0) {
        snprintf(err, errlen, "%s", cc_strerror(rc));
        return rc;
    }
    snprintf(path, sizeof(path), "%s/%s.ics", holiday_dir, division);
    rc = cc_holidays_load_ics(cal, path, err, errlen);
    for (size_t i = 0; rc == 0 && i < nextra; i++)
        rc = cc_holidays_load_ics(cal, extra[i], err, errlen);
    if (rc == 0)
        rc = cc_calendar_finish(cal);
    if (rc != 0) {
        cc_calendar_free(cal);
        return rc;
    }
    *out = cal;
    return 0;
}
