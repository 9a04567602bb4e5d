/* The dashboard's sign-in links, sessions and audit (tables web_signin,
 * web_sessions, web_audit; docs/schema.md, docs/dashboard.md).
 * daemon/store/sessions.c is the only place their SQL lives.
 *
 * Tokens (a sign-in link's, a session cookie's) are 256 random bits as 64
 * hex digits, made by cc_feeds_token_new; only their SHA-256 is stored
 * (cc_feeds_token_hash), looked up through a unique index and compared
 * again in constant time. A malformed, unknown, used, expired or ended
 * token is simply not found.
 *
 * Every write is one transaction that also writes its audit row: who, what,
 * the outcome, from which address and through which way of signing in.
 * Times are UTC seconds (time_t), stored as UTC text.
 */
#ifndef CARECLOCK_SESSIONS_H
#define CARECLOCK_SESSIONS_H

#include "careclock/feeds.h" /* CC_FEED_TOKEN_LEN: the tokens' shape */
#include "careclock/store.h"

#include <stddef.h>
#include <time.h>

#define CC_SESSION_TOKEN_LEN CC_FEED_TOKEN_LEN

/* One row of web_audit. Any field but action and outcome may be NULL. */
typedef struct {
    const char *staff_id; /* who (NULL: not known) */
    const char *action;   /* signin_request, signin, signout, proxy_refused, ... */
    const char *target;   /* what it was about (a staff id, a path) */
    const char *outcome;  /* sent, ok, refused, expired, ... */
    const char *detail;   /* more, in words */
    const char *client;   /* the client's address */
    const char *via;      /* email, proxy */
} cc_web_audit_t;

/* Write one audit row at now, in a transaction of its own (or a savepoint
 * of the caller's). 0 or CC_EDB. */
int cc_web_audit(cc_store_t *s, const cc_web_audit_t *a, time_t now);

/* How many sign-in links staff_id was sent since since (the rate limit). */
int cc_signin_count_since(cc_store_t *s, const char *staff_id, time_t since, size_t *n);

/* A sign-in link for staff_id, valid from now for minutes, that leads to
 * next_path (NULL: the start page) once used: its token into token, the
 * row and its audit row (audit, with outcome) in one transaction. 0,
 * CC_EIO (no random bytes), CC_EDB. */
int cc_signin_create(cc_store_t *s, const char *staff_id, time_t now, int minutes, const char *next_path,
                     const cc_web_audit_t *audit, char token[CC_SESSION_TOKEN_LEN + 1]);

/* What using a sign-in link found. */
typedef enum {
    CC_SIGNIN_OK,       /* a new session; the link is used up */
    CC_SIGNIN_UNKNOWN,  /* no such link (or malformed) */
    CC_SIGNIN_USED,     /* used before */
    CC_SIGNIN_EXPIRED   /* too late */
} cc_signin_result_t;

/* Use the link with token at now: in one transaction, mark it used, start a
 * session for its member of staff (idle and absolute expiry from now), and
 * audit it (client, outcome). *result says what happened; on CC_SIGNIN_OK
 * the session's token, the member of staff and the path to go to ("" for
 * the start page) are filled. 0 (whatever the result), CC_EIO, CC_EDB. */
int cc_signin_redeem(cc_store_t *s, const char *token, time_t now, int session_hours, const char *client,
                     cc_signin_result_t *result, char session[CC_SESSION_TOKEN_LEN + 1],
                     char staff_id[CC_ID_MAX + 1], char *next_path, size_t next_len);

/* A signed-in browser. */
typedef struct {
    int64_t id;
    char staff_id[CC_ID_MAX + 1];
    time_t created, last_seen, expires;
} cc_session_t;

/* The live session whose cookie is token at now, into *out: 1 found, 0
 * not (unknown, signed out, past its absolute expiry, or idle for
 * idle_minutes or more: such a session is ended, and audited, here),
 * CC_EDB. Marks it seen at now when it was last marked a minute or more
 * ago (a write only then). */
int cc_session_get(cc_store_t *s, const char *token, time_t now, int idle_minutes, const char *client,
                   cc_session_t *out);

/* Sign out: end the session whose cookie is token (why: "signed out"),
 * audited. 0 (also when there was none), CC_EDB. */
int cc_session_end(cc_store_t *s, const char *token, time_t now, const char *client);

/* Delete sign-in links and ended or expired sessions older than before
 * (their audit rows stay). 0 or CC_EDB; *deleted may be NULL. */
int cc_sessions_prune(cc_store_t *s, time_t before, size_t *deleted);

#endif
