#!/usr/bin/python3
"""Server-Sent Events (/events): curl -N reads id:/data: events, the stream
resumes after Last-Event-ID, idle streams get ": ping" comments, the CORS
header follows --sse-cors, and a client that goes away ends the stream."""
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, check_eq, test  # noqa: E402

PING_SECS = 1
CORS = "https://app.example"


def parse_events(text):
    """List of dicts (event, id, data) and the count of comment lines."""
    events, comments, cur = [], 0, {}
    for line in text.split("\n"):
        if line == "":
            if cur:
                events.append(cur)
            cur = {}
        elif line.startswith(":"):
            comments += 1
        else:
            k, _, v = line.partition(":")
            cur[k] = v[1:] if v.startswith(" ") else v
    return events, comments


def curl_events(ctx, query, max_time, headers=(), extra=()):
    args = ["-N", "-i", "--max-time", str(max_time)] + list(extra)
    for h in headers:
        args += ["-H", h]
    cp = rwtest.run_cmd(["curl", "-sS"] + args + [ctx.url("/events" + query)],
                        timeout=max_time + 10, check_rc=False)
    # rc 0: the stream ended (count=); 28: --max-time cut it (unbounded stream)
    check(cp.returncode in (0, 28), f"curl rc {cp.returncode}: {cp.stderr}")
    head, _, body = cp.stdout.replace("\r\n", "\n").partition("\n\n")
    return head, body


@test
def events_have_ids_and_data(ctx):
    head, body = curl_events(ctx, "?every=50&count=5", 10)
    check(head.startswith("HTTP/1.1 200"), f"status: {head[:40]}")
    check(re.search(r"(?im)^content-type: text/event-stream", head), f"content type: {head}")
    check(re.search(r"(?im)^cache-control: no-cache", head), "Cache-Control")
    check(re.search(r"(?im)^transfer-encoding: chunked", head), "chunked")
    events, _ = parse_events(body)
    check_eq([e.get("id") for e in events], ["1", "2", "3", "4", "5"], "ids")
    check_eq([e.get("data") for e in events], [f"tick {i}" for i in range(1, 6)], "data")
    check(all(e.get("event") == "tick" for e in events), "event type")


@test
def events_over_http2(ctx):
    """The same stream over HTTP/2 (prior knowledge): DATA frames on one
    stream, no chunked framing, same events."""
    head, body = curl_events(ctx, "?every=50&count=4", 10, extra=["--http2-prior-knowledge"])
    check(head.startswith("HTTP/2 200"), f"status: {head[:40]}")
    check(re.search(r"(?im)^content-type: text/event-stream", head), f"content type: {head}")
    check(not re.search(r"(?im)^transfer-encoding:", head), "no Transfer-Encoding on h2")
    events, _ = parse_events(body)
    check_eq([e.get("id") for e in events], ["1", "2", "3", "4"], "ids")
    check_eq([e.get("data") for e in events], [f"tick {i}" for i in range(1, 5)], "data")


@test
def resumes_after_last_event_id(ctx):
    _, body = curl_events(ctx, "?every=50&count=3", 10, ["Last-Event-ID: 41"])
    events, _ = parse_events(body)
    check_eq([e.get("id") for e in events], ["42", "43", "44"], "ids after resumption")
    _, body = curl_events(ctx, "?every=50&count=1", 10, ["Last-Event-ID: bogus"])
    events, _ = parse_events(body)
    check_eq([e.get("id") for e in events], ["1"], "a malformed id starts over")


@test
def unbounded_stream_ticks_until_the_client_leaves(ctx):
    _, body = curl_events(ctx, "?every=100", 2)
    events, _ = parse_events(body)
    ids = [int(e["id"]) for e in events]
    check(len(ids) >= 2, f"only {len(ids)} events in 2 s")
    check_eq(ids, list(range(1, len(ids) + 1)), "consecutive ids")


@test
def idle_stream_gets_ping_comments(ctx):
    _, body = curl_events(ctx, "?every=60000", PING_SECS * 3 + 1)
    events, comments = parse_events(body)
    check_eq(events, [], "no events within the interval")
    check(comments >= 2, f"{comments} ping comments in {PING_SECS * 3 + 1} s")
    check(": ping" in body, f"ping comment text: {body!r}")


@test
def cors_header(ctx):
    head, _ = curl_events(ctx, "?every=50&count=1", 10)
    check(re.search(r"(?im)^access-control-allow-origin: " + re.escape(CORS) + "$", head),
          f"CORS header missing: {head}")


@test
def client_disconnect_ends_stream(ctx):
    # Many streams opened and dropped: the server keeps serving, nothing leaks
    # into other connections.
    for _ in range(20):
        s = socket.create_connection((rwtest.HOST, ctx.port), timeout=5)
        s.sendall(rwtest.request("GET", "/events?every=10"))
        s.recv(4096)
        s.close()
    time.sleep(0.5)
    _, body = curl_events(ctx, "?every=50&count=2", 10)
    check_eq(len(parse_events(body)[0]), 2, "events on a fresh stream")


@test
def keep_alive_after_a_finished_stream(ctx):
    with ctx.conn() as c:
        c.send(rwtest.request("GET", "/events?every=20&count=2"))
        r = c.read_response()
        check_eq(r.status, 200, "status")
        events, _ = parse_events(r.body.decode())
        check_eq(len(events), 2, "events in the chunked body")
        c.send(rwtest.request("GET", "/plaintext"))
        check_eq(c.read_response().status, 200, "next request on the same connection")


@test
def shutdown_ends_open_streams(ctx):
    import subprocess
    with ctx.start_server(["--sse-ping", "0"], stop=False) as srv:
        p = subprocess.Popen(["curl", "-sS", "-N", "--max-time", "20",
                              srv.url("/events?every=100")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(0.8)
            t0 = time.monotonic()
            srv.stop(timeout=8)  # checks exit code 0
            out, _ = p.communicate(timeout=10)
            check(time.monotonic() - t0 < 5, "shutdown waited for the open stream")
            check_eq(p.returncode, 0, "curl saw a cleanly ended stream")
            check(b"id: 1" in out, f"events before shutdown: {out[:200]!r}")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    rwtest.main(server_args=["--sse-ping", str(PING_SECS), "--sse-cors", CORS])
