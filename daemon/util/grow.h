/* Growing arrays: one doubling policy for every growable array in
 * careclock. Internal. */
#ifndef CARECLOCK_GROW_H
#define CARECLOCK_GROW_H

#include <stddef.h>

/* Make room for at least need elements of elem bytes in the array at
 * *items (capacity *cap), doubling from initial. On success returns 0 and
 * may move the array; on failure returns CC_ENOMEM and leaves it as it was.
 * items is a pointer to the caller's pointer (T **). */
int cc__grow(void *items, size_t *cap, size_t need, size_t elem, size_t initial);

#endif
