/* Fuzz target: what the feed server reads from a request besides what
 * libmicrohttpd parses: the route and token taken from the path
 * (cc__http_route), If-None-Match against the ETag
 * (cc__http_etag_matches) and If-Modified-Since (cc__http_parse_date).
 * Input: NUL-separated fields: method, path, If-None-Match value,
 * If-Modified-Since value.
 * Invariants: the feed route is taken only for GET or HEAD of
 * /feeds/<1..256 bytes without '/'>.ics and hands on exactly those bytes;
 * the ETag a response carries matches itself, quoted or weak; a date that
 * parses is one cc_http_date writes back and parses again the same. */
#include "fuzz_common.h"

#include "careclock/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    const char *method = fz_str(&f), *url = fz_str(&f), *inm = fz_str(&f), *ims = fz_str(&f);
    char token[CC__HTTP_TOKEN_MAX + 1];
    cc__http_route_t r = cc__http_route(method, url, token);
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    FZ_CHECK(get || r == CC__HTTP_ROUTE_NOT_ALLOWED, "method %s took route %d", method, (int)r);
    if (r == CC__HTTP_ROUTE_FEED) {
        size_t len = strlen(url), tl = strlen(token);
        FZ_CHECK(tl >= 1 && tl <= CC__HTTP_TOKEN_MAX && strchr(token, '/') == NULL, "token of %zu bytes", tl);
        FZ_CHECK(len == tl + strlen("/feeds/.ics") && strncmp(url, "/feeds/", 7) == 0 &&
                     memcmp(url + 7, token, tl) == 0 && strcmp(url + 7 + tl, ".ics") == 0,
                 "token \"%s\" is not the path's", token);
    } else if (r == CC__HTTP_ROUTE_CHILD) {
        /* the child's page: the reference is the rest of the path */
        FZ_CHECK(strncmp(url, "/children/", 10) == 0 && strcmp(url + 10, token) == 0 && token[0] != '\0' &&
                     strchr(token, '/') == NULL,
                 "child \"%s\" is not the path's", token);
    } else {
        FZ_CHECK(token[0] == '\0', "a token for route %d", (int)r);
    }
    if (r == CC__HTTP_ROUTE_HEALTHZ)
        FZ_CHECK(strcmp(url, "/healthz") == 0, "healthz for %s", url);

    char etag[CC_HTTP_ETAG_SIZE], weak[CC_HTTP_ETAG_SIZE + 2], list[CC_HTTP_ETAG_SIZE + 64];
    cc_http_etag(url, strlen(url), etag);
    snprintf(weak, sizeof(weak), "W/%s", etag);
    snprintf(list, sizeof(list), "\"x\", %s", weak);
    FZ_CHECK(cc__http_etag_matches(etag, etag) && cc__http_etag_matches(weak, etag) &&
                 cc__http_etag_matches(list, etag),
             "the ETag does not match itself");
    int m = cc__http_etag_matches(inm, etag);
    FZ_CHECK(m == 0 || m == 1, "match %d", m);
    if (m == 1)
        FZ_CHECK(strchr(inm, '*') != NULL || strstr(inm, etag) != NULL, "\"%s\" matched without the ETag", inm);

    time_t t = cc__http_parse_date(ims);
    if (t != (time_t)-1) {
        char back[64];
        cc_http_date(t, back, sizeof(back));
        FZ_CHECK(cc__http_parse_date(back) == t, "\"%s\" -> %lld -> \"%s\" differs", ims, (long long)t, back);
    }
    fz_free(&f);
    return 0;
}
