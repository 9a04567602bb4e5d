/* String hash map. See daemon/util/strmap.h. Linear probing, grown at
 * half full, so a probe sequence stays short. */
#include "util/strmap.h"
#include "careclock/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void cc_strmap_init(cc_strmap_t *m)
{
    memset(m, 0, sizeof(*m));
}

void cc_strmap_free(cc_strmap_t *m)
{
    if (m == NULL)
        return;
    free(m->keys);
    free(m->values);
    cc_strmap_init(m);
}

static uint64_t hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h ^ (h >> 29);
}

/* The slot holding key, or the empty slot where it would go. cap > 0. */
static size_t slot_of(const char *const *keys, size_t cap, const char *key)
{
    size_t i = (size_t)hash(key) & (cap - 1);
    while (keys[i] != NULL && strcmp(keys[i], key) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

size_t *cc_strmap_get(const cc_strmap_t *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    size_t i = slot_of(m->keys, m->cap, key);
    return m->keys[i] != NULL ? &m->values[i] : NULL;
}

static int grow(cc_strmap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    const char **keys = calloc(cap, sizeof(*keys));
    size_t *values = malloc(cap * sizeof(*values));
    if (keys == NULL || values == NULL) {
        free(keys);
        free(values);
        return CC_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == NULL)
            continue;
        size_t j = slot_of(keys, cap, m->keys[i]);
        keys[j] = m->keys[i];
        values[j] = m->values[i];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->cap = cap;
    return 0;
}

int cc_strmap_put(cc_strmap_t *m, const char *key, size_t value, size_t *existing)
{
    if ((m->len + 1) * 2 > m->cap && grow(m) != 0)
        return CC_ENOMEM;
    size_t i = slot_of(m->keys, m->cap, key);
    if (m->keys[i] != NULL) {
        if (existing != NULL)
            *existing = m->values[i];
        return CC_EEXIST;
    }
    m->keys[i] = key;
    m->values[i] = value;
    m->len++;
    return 0;
}
