#!/usr/bin/python3
"""tools/profile smoke run: a short keep-alive profile of the binary under
test produces a report and a flame graph whose stacks reach our request
handling (rw_h1_process under rw_conn_feed under the backend's loop) and
unwind to the thread entry."""
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, test  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROFILE = os.path.join(REPO, "tools", "profile")
SECONDS = 2
TIMEOUT = 240          # the first run may install the npm template
MIN_REACH_PCT = 90.0   # worker samples whose stack reaches worker_main
MAX_LOST_PCT = 5.0     # worker samples with an unresolvable frame below ours
LOOP = {"uring": "rw_uring_worker_run", "epoll": "rw_epoll_worker_run"}


def find_path(node, names, depth=0):
    """True when the tree has names[0] with names[1] somewhere below it, etc."""
    if not names:
        return True
    if node.get("n") == names[0]:
        if find_path_children(node, names[1:]):
            return True
    return find_path_children(node, names)


def find_path_children(node, names):
    if not names:
        return True
    return any(find_path(c, names) for c in node.get("c", []))


@test
def profile_smoke(ctx):
    check(os.access(PROFILE, os.X_OK), f"{PROFILE} is not executable")
    out = tempfile.mkdtemp(prefix="rw-profile-test-")
    try:
        cp = rwtest.run_cmd([PROFILE, "--binary", ctx.binary, "--backend", ctx.backend,
                             "--load", "keepalive", "--seconds", str(SECONDS), "--out", out],
                            timeout=TIMEOUT, check_rc=False)
        check(cp.returncode == 0, f"tools/profile exited {cp.returncode}: {cp.stderr[-1500:]}")
        fg = os.path.join(out, "flamegraph.html")
        check(os.path.getsize(fg) > 0, "empty flame graph")
        text = open(fg, encoding="utf-8").read()
        check("rw_h1_process" in text, "rw_h1_process not in the flame graph")
        # The stacks are the JSON perf's flamegraph script put into the template.
        m = re.search(r"^\s*const stacks = \[(.*)\];\s*$", text, re.M)
        check(m, "no `const stacks = [...]` in flamegraph.html")
        tree = json.loads(m.group(1))
        # rw_conn_feed may hand over by a tail call (no frame of its own), so
        # the chain checked is loop > HTTP/1 engine > router.
        path = [LOOP[ctx.backend], "rw_h1_process", "rw_router_dispatch"]
        check(find_path(tree, ["worker_main"] + path),
              f"no stack worker_main > {' > '.join(path)} in the flame graph")
        report = open(os.path.join(out, "report.txt")).read()
        check("rw_h1_process" in report, "rw_h1_process not in report.txt")
        summary = open(os.path.join(out, "summary.txt")).read()
        m = re.search(r"worker samples: (\d+); stack reaches worker_main: ([0-9.]+)%; "
                      r"unwinding lost below our frames: ([0-9.]+)%", summary)
        check(m, f"no unwinding line in summary.txt:\n{summary}")
        check(int(m.group(1)) > 100, f"only {m.group(1)} worker samples")
        check(float(m.group(2)) >= MIN_REACH_PCT, f"stacks reach the thread entry in only {m.group(2)}%")
        check(float(m.group(3)) <= MAX_LOST_PCT, f"unwinding lost in {m.group(3)}% of samples")
        check(re.search(r"Requests/sec:\s+[0-9.]+", summary), "no wrk result in summary.txt")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    rwtest.main()
