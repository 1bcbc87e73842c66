#!/usr/bin/python3
"""A real browser (headless Chromium) against ringwire:

- /realtime: the page's own WebSocket to /ws/echo (multi-byte text, a text
  over 64 KiB, small and 20000-byte binary messages, compared byte for byte
  in the page) and its EventSource on /events; the verdicts are read from
  the DOM (over the DevTools protocol), with and without permessage-deflate;
- /chat#selftest: two WebSockets and the room's SSE stream across workers;
- /_status (--metrics): the live dashboard, driven over the DevTools
  protocol; its request counter and req/s must change while this test makes
  requests, and its chart must be drawn."""
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chromium  # noqa: E402
import rwtest  # noqa: E402
from rwtest import check, check_eq, test  # noqa: E402

LOAD_REQUESTS = 40      # requests made while the dashboard is watched
LOAD_GAP = 0.05         # seconds between them (spread over two snapshots)
DASH_TIMEOUT = 10.0     # seconds for an expected dashboard change


PAGE_TIMEOUT = 15.0      # real seconds for a page's own verdict


def page_verdicts(url, ids):
    """Loads url in Chromium (DevTools protocol) and waits, in real time, until
    every <pre id> in ids left "pending"; returns their texts. (--dump-dom
    with a virtual-time budget raced the page's network events under load.)"""
    with chromium.Browser() as b:
        b.navigate(url)
        b.wait_for(lambda: all(not (b.text(i) or "pending").endswith("pending") for i in ids),
                   f"the page's verdicts {ids}", PAGE_TIMEOUT)
        return [b.text(i) for i in ids] + [b.evaluate("document.title")]


def check_realtime(url, ext):
    ws, sse, title = page_verdicts(url, ["ws", "sse"])
    check_eq(ws, f"ws: ok text=2 binary=2 ext={ext}", "WebSocket verdict")
    m = re.fullmatch(r"sse: ok ids=(.*) data=(.*)", sse)
    check(m, f"SSE verdict: {sse!r}")
    ids = m.group(1).split(",")
    check(len(ids) >= 2, f"fewer than 2 SSE events: {sse!r}")
    check_eq(ids, [str(i) for i in range(1, len(ids) + 1)], "SSE ids")
    check_eq(m.group(2).split("|"), [f"tick {i}" for i in ids], "SSE data")
    check_eq(title, "done", "page title")


@test
def realtime_page_websocket_and_sse(ctx):
    check_realtime(ctx.url("/realtime"), "permessage-deflate")


@test
def realtime_page_without_deflate(ctx):
    with ctx.start_server(extra_args=["--ws-no-deflate"]) as s:
        check_realtime(s.url("/realtime"), "none")


@test
def chat_page_broadcasts(ctx):
    """/chat#selftest: two WebSockets and the room's SSE stream in one page,
    on a 2-thread server; the message must reach the other WebSocket and the
    SSE stream (the channel crosses workers)."""
    with ctx.start_server(threads=2) as s:
        verdict, _ = page_verdicts(s.url("/chat#selftest"), ["chat"])
        check(verdict.startswith("chat: ok "), f"chat verdict: {verdict!r}")


CANVAS_INK = """(() => { const c = document.getElementById('chart');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })()"""


@test
def status_dashboard_updates(ctx):
    with chromium.Browser() as b:
        b.navigate(ctx.url("/_status"))
        b.wait_for(lambda: int(b.text("updates") or 0) >= 1, "the first snapshot", DASH_TIMEOUT)
        check_eq(b.text("backend"), ctx.backend, "backend shown")
        first = int(b.text("req-total"))
        check(int(b.text("conns")) >= 1, "open connections include the page's stream")
        check_eq(b.text("state"), "open", "stream state")

        errors = []

        def load():
            try:
                for _ in range(LOAD_REQUESTS):
                    check_eq(ctx.get("/plaintext").status, 200, "load request")
                    time.sleep(LOAD_GAP)
            except Exception as e:  # reported by the main thread
                errors.append(e)
        t = threading.Thread(target=load, daemon=True)
        t.start()
        totals, rates = {first}, set()

        def seen_load():
            totals.add(int(b.text("req-total")))
            rates.add(float(b.text("req-rate")))
            return max(totals) >= first + LOAD_REQUESTS and max(rates) > 0
        b.wait_for(seen_load, f"request total >= {first} + {LOAD_REQUESTS} and req/s > 0",
                   DASH_TIMEOUT + LOAD_REQUESTS * LOAD_GAP)
        t.join(DASH_TIMEOUT)
        check(not t.is_alive(), "load thread did not finish")
        check(not errors, f"load failed: {errors[:1]}")
        check(len(totals) >= 2, f"request total never changed: {sorted(totals)}")
        history = b.text("history").split()
        check(len(history) >= 2, f"history {history}")
        check(int(b.evaluate(CANVAS_INK)) > 0, "nothing drawn on the chart")
        check(int(b.text("updates")) >= 2, "fewer than two snapshots")


if __name__ == "__main__":
    rwtest.main(server_args=["--metrics"])
