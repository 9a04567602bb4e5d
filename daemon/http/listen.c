/* Listening sockets: made here rather than by libmicrohttpd so that an
 * error names the address and the cause, port 0 (tests) can be read back,
 * and a reconfiguration can keep a socket; and the pre-flight probe of an
 * address (cc_http_listen_probe). See http.c's design notes.
 */
#include "careclock/http.h"
#include "careclock/error.h"
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Split "host:port" or "[v6]:port". */
int cc__http_split_listen(const char *address, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    if (address == NULL)
        return CC_EINVAL;
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - address - 1) >= hostlen)
            return CC_EINVAL;
        snprintf(host, hostlen, "%.*s", (int)(close - address - 1), address + 1);
        colon = close + 1;
    } else {
        colon = strrchr(address, ':');
        if (colon == NULL || colon == address || (size_t)(colon - address) >= hostlen)
            return CC_EINVAL;
        snprintf(host, hostlen, "%.*s", (int)(colon - address), address);
    }
    if (colon[1] == '\0' || strlen(colon + 1) >= portlen || strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return CC_EINVAL;
    snprintf(port, portlen, "%s", colon + 1);
    return 0;
}

/* A listening socket bound to address into *out, its port into *port.
 * Returns 0, CC_EINVAL (address does not parse) or CC_EIO, with err set
 * and the system's reason in *sys_errno. */
int cc__http_open_listener(const char *address, int *out, int *port, int *ipv6, int *sys_errno, char *err,
                         size_t errlen)
{
    char host[256], service[8];
    struct addrinfo hints, *res = NULL;
    int fd = -1, saved = 0;
    if (cc__http_split_listen(address, host, sizeof(host), service, sizeof(service)) != 0) {
        snprintf(err, errlen, "listen \"%s\" is not ADDRESS:PORT", address ? address : "");
        return CC_EINVAL;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "listen \"%s\": %s", address, gai_strerror(gai));
        return CC_EINVAL;
    }
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
            continue;
        }
        *ipv6 = ai->ai_family == AF_INET6;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", address, strerror(saved));
        *sys_errno = saved;
        return CC_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    *port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *out = fd;
    return 0;
}


/* 1 if a careclockd answers GET /healthz on address within a second: on
 * either listener, whatever the route says (200, 503 or 404), every answer
 * carries "Server: careclockd". */
static int careclockd_answers(const char *address)
{
    char host[256], service[8], reply[2048];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
    int found = 0;
    if (cc__http_split_listen(address, host, sizeof(host), service, sizeof(service)) != 0)
        return 0;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "%s", strcmp(host, "::") == 0 ? "::1" : "127.0.0.1");
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return 0;
    for (struct addrinfo *ai = res; ai != NULL && !found; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        struct timeval tv = {1, 0};
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        static const char request[] = "GET /healthz HTTP/1.0\r\nHost: careclock\r\n\r\n";
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 && write(fd, request, sizeof(request) - 1) > 0) {
            size_t got = 0;
            ssize_t n;
            while (got < sizeof(reply) - 1 && (n = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0)
                got += (size_t)n;
            reply[got] = '\0';
            const char *end = strstr(reply, "\r\n\r\n");
            found = strncmp(reply, "HTTP/1.", 7) == 0 && end != NULL &&
                    strcasestr(reply, "\r\nServer: careclockd\r\n") != NULL &&
                    strcasestr(reply, "\r\nServer: careclockd\r\n") < end;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return found;
}

int cc_http_listen_probe(const char *address, char *msg, size_t len)
{
    int fd = -1, port = 0, ipv6 = 0, sys_errno = 0;
    char err[512];
    msg[0] = '\0';
    int rc = cc__http_open_listener(address, &fd, &port, &ipv6, &sys_errno, err, sizeof(err));
    if (rc == 0) {
        close(fd);
        return 0;
    }
    if (rc == CC_EINVAL) {
        snprintf(msg, len, "%s: give ADDRESS:PORT, such as 127.0.0.1:8787", err);
        return CC_EINVAL;
    }
    if (sys_errno == EADDRINUSE && careclockd_answers(address)) {
        snprintf(msg, len, "in use by a careclockd that is running (it answers as careclockd): fine for a reload; "
                           "a second instance needs its own address");
        return 0;
    }
    if (sys_errno == EADDRINUSE)
        snprintf(msg, len, "the address is in use by another program: stop it (ss -ltnp names it), or choose "
                           "another port in [http] listen");
    else if (sys_errno == EACCES)
        snprintf(msg, len, "ports below 1024 need a privilege careclockd does not have (its unit grants no "
                           "capabilities): listen on a port above 1023 behind the council's reverse proxy");
    else if (sys_errno == EADDRNOTAVAIL)
        snprintf(msg, len, "the address is not one of this machine's: use 127.0.0.1 (behind the reverse "
                           "proxy) or an address this machine has (ip -brief address)");
    else
        snprintf(msg, len, "%s: fix [http] listen", err);
    return CC_EIO;
}
