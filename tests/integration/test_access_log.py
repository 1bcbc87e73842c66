#!/usr/bin/python3
"""--access-log: one line per response, buffered per worker and flushed on
the timer tick and at shutdown; Common Log Format by default, JSON lines with
--access-log-format json (HTTP/1.1 and HTTP/2 requests alike)."""
import json
import os
import re
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, check_eq, test  # noqa: E402

CLF = re.compile(r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                 r'"(\S+) (\S+) HTTP/(\d\.\d)" (\d{3}) (\d+)$')
FLUSH_WAIT = 3.0  # seconds: the tick flushes every 250 ms


def read_lines(path, want, timeout=FLUSH_WAIT):
    """Lines of the log once it has at least `want` of them (or the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        if len(lines) >= want or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


@test
def common_log_format(ctx):
    d = tempfile.mkdtemp(prefix="rw-alog-")
    path = os.path.join(d, "access.log")
    with ctx.start_server(["--access-log", path]) as s:
        check_eq(ctx.get("/plaintext", port=s.port).status, 200, "GET /plaintext")
        check_eq(ctx.get("/missing?q=1", port=s.port).status, 404, "GET /missing")
        check_eq(ctx.get("/plaintext", method="HEAD", port=s.port).status, 200, "HEAD")
        # flushed by the timer while the server runs, not only at exit
        lines = read_lines(path, 3)
    check_eq(len(lines), 3, f"lines in the log: {lines}")
    got = [CLF.match(ln) for ln in lines]
    check(all(got), f"not Common Log Format: {lines}")
    rows = sorted((m.group(1), m.group(2), m.group(4), m.group(5)) for m in got)
    check_eq(rows, sorted([("GET", "/plaintext", "200", "13"), ("GET", "/missing?q=1", "404",
                                                                 "10"),
                           ("HEAD", "/plaintext", "200", "0")]), "logged requests")


def wait_stderr(srv, text, timeout=FLUSH_WAIT):
    deadline = time.monotonic() + timeout
    while text not in srv.stderr_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    return text in srv.stderr_text()


@test
def sighup_reopens_for_logrotate(ctx):
    """logrotate: rename the file, SIGHUP, and the next lines go to a new file
    at the configured path; the process lives on and logs the reopen."""
    d = tempfile.mkdtemp(prefix="rw-alog-")
    path = os.path.join(d, "access.log")
    rotated = path + ".1"
    with ctx.start_server(["--access-log", path]) as s:
        check_eq(ctx.get("/plaintext?before", port=s.port).status, 200, "request before")
        check_eq(len(read_lines(path, 1)), 1, "first line written before the rotation")
        os.rename(path, rotated)
        s.signal(signal.SIGHUP)
        check(wait_stderr(s, f"access log {path} reopened"),
              f"no reopen line in the log: {s.stderr_tail()}")
        check(s.alive(), f"server ended on SIGHUP: exit {s.proc.poll()} {s.stderr_tail()}")
        check(os.path.exists(path), "no new file at the configured path")
        check_eq(ctx.get("/plaintext?after", port=s.port).status, 200, "request after")
        new = read_lines(path, 1)
        # a second SIGHUP without a rotation keeps appending to the same file
        s.signal(signal.SIGHUP)
        check_eq(ctx.get("/plaintext?again", port=s.port).status, 200, "request after 2nd HUP")
        again = read_lines(path, 2)
        check(s.alive(), f"server ended on the second SIGHUP: {s.stderr_tail()}")
    old = read_lines(rotated, 1)
    check(len(old) == 1 and "/plaintext?before" in old[0], f"rotated file: {old}")
    check(len(new) == 1 and "/plaintext?after" in new[0], f"new file: {new}")
    check(len(again) == 2 and "/plaintext?again" in again[1], f"new file after 2nd HUP: {again}")


@test
def json_lines_http1_and_h2(ctx):
    d = tempfile.mkdtemp(prefix="rw-alog-")
    path = os.path.join(d, "access.log")
    with ctx.start_server(["--access-log", path, "--access-log-format", "json"]) as s:
        check_eq(ctx.get("/json", port=s.port).status, 200, "GET /json")
        cp = rwtest.run_cmd(["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null",
                             "-w", "%{http_code}", f"http://{rwtest.HOST}:{s.port}/plaintext"],
                            timeout=10)
        check_eq(cp.stdout.strip(), "200", "curl h2")
        # A quote in the target must not break the JSON.
        with ctx.conn(port=s.port) as c:
            c.send(b'GET /x"y HTTP/1.1\r\nHost: h\r\n\r\n')
            check_eq(c.read_response().status, 404, "GET /x\"y")
    # stopped: everything left is flushed at exit
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    check_eq(len(lines), 3, f"lines in the log: {lines}")
    objs = [json.loads(ln) for ln in lines]
    by_target = {o["target"]: o for o in objs}
    check_eq(set(by_target), {"/json", "/plaintext", '/x"y'}, "targets")
    check_eq((by_target["/json"]["protocol"], by_target["/json"]["status"]),
             ("HTTP/1.1", 200), "/json entry")
    check_eq((by_target["/plaintext"]["protocol"], by_target["/plaintext"]["bytes"]),
             ("HTTP/2.0", 13), "h2 entry")
    check_eq(by_target['/x"y']["status"], 404, "escaped entry status")
    for o in objs:
        check_eq(o["remote"], "127.0.0.1", "remote address")
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", o["time"]), f"time {o['time']}")


if __name__ == "__main__":
    rwtest.main()
