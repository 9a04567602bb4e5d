/* Network addresses and ranges from the configuration ("127.0.0.1",
 * "10.20.0.0/16", "::1", "fd00::/8"), and whether a client's address is in
 * one: the dashboard trusts an identity header only from the addresses of
 * the council's proxy ([web] proxy_addresses). Pure code over libc. */
#ifndef CARECLOCK_NETADDR_H
#define CARECLOCK_NETADDR_H

#include <sys/socket.h>

typedef struct {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char addr[16];  /* network byte order; 4 bytes used for AF_INET */
    int prefix;              /* bits that must match: 32 or 128 for one address */
} cc_netaddr_t;

/* Parse text: an IPv4 or IPv6 address, optionally "/N" (N up to 32 or
 * 128). Returns 0, or CC_EINVAL when it is neither. */
int cc_netaddr_parse(const char *text, cc_netaddr_t *out);

/* 1 if the address sa (AF_INET or AF_INET6; an IPv4-mapped IPv6 address
 * counts as its IPv4 address) is in net, else 0 (also for sa NULL). */
int cc_netaddr_match(const cc_netaddr_t *net, const struct sockaddr *sa);

#endif
