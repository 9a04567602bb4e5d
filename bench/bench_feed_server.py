#!/usr/bin/python3
"""careclockd's feed server against nginx serving the same bytes.

Builds a plan database whose team feed has about 2,000 events, starts
careclockd on loopback, fetches the feed once (its body and ETag), writes the
same bytes as a static file for nginx (one worker, its own ETag), then loads
each server with wrk for 200 answers and for 304 answers (If-None-Match with
that server's ETag), in the same run. Prints requests per second for each and
the ratio careclockd / nginx.

usage: bench_feed_server.py --build DIR [--seconds S] [--connections C]
"""
import argparse
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wrk(url, seconds, connections, header=None):
    cmd = ["timeout", str(seconds + 30), "wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--latency"]
    if header:
        cmd += ["-H", header]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, int(non2xx.group(1)) if non2xx else 0


def head(url, header=None):
    cmd = ["curl", "-s", "--max-time", "10", "-o", "/dev/null", "-D", "-", url]
    if header:
        cmd[1:1] = ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    status = int(out.split()[1])
    etag = re.search(r"(?im)^etag:\s*(\S+)", out)
    return status, etag.group(1) if etag else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--children", type=int, default=334)
    a = ap.parse_args()
    for tool in ("wrk", "nginx", "curl"):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            print("bench_feed_server: %s is not installed (make deps installs it)" % tool, file=sys.stderr)
            return 2
    cli = os.path.join(a.build, "careclock")
    tmp = tempfile.TemporaryDirectory()
    db = os.path.join(tmp.name, "feed.db")
    subprocess.run([cli, "--db", db, "init"], check=True, capture_output=True)
    con = sqlite3.connect(db)
    with con:
        con.execute("INSERT INTO staff (id, name, email, role) VALUES ('TM1', 'Manager', 'tm@x.example', 'team_manager')")
        con.execute("INSERT INTO staff (id, name, email, role) VALUES ('W1', 'Worker', 'w@x.example', 'worker')")
        con.execute("INSERT INTO teams (id, name, manager_id) VALUES ('T1', 'Team', 'TM1')")
        con.executemany("INSERT INTO children (id, initials, dob, team_id, worker_id) VALUES (?, 'A.B.', '2014-05-05', "
                        "'T1', 'W1')", [("C%05d" % i,) for i in range(a.children)])
        rows = []
        for i in range(a.children):
            d = "2026-%02d-%02d" % (1 + i % 10, 1 + i % 28)
            rows += [("C%05d" % i, "looked_after_start", d), ("C%05d" % i, "placement_start", d)]
        con.executemany("INSERT INTO events (child_id, type, date) VALUES (?, ?, ?)", rows)
    con.close()
    out = subprocess.run([cli, "--db", db, "feed", "add", "--team", "T1"], capture_output=True, text=True,
                         check=True).stdout
    path = re.search(r"(/feeds/[0-9a-f]{64}\.ics)", out).group(1)

    cport, nport = free_port(), free_port()
    log = open(os.path.join(tmp.name, "careclockd.log"), "w")
    daemon = subprocess.Popen([os.path.join(a.build, "careclockd"), "--db", db, "--listen", "127.0.0.1:%d" % cport,
                               "--admin-listen", "off", "--now", "2026-11-20T10:00:00"], stderr=log)
    curl_url = "http://127.0.0.1:%d%s" % (cport, path)
    for _ in range(200):
        try:
            status, _ = head(curl_url)
            if status == 200:
                break
        except (IndexError, ValueError):
            pass
        time.sleep(0.05)
    body = subprocess.run(["curl", "-s", "--max-time", "30", curl_url], capture_output=True, check=True).stdout
    _, cetag = head(curl_url)
    events = body.count(b"BEGIN:VEVENT")

    root = os.path.join(tmp.name, "www")
    os.makedirs(os.path.join(root, "feeds"))
    os.chmod(tmp.name, 0o755)  # nginx's worker runs as nobody
    with open(os.path.join(root, path.lstrip("/")), "wb") as f:
        f.write(body)
    conf = os.path.join(tmp.name, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""worker_processes 1;
daemon off;
pid %(t)s/nginx.pid;
error_log %(t)s/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(t)s/body; proxy_temp_path %(t)s/proxy; fastcgi_temp_path %(t)s/fcgi;
    uwsgi_temp_path %(t)s/uwsgi; scgi_temp_path %(t)s/scgi;
    types { text/calendar ics; }
    server {
        listen 127.0.0.1:%(p)d;
        root %(r)s;
        etag on;
        add_header Cache-Control private;
    }
}
""" % {"t": tmp.name, "p": nport, "r": root})
    nginx = subprocess.Popen(["nginx", "-c", conf, "-p", tmp.name], stderr=subprocess.DEVNULL)
    nginx_url = "http://127.0.0.1:%d%s" % (nport, path)
    for _ in range(200):
        try:
            if head(nginx_url)[0] == 200:
                break
        except (IndexError, ValueError):
            pass
        time.sleep(0.05)
    _, netag = head(nginx_url)
    assert head(curl_url, "If-None-Match: " + cetag)[0] == 304
    assert head(nginx_url, "If-None-Match: " + netag)[0] == 304

    print("feed: %d events, %d bytes; wrk -t1 -c%d -d%ds on loopback, 2 cores shared by server and client"
          % (events, len(body), a.connections, a.seconds))
    results = {}
    for name, url, etag in (("careclockd", curl_url, cetag), ("nginx", nginx_url, netag)):
        results[(name, 200)] = wrk(url, a.seconds, a.connections)
        results[(name, 304)] = wrk(url, a.seconds, a.connections, "If-None-Match: " + etag)
    nginx.terminate()
    nginx.wait()
    daemon.terminate()
    daemon.wait()
    log.close()
    for code in (200, 304):
        c, cbad = results[("careclockd", code)]
        n, nbad = results[("nginx", code)]
        print("%d answers: careclockd %9.0f req/s   nginx (1 worker) %9.0f req/s   ratio %.2f (target >= 0.5)%s"
              % (code, c, n, c / n, "" if not (cbad or nbad) else "  unexpected statuses: %d / %d" % (cbad, nbad)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
