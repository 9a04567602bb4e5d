#!/usr/bin/python3
"""A real SMTP server on loopback for careclock's tests and benchmarks: aiosmtpd
(Debian package python3-aiosmtpd) on an ephemeral or given port, writing every
message it accepts to a directory.

    mailsink.py --dir DIR [--port N] [--delay SECONDS] [--user U --password P]
                [--reject-rcpt ADDRESS] [--reply-data REPLY] [--no-save] [--require-fqdn-helo] [--hang-after-auth]

Prints "PORT <n>" on stdout once it listens, then serves until killed. Each
accepted message is DIR/NNNNNN.eml (the bytes as received) with
DIR/NNNNNN.json beside it: envelope sender and recipients, the client's
address and port (one port per connection, so tests can see connection reuse)
and whether the client authenticated. --delay sleeps after storing a message
and before answering 250, so a test can kill the client while a message is in
flight. --reject-rcpt answers 550 to that recipient; --reply-data answers the message's end with REPLY
("500 5.0.0 ...") instead of storing it. With --user, AUTH is required (PLAIN and
LOGIN, offered without TLS: loopback only). The EHLO or HELO name the client
gave is in the JSON ("helo"); --require-fqdn-helo answers 504 at RCPT to a
client whose name has no dot, as Postfix's reject_non_fqdn_helo_hostname does.
--hang-after-auth never answers MAIL FROM (a relay stuck after authentication)."""
import argparse
import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, directory, delay, reject, save, reply_data=None, fqdn=False, hang=False):
        self.reply_data = reply_data
        self.fqdn = fqdn
        self.hang = hang
        self.directory = directory
        self.delay = delay
        self.reject = reject
        self.save = save
        self.count = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.hang:
            await asyncio.sleep(3600)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.fqdn and "." not in (session.host_name or ""):
            return "504 5.5.2 <%s>: Helo command rejected: need fully-qualified hostname" % session.host_name
        if self.reject and address.lower() == self.reject.lower():
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.reply_data:
            return self.reply_data
        self.count += 1
        if self.save:
            name = os.path.join(self.directory, "%06d" % self.count)
            with open(name + ".eml.tmp", "wb") as f:
                f.write(envelope.original_content or envelope.content)
            meta = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "peer": list(session.peer) if session.peer else None,
                "authenticated": bool(session.authenticated),
                "helo": session.host_name,
            }
            with open(name + ".json", "w") as f:
                json.dump(meta, f)
            os.rename(name + ".eml.tmp", name + ".eml")
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK: queued"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--reject-rcpt")
    ap.add_argument("--reply-data")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--require-fqdn-helo", action="store_true")
    ap.add_argument("--hang-after-auth", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(args.dir, args.delay, args.reject_rcpt, not args.no_save, args.reply_data, args.require_fqdn_helo,
                args.hang_after_auth)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        return AuthResult(success=ok, handled=False)

    def factory():
        if args.user:
            return SMTP(sink, hostname="mailsink.test", authenticator=authenticator, auth_required=True,
                        auth_require_tls=False)
        return SMTP(sink, hostname="mailsink.test")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", args.port, reuse_address=True))
    port = server.sockets[0].getsockname()[1]
    print("PORT %d" % port, flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
