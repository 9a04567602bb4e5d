/* A string-keyed hash map to size_t values (open addressing, FNV-1a), for
 * bulk work such as the SSDA903 import where a database round trip per
 * lookup would be too slow. Keys are borrowed: they must outlive the map.
 * Internal. */
#ifndef CARECLOCK_STRMAP_H
#define CARECLOCK_STRMAP_H

#include <stddef.h>

typedef struct {
    const char **keys; /* NULL for an empty slot */
    size_t *values;
    size_t cap;        /* a power of two, or 0 */
    size_t len;
} cc_strmap_t;

/* An empty map; no allocation until the first put. */
void cc_strmap_init(cc_strmap_t *m);

/* Free the slots (not the keys). NULL-safe. */
void cc_strmap_free(cc_strmap_t *m);

/* The value slot of key, or NULL when absent. */
size_t *cc_strmap_get(const cc_strmap_t *m, const char *key);

/* Add key -> value. Returns 0; CC_EEXIST when key is present (its value is
 * left alone and written to *existing when that is not NULL); CC_ENOMEM. */
int cc_strmap_put(cc_strmap_t *m, const char *key, size_t value, size_t *existing);

#endif
