/* Network addresses and ranges. See include/careclock/netaddr.h. */
#include "careclock/netaddr.h"
#include "careclock/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cc_netaddr_parse(const char *text, cc_netaddr_t *out)
{
    char host[64];
    const char *slash;
    int prefix = -1;
    memset(out, 0, sizeof(*out));
    if (text == NULL || strlen(text) >= sizeof(host))
        return CC_EINVAL;
    snprintf(host, sizeof(host), "%s", text);
    if ((slash = strchr(text, '/')) != NULL) {
        char *end;
        long n = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || n < 0 || n > 128)
            return CC_EINVAL;
        prefix = (int)n;
        host[slash - text] = '\0';
    }
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = AF_INET;
        if (prefix > 32)
            return CC_EINVAL;
        out->prefix = prefix < 0 ? 32 : prefix;
        return 0;
    }
    if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = AF_INET6;
        out->prefix = prefix < 0 ? 128 : prefix;
        return 0;
    }
    return CC_EINVAL;
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
    int bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)bytes) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

int cc_netaddr_match(const cc_netaddr_t *net, const struct sockaddr *sa)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (net == NULL || sa == NULL)
        return 0;
    if (sa->sa_family == AF_INET) {
        const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
        return net->family == AF_INET && prefix_equal(a, net->addr, net->prefix);
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (memcmp(a, mapped, sizeof(mapped)) == 0)
            return net->family == AF_INET && prefix_equal(a + 12, net->addr, net->prefix);
        return net->family == AF_INET6 && prefix_equal(a, net->addr, net->prefix);
    }
    return 0;
}
