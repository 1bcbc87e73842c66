#!/usr/bin/python3
"""WebSocket interop with Node's `ws` client (tests/integration/node, pinned
in package-lock.json): echo of 0 B..1 MiB text and binary, fragmentation,
ping/pong and the close handshake, with and without permessage-deflate. The
npm dependency is installed on first use (npm ci, time-bounded)."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, test  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
CLIENT = os.path.join(HERE, "ws_node_client.js")
NPM_TIMEOUT = 180
CLIENT_TIMEOUT = 40


def ensure_ws():
    if not shutil.which("node") or not shutil.which("npm"):
        raise rwtest.TestFailure("node/npm missing (tools/install-deps.sh installs nodejs npm)")
    if os.path.isdir(os.path.join(NODE_DIR, "node_modules", "ws")):
        return
    cp = rwtest.run_cmd(["npm", "ci", "--no-audit", "--no-fund", "--prefix", NODE_DIR],
                        timeout=NPM_TIMEOUT, check_rc=False)
    check(cp.returncode == 0, f"npm ci failed: {cp.stderr[-1000:]}")


def run_client(ctx, mode):
    ensure_ws()
    cp = rwtest.run_cmd(["node", CLIENT, f"ws://{rwtest.HOST}:{ctx.port}/ws/echo", mode],
                        timeout=CLIENT_TIMEOUT, check_rc=False)
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("{")]
    check(lines, f"no result from the node client: rc {cp.returncode} {cp.stderr[-800:]}")
    r = json.loads(lines[-1])
    check(r["ok"] and cp.returncode == 0, f"node client: {r}")
    check(r["checks"] == 16, f"node client ran {r['checks']} checks, want 16")
    return r


@test
def node_ws_plain(ctx):
    r = run_client(ctx, "plain")
    check(r["extensions"] == "", f"unexpected extensions {r['extensions']!r}")


@test
def node_ws_deflate(ctx):
    r = run_client(ctx, "deflate")
    check("permessage-deflate" in r["extensions"], f"extensions {r['extensions']!r}")


if __name__ == "__main__":
    rwtest.main()
