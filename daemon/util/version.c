/* See include/careclock/version.h. CC_VERSION comes from the VERSION file
 * (the Makefile passes it to this file only, so a new version rebuilds one
 * object). */
#include "careclock/version.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libical/ical.h>
#include <limits.h>
#include <link.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#ifndef CC_VERSION
#define CC_VERSION "unknown"
#endif

const char *cc_version(void)
{
    return CC_VERSION;
}

typedef struct {
    const char *stem; /* "libical.so." */
    char found[PATH_MAX];
} find_object_t;

static int find_object(struct dl_phdr_info *info, size_t size, void *data)
{
    find_object_t *f = data;
    (void)size;
    const char *name = info->dlpi_name;
    const char *base = name ? strrchr(name, '/') : NULL;
    base = base ? base + 1 : name;
    if (base == NULL || strncmp(base, f->stem, strlen(f->stem)) != 0)
        return 0;
    snprintf(f->found, sizeof(f->found), "%s", name);
    return 1;
}

/* The version in the real file name of the loaded shared object whose name
 * starts with stem ("libical.so.3" -> libical.so.3.0.16 -> "3.0.16"), into
 * out; 0, or -1 when it is not loaded or its name carries no version. */
static int loaded_version(const char *stem, char *out, size_t len)
{
    find_object_t f = {.stem = stem};
    char real[PATH_MAX];
    if (dl_iterate_phdr(find_object, &f) == 0 || realpath(f.found, real) == NULL)
        return -1;
    const char *base = strrchr(real, '/');
    base = base ? base + 1 : real;
    const char *v = base + strlen(stem);
    if (strncmp(base, stem, strlen(stem)) != 0 || *v == '\0' || strchr(v, '.') == NULL)
        return -1;
    snprintf(out, len, "%s", v);
    return 0;
}

void cc_version_libraries(FILE *out)
{
    const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
    char ical[64];
    fprintf(out, "  SQLite %s\n", sqlite3_libversion());
    fprintf(out, "  libuv %s\n", uv_version_string());
    fprintf(out, "  libcurl %s (%s)\n", curl->version, curl->ssl_version ? curl->ssl_version : "no TLS");
    if (loaded_version("libical.so.", ical, sizeof(ical)) == 0)
        fprintf(out, "  libical %s (the shared object loaded; built with %d.%d.%d)\n", ical, ICAL_MAJOR_VERSION,
                ICAL_MINOR_VERSION, ICAL_PATCH_VERSION);
    else
        fprintf(out, "  libical %d.%d.%d (built with; libical reports no version at run time)\n",
                ICAL_MAJOR_VERSION, ICAL_MINOR_VERSION, ICAL_PATCH_VERSION);
    fprintf(out, "  libmicrohttpd %s\n", MHD_get_version());
    fprintf(out, "  jansson %s\n", jansson_version_str());
    fprintf(out, "  OpenSSL %s\n", OpenSSL_version(OPENSSL_VERSION_STRING));
}
