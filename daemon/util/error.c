#include "careclock/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *cc_strerror(int err)
{
    switch (err) {
    case CC_OK: return "success";
    case CC_EINVAL: return "invalid input";
    case CC_ENOMEM: return "out of memory";
    case CC_ERANGE: return "value out of range";
    case CC_EUNCOVERED: return "date outside the years the holiday calendar covers";
    case CC_EIO: return "input/output error";
    case CC_EPARSE: return "parse error";
    case CC_ENOTFOUND: return "not found";
    case CC_EEXIST: return "already exists";
    case CC_EDB: return "database error";
    case CC_ESTATE: return "invalid state";
    case CC_EBUSY: return "the database is busy";
    default: return "unknown error";
    }
}

void cc_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
