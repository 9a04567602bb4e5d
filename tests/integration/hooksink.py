#!/usr/bin/python3
"""A webhook receiver on loopback for careclock's tests and benchmarks: Python's
http.server, verifying Standard Webhooks signatures with its own HMAC (not
careclock's code).

    hooksink.py --dir DIR [--port N] [--secret whsec_...] [--script 500,200,...]
                [--retry-after VALUE] [--delay SECONDS] [--no-save]

Prints "PORT <n>" on stdout once it listens. Answers each POST with the next
status of --script (then 200 for ever), with Retry-After when given, after
--delay seconds. Appends one JSON line per request to DIR/requests.jsonl:
the path, the Standard Webhooks headers, Idempotency-Key, the body, whether
the signature verified (None without --secret), whether the timestamp was
within five minutes of this machine's clock, the status answered and the
client's port (one per connection)."""
import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret, msg_id, timestamp, body, signature_header):
    """Standard Webhooks: base64(HMAC-SHA256(key, id.timestamp.body)), key = base64 after whsec_."""
    key = base64.b64decode(secret[len("whsec_"):])
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for part in (signature_header or "").split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--secret")
    ap.add_argument("--script", default="")
    ap.add_argument("--retry-after")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    script = [int(s) for s in args.script.split(",") if s.strip()]
    lock = threading.Lock()
    log_path = os.path.join(args.dir, "requests.jsonl")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go in two writes: without TCP_NODELAY, Nagle and
        # the client's delayed ACK cost 40 ms per request on a kept-alive
        # connection.
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if args.delay:
                time.sleep(args.delay)
            with lock:
                status = script.pop(0) if script else 200
            msg_id = self.headers.get("webhook-id")
            stamp = self.headers.get("webhook-timestamp")
            sig = self.headers.get("webhook-signature")
            valid = None
            if args.secret:
                valid = bool(msg_id and stamp and verify(args.secret, msg_id, stamp, body, sig))
            fresh = bool(stamp and stamp.isdigit() and abs(int(stamp) - time.time()) < 300)
            if not args.no_save:
                record = {"path": self.path, "webhook_id": msg_id, "webhook_timestamp": stamp,
                          "webhook_signature": sig, "idempotency_key": self.headers.get("Idempotency-Key"),
                          "content_type": self.headers.get("Content-Type"), "body": body.decode("utf-8"),
                          "signature_valid": valid, "timestamp_fresh": fresh, "status": status,
                          "peer_port": self.client_address[1]}
                with lock, open(log_path, "a") as f:
                    f.write(json.dumps(record) + "\n")
            self.send_response(status)
            if args.retry_after and status in (429, 503):
                self.send_header("Retry-After", args.retry_after)
            reply = b'{"ok":true}' if 200 <= status < 300 else b'{"ok":false}'
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
