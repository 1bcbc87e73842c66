#!/usr/bin/python3
"""Bounded wrk load: no socket errors, no non-2xx, a sane request count,
plain and pipelined (depth 16)."""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, test  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PIPELINE_LUA = os.path.join(HERE, "pipeline.lua")
DURATION = "2s"
MIN_REQUESTS = 1000


def wrk(ctx, *extra, path="/plaintext", script_args=()):
    if shutil.which("wrk") is None:
        raise rwtest.TestFailure("wrk is not installed (a declared dependency: tools/install-deps.sh)")
    argv = ["wrk", "-t1", "-c32", f"-d{DURATION}", "--timeout", "5s", "--latency", *extra, ctx.url(path)]
    if script_args:
        argv += ["--", *script_args]
    out = rwtest.run_cmd(argv, timeout=30).stdout
    m = re.search(r"(\d+) requests in ", out)
    check(m, f"cannot parse wrk output:\n{out}")
    total = int(m.group(1))
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    check(errs is None, f"wrk socket errors: {errs.group(0) if errs else ''}\n{out}")
    check(non2xx is None, f"wrk saw non-2xx responses: {non2xx.group(1) if non2xx else ''}\n{out}")
    check(total > MIN_REQUESTS, f"only {total} requests in {DURATION}\n{out}")
    return total, out


@test
def wrk_plaintext(ctx):
    wrk(ctx)


@test
def wrk_json(ctx):
    wrk(ctx, path="/json")


@test
def wrk_pipelined(ctx):
    check(os.path.exists(PIPELINE_LUA), f"{PIPELINE_LUA} missing")
    total, _ = wrk(ctx, "-s", PIPELINE_LUA, script_args=["16"])


if __name__ == "__main__":
    rwtest.main()
