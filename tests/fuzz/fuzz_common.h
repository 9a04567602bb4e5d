/* Shared helpers for careclock's libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Inputs of the structured targets are fields separated by NUL bytes: the
 * C strings careclock's code takes can never hold a NUL, so every other
 * byte value reaches the code under test. Numbers are taken from the
 * first bytes of a field. Everything a target allocates for one input is
 * freed before it returns, so LeakSanitizer sees any leak in the code under
 * test.
 *
 * A target checks invariants, not only crashes: when output breaks a
 * property the module promises (valid JSON, no header injection, lines
 * folded, a round trip), it calls FZ_CHECK, which prints what failed and
 * aborts, and libFuzzer keeps the input as a crash. */
#ifndef CARECLOCK_FUZZ_COMMON_H
#define CARECLOCK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FZ_CHECK(cond, ...)                                                                                        \
    do {                                                                                                           \
        if (!(cond)) {                                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond);                         \
            fprintf(stderr, __VA_ARGS__);                                                                          \
            fprintf(stderr, "\n");                                                                                 \
            abort();                                                                                               \
        }                                                                                                          \
    } while (0)

#define FZ_MAX_FIELDS 64

/* The input split into NUL-terminated fields (copies). */
typedef struct {
    char *copy;
    char *field[FZ_MAX_FIELDS];
    size_t len[FZ_MAX_FIELDS];
    size_t n;
    size_t next; /* the next field fz_str() hands out */
} fz_t;

static inline void fz_init(fz_t *f, const uint8_t *data, size_t size)
{
    memset(f, 0, sizeof(*f));
    f->copy = malloc(size + 1);
    if (f->copy == NULL)
        abort();
    memcpy(f->copy, data, size);
    f->copy[size] = '\0';
    char *p = f->copy, *end = f->copy + size;
    while (f->n < FZ_MAX_FIELDS) {
        char *nul = memchr(p, '\0', (size_t)(end - p) + 1);
        f->field[f->n] = p;
        f->len[f->n] = (size_t)(nul - p);
        f->n++;
        if (nul >= end)
            break;
        p = nul + 1;
    }
}

static inline void fz_free(fz_t *f)
{
    free(f->copy);
    f->copy = NULL;
}

/* The next field, or "" when the input has no more. Never NULL. */
static inline const char *fz_str(fz_t *f)
{
    return f->next < f->n ? f->field[f->next++] : "";
}

/* The next field or NULL when it is empty or missing: for optional values. */
static inline const char *fz_opt(fz_t *f)
{
    const char *s = fz_str(f);
    return s[0] ? s : NULL;
}

/* A small number from the next field's first bytes (0 when missing). */
static inline unsigned fz_num(fz_t *f)
{
    const unsigned char *s = (const unsigned char *)fz_str(f);
    unsigned v = 0;
    for (int i = 0; i < 4 && s[i]; i++)
        v = v << 8 | s[i];
    return v;
}

/* A file holding data, at a path (/proc/self/fd/N) that the path-taking
 * loaders (configuration, rules) can open. Close with fz_file_close. */
typedef struct {
    int fd;
    char path[64];
} fz_file_t;

static inline int fz_file(fz_file_t *file, const void *data, size_t size)
{
    file->fd = memfd_create("careclock-fuzz", MFD_CLOEXEC);
    if (file->fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(file->fd, (const char *)data + off, size - off);
        if (w <= 0) {
            close(file->fd);
            return -1;
        }
        off += (size_t)w;
    }
    snprintf(file->path, sizeof(file->path), "/proc/self/fd/%d", file->fd);
    return 0;
}

static inline void fz_file_close(fz_file_t *file)
{
    if (file->fd >= 0)
        close(file->fd);
    file->fd = -1;
}

/* 1 if s[0..len) is well-formed UTF-8 (Unicode Table 3-7). */
static inline int fz_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return 0;
        }
        if (i + n > len || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return 0;
        i += n;
    }
    return 1;
}

/* Where the shipped rules and holidays are (the source tree). */
#ifndef CC_SOURCE_DIR
#define CC_SOURCE_DIR "."
#endif
#define FZ_RULES CC_SOURCE_DIR "/config/rules/england.rules"
#define FZ_HOLIDAYS CC_SOURCE_DIR "/config/holidays"

#endif
