/* HTTP fields careclock's server reads and writes: ETags (RFC 9110 8.8.3)
 * and their matching (13.1.2), HTTP dates (5.6.7), Accept-Encoding
 * (12.5.3), Prometheus label values, and the routes of the feed listener.
 * No I/O. See http.h.
 */
#include "careclock/http.h"
#include "careclock/error.h"
#include "http/server.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void cc_http_etag(const void *body, size_t len, char etag[CC_HTTP_ETAG_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(body, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        /* Cannot happen with a working libcrypto; an ETag that matches no
         * request is still correct, only uncacheable. */
        memset(md, 0, sizeof(md));
        mdlen = 32;
    }
    etag[0] = '"';
    for (unsigned i = 0; i < mdlen; i++) {
        etag[1 + 2 * i] = hex[md[i] >> 4];
        etag[2 + 2 * i] = hex[md[i] & 15];
    }
    etag[1 + 2 * mdlen] = '"';
    etag[2 + 2 * mdlen] = '\0';
}

static const char *const DAYS[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char *cc_http_date(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[tm.tm_wday], tm.tm_mday, MONTHS[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); -1 if it is not one
 * (RFC 9110: a recipient ignores an If-Modified-Since it cannot parse). */
time_t cc__http_parse_date(const char *s)
{
    char day[4], mon[4], tail;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    /* Field widths as the format has them: an unbounded %d overflows (and
     * a value that wrapped negative passed the range checks below: found by
     * tests/fuzz/fuzz_http.c). */
    if (sscanf(s, "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d GM%c", day, &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &tail) != 8 ||
        tail != 'T')
        return -1;
    tm.tm_mon = -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, MONTHS[i]) == 0)
            tm.tm_mon = i;
    if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 1970 || tm.tm_hour < 0 ||
        tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    return timegm(&tm);
}

/* If-None-Match against our strong ETag, by weak comparison (RFC 9110
 * 13.1.2): "*" matches; W/"x" and "x" match "x". */
int cc__http_etag_matches(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p == '"') {
            const char *close = strchr(p + 1, '"');
            if (close == NULL)
                return 0;
            if ((size_t)(close - p + 1) == elen && memcmp(p, etag, elen) == 0)
                return 1;
            p = close + 1;
        } else {
            while (*p && *p != ',')
                p++;
        }
    }
    return 0;
}

int cc_http_metric_label(cc_buf_t *out, const char *value)
{
    /* Prometheus text format 0.0.4: in a label value, backslash, double
     * quote and line feed are written \\, \" and \n. */
    for (const char *p = value ? value : ""; *p != '\0'; p++) {
        if (*p == '\\')
            cc_buf_puts(out, "\\\\");
        else if (*p == '"')
            cc_buf_puts(out, "\\\"");
        else if (*p == '\n')
            cc_buf_puts(out, "\\n");
        else
            cc_buf_append(out, p, 1);
    }
    return out->failed ? CC_ENOMEM : 0;
}

/* 1 if an Accept-Encoding header value takes gzip: "gzip" (or "x-gzip")
 * listed without q=0 (RFC 9110 12.5.3). "*" is not taken as gzip: a
 * client that names no coding gets the plain body. */
int cc__http_accepts_gzip(const char *header)
{
    const char *p = header;
    while (p != NULL && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *name = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - name);
        int gzip = (n == 4 && strncasecmp(name, "gzip", 4) == 0) || (n == 6 && strncasecmp(name, "x-gzip", 6) == 0);
        double q = 1.0;
        while (*p && *p != ',') {
            while (*p == ' ' || *p == '\t' || *p == ';')
                p++;
            if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                char *end;
                q = strtod(p + 2, &end);
                p = end;
            }
            while (*p && *p != ',' && *p != ';')
                p++;
        }
        if (gzip)
            return q > 0.0;
    }
    return 0;
}

cc__http_route_t cc__http_route(const char *method, const char *url, char token[CC__HTTP_TOKEN_MAX + 1])
{
    token[0] = '\0';
    if (method == NULL || url == NULL)
        return CC__HTTP_ROUTE_NOT_FOUND;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return CC__HTTP_ROUTE_NOT_ALLOWED;
    if (strcmp(url, "/healthz") == 0)
        return CC__HTTP_ROUTE_HEALTHZ;
    if (strcmp(url, "/metrics") == 0)
        return CC__HTTP_ROUTE_METRICS;
    if (strcmp(url, "/") == 0)
        return CC__HTTP_ROUTE_ROOT;
    if (strncmp(url, CHILD_PREFIX, strlen(CHILD_PREFIX)) == 0) {
        const char *ref = url + strlen(CHILD_PREFIX);
        size_t n = strlen(ref);
        /* a reference as careclock takes one: printable, no '/' */
        int ok = n > 0 && n <= CC__HTTP_TOKEN_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = (unsigned char)ref[i] > 0x20 && (unsigned char)ref[i] != 0x7f && ref[i] != '/';
        if (ok) {
            memcpy(token, ref, n + 1);
            return CC__HTTP_ROUTE_CHILD;
        }
    }
    size_t len = strlen(url), pre = strlen(FEED_PREFIX), suf = strlen(FEED_SUFFIX);
    if (len > pre + suf && len - pre - suf <= CC__HTTP_TOKEN_MAX && strncmp(url, FEED_PREFIX, pre) == 0 &&
        strcmp(url + len - suf, FEED_SUFFIX) == 0) {
        size_t n = len - pre - suf;
        memcpy(token, url + pre, n);
        token[n] = '\0';
        if (strchr(token, '/') == NULL)
            return CC__HTTP_ROUTE_FEED;
        token[0] = '\0';
    }
    return CC__HTTP_ROUTE_NOT_FOUND;
}
