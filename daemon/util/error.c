#include "careclock/error.h"

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
