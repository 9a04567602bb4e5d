/* careclock error codes: every public function returns 0 or one of these. */
#ifndef CARECLOCK_ERROR_H
#define CARECLOCK_ERROR_H

enum {
    CC_OK = 0,
    CC_EINVAL = -1,      /* malformed input: a date, an offset, a field */
    CC_ENOMEM = -2,      /* an allocation failed */
    CC_ERANGE = -3,      /* a value outside what the type can hold */
    CC_EUNCOVERED = -4,  /* a date outside the years the calendar covers; the answer is still written */
    CC_EIO = -5,         /* a file could not be read or written */
    CC_EPARSE = -6,      /* a file did not parse (ICS, rules, configuration, CSV) */
    CC_ENOTFOUND = -7,   /* the named thing does not exist */
    CC_EEXIST = -8,      /* the named thing exists already */
    CC_EDB = -9,         /* the database reported an error */
    CC_ESTATE = -10,     /* the operation does not make sense in this state */
    CC_EBUSY = -11       /* another process held the database's write lock: try again */
};

#include <stddef.h>

/* Return a static English description of an error code; never NULL. */
const char *cc_strerror(int err);

/* Write a message into the caller's err buffer (the err/errlen convention
 * of every function that explains a failure): printf-style, truncated to
 * errlen. err may be NULL or errlen 0: then nothing is written. */
void cc_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
