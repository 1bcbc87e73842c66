"""Headless Chromium for the browser tests (Debian package `chromium`).

dump_dom(url): runs `chromium --headless --dump-dom` with a virtual-time
budget (enough for pages whose async work finishes by itself) and returns
the serialized DOM.

Browser: a headless Chromium driven over the DevTools protocol (one page
target, python3-websockets), for pages that never finish loading (an open
EventSource): navigate(), evaluate(), wait_for(). Every step is bounded.
"""
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import rwtest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-extensions", "--mute-audio"]
DUMP_TIMEOUT = 30.0     # seconds for one --dump-dom run
START_TIMEOUT = 15.0    # seconds for the DevTools endpoint to appear
CALL_TIMEOUT = 10.0     # seconds for one DevTools call


def _need_chromium():
    if not os.access(CHROMIUM, os.X_OK):
        raise rwtest.TestFailure(f"{CHROMIUM} not found (run tools/install-deps.sh)")


def dump_dom(url, budget_ms=5000, timeout=DUMP_TIMEOUT):
    _need_chromium()
    profile = tempfile.mkdtemp(prefix="rw-chromium-")
    try:
        cp = rwtest.run_cmd([CHROMIUM] + FLAGS + [f"--user-data-dir={profile}",
                            f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
                            timeout=timeout, check_rc=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    rwtest.check(cp.returncode == 0 and "<html" in cp.stdout.lower(),
                 f"chromium --dump-dom exited {cp.returncode}: {cp.stderr[-800:]}")
    return cp.stdout


class Browser:
    def __init__(self):
        _need_chromium()
        import websockets  # noqa: F401  (python3-websockets; fail early)
        self.profile = tempfile.mkdtemp(prefix="rw-chromium-")
        self.proc = subprocess.Popen(
            [CHROMIUM] + FLAGS + [f"--user-data-dir={self.profile}",
                                  "--remote-debugging-address=127.0.0.1",
                                  "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.loop = asyncio.new_event_loop()
        self.ws = None
        self.next_id = 0
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    def _connect(self):
        import websockets
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + START_TIMEOUT
        page = None
        while page is None:
            rwtest.check(self.proc.poll() is None, f"chromium exited {self.proc.returncode}")
            rwtest.check(time.monotonic() < deadline, "chromium DevTools endpoint did not appear")
            time.sleep(0.1)
            with contextlib.suppress(OSError, ValueError):
                with open(port_file) as f:
                    port = int(f.readline())
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    targets = json.load(r)
                page = next((t for t in targets if t.get("type") == "page"), None)
        # websockets 10 binds to the running loop: create it inside the loop
        async def connect():
            return await asyncio.wait_for(
                websockets.connect(page["webSocketDebuggerUrl"], max_size=None), CALL_TIMEOUT)
        self.ws = self.loop.run_until_complete(connect())

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id

        async def go():
            await self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
            while True:  # skip events (none are enabled) and stale replies
                msg = json.loads(await self.ws.recv())
                if msg.get("id") == mid:
                    return msg
        async def bounded():
            return await asyncio.wait_for(go(), CALL_TIMEOUT)
        try:
            msg = self.loop.run_until_complete(bounded())
        except asyncio.TimeoutError:
            raise rwtest.TestFailure(f"DevTools {method} timed out")
        rwtest.check("error" not in msg, f"DevTools {method}: {msg.get('error')}")
        return msg["result"]

    def navigate(self, url):
        r = self.call("Page.navigate", url=url)
        rwtest.check("errorText" not in r, f"navigate {url}: {r.get('errorText')}")

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        rwtest.check("exceptionDetails" not in r, f"{expr}: {r.get('exceptionDetails')}")
        return r["result"].get("value")

    def text(self, element_id):
        """textContent of an element (None while it does not exist)."""
        return self.evaluate(f"(e => e ? e.textContent : null)"
                             f"(document.getElementById({json.dumps(element_id)}))")

    def wait_for(self, pred, what, timeout=10.0, step=0.1):
        """Polls pred() until it returns something truthy; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            if time.monotonic() > deadline:
                raise rwtest.TestFailure(f"timed out after {timeout}s waiting for {what}")
            time.sleep(step)

    def close(self):
        if self.ws is not None:
            with contextlib.suppress(Exception):
                async def close():
                    await asyncio.wait_for(self.ws.close(), 2)
                self.loop.run_until_complete(close())
        self.loop.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
