#!/usr/bin/python3
"""--metrics (Prometheus text 0.0.4), /_status, --metrics-path,
--stats-interval and the SIGUSR1 dump.

The exposition is validated twice: by prometheus_client's parser (Debian
python3-prometheus-client) and by a strict line checker here (the parser
accepts some things the format forbids, e.g. samples without TYPE). The
counter test makes an exact number of requests between two scrapes and
checks the exact deltas."""
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, check_eq, test  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # reported as a failure by the tests that need it
    text_string_to_metric_families = None

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
N_OK = 100        # GET /plaintext between the scrapes
N_404 = 7         # GET /missing-<i> between the scrapes
THREADS = 2       # rwtest's default for the shared server
WAIT_LOG = 5.0    # seconds to wait for an expected log line

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$")

# Families /metrics must always expose (name -> type, label names).
REQUIRED = {
    "ringwire_build_info": ("gauge", {"version", "backend"}),
    "ringwire_connections_open": ("gauge", set()),
    "ringwire_connections_accepted_total": ("counter", set()),
    "ringwire_connections_refused_total": ("counter", set()),
    "ringwire_connections_timed_out_total": ("counter", set()),
    "ringwire_requests_total": ("counter", {"proto"}),
    "ringwire_responses_total": ("counter", {"class"}),
    "ringwire_bytes_received_total": ("counter", set()),
    "ringwire_bytes_sent_total": ("counter", set()),
    "ringwire_parse_errors_total": ("counter", set()),
    "ringwire_uring_enobufs_total": ("counter", set()),
    "ringwire_loop_iterations_total": ("counter", {"thread"}),
    "ringwire_completions_total": ("counter", {"thread"}),
    "ringwire_submits_total": ("counter", {"thread"}),
    "ringwire_h2_streams_total": ("counter", set()),
    "ringwire_h2_resets_sent_total": ("counter", set()),
    "ringwire_h2_resets_received_total": ("counter", set()),
}


def strict_parse(text):
    """Checks the 0.0.4 text format line by line; returns
    {(name, frozenset(labels.items())): value} and {name: type}."""
    check(text.endswith("\n"), "exposition does not end with a newline")
    helps, types, samples = {}, {}, {}
    current = None  # family whose samples may follow
    for ln, line in enumerate(text.split("\n")[:-1], 1):
        check(line != "", f"line {ln}: empty line")
        if line.startswith("# HELP "):
            name, _, txt = line[7:].partition(" ")
            check(NAME_RE.fullmatch(name), f"line {ln}: bad HELP name {name!r}")
            check(name not in helps, f"line {ln}: second HELP for {name}")
            check(txt.strip() != "", f"line {ln}: empty HELP text for {name}")
            check(re.fullmatch(r"(?:[^\\]|\\[\\n])*", txt), f"line {ln}: bad escape in HELP")
            helps[name] = txt
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            check(name in helps, f"line {ln}: TYPE for {name} without a HELP before it")
            check(name not in types, f"line {ln}: second TYPE for {name}")
            check(typ in ("counter", "gauge", "histogram", "summary", "untyped"),
                  f"line {ln}: bad type {typ!r}")
            types[name] = typ
            current = name
            continue
        check(not line.startswith("#"), f"line {ln}: unexpected comment {line!r}")
        m = SAMPLE_RE.match(line)
        check(m, f"line {ln}: not a sample line: {line!r}")
        name, labels_txt, value = m.group(1), m.group(3), m.group(4)
        check(name == current, f"line {ln}: sample {name} outside its family ({current})")
        labels = {}
        if labels_txt is not None:
            pos = 0
            while pos < len(labels_txt):
                lm = LABEL_RE.match(labels_txt, pos)
                check(lm, f"line {ln}: bad label syntax in {labels_txt!r}")
                check(lm.group(1) not in labels, f"line {ln}: duplicate label")
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
                if pos < len(labels_txt):
                    check(labels_txt[pos] == ",", f"line {ln}: expected ',' in labels")
                    pos += 1
        check(re.fullmatch(r"[0-9]+", value), f"line {ln}: value {value!r} is not an integer")
        if types[name] == "counter":
            check(name.endswith("_total"), f"line {ln}: counter {name} lacks _total")
        key = (name, frozenset(labels.items()))
        check(key not in samples, f"line {ln}: duplicate sample {line!r}")
        samples[key] = int(value)
    check(set(helps) == set(types), f"HELP without TYPE: {set(helps) - set(types)}")
    return samples, types


def library_parse(text):
    """prometheus_client's parser: every sample line must parse."""
    check(text_string_to_metric_families is not None,
          "python3-prometheus-client is not installed (tools/install-deps.sh)")
    n = 0
    try:
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                check(s.value == int(s.value), f"non-integer value {s}")
                n += 1
    except ValueError as e:
        raise rwtest.TestFailure(f"prometheus_client cannot parse the exposition: {e}")
    sample_lines = [ln for ln in text.split("\n") if ln and not ln.startswith("#")]
    check_eq(n, len(sample_lines), "samples parsed by prometheus_client")


def scrape(ctx, path="/metrics", port=None):
    r = ctx.get(path, port=port)
    check_eq(r.status, 200, f"GET {path} status")
    check_eq(r.header("Content-Type"), CONTENT_TYPE, "Content-Type")
    text = r.body.decode("utf-8")
    library_parse(text)
    samples, types = strict_parse(text)
    return samples, types, r


def val(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    check(key in samples, f"no sample {name}{labels or ''}")
    return samples[key]


def per_thread_sum(samples, name):
    return sum(v for (n, _), v in samples.items() if n == name)


@test
def exposition_format_and_families(ctx):
    samples, types, _ = scrape(ctx)
    for name, (typ, label_names) in REQUIRED.items():
        check(name in types, f"family {name} missing")
        check_eq(types[name], typ, f"type of {name}")
        keys = [dict(lbl) for (n, lbl) in samples if n == name]
        check(keys, f"no samples for {name}")
        for k in keys:
            check_eq(set(k), label_names, f"label names of {name}")
    check_eq(val(samples, "ringwire_build_info", version=rwtest_version(ctx), backend=ctx.backend),
             1, "build_info")
    threads = sorted(int(dict(l)["thread"]) for (n, l) in samples
                     if n == "ringwire_loop_iterations_total")
    check_eq(threads, list(range(THREADS)), "thread labels")
    classes = sorted(dict(l)["class"] for (n, l) in samples if n == "ringwire_responses_total")
    check_eq(classes, ["1xx", "2xx", "3xx", "4xx", "5xx"], "status classes")
    protos = sorted(dict(l)["proto"] for (n, l) in samples if n == "ringwire_requests_total")
    check("http1" in protos, f"proto labels {protos}")


def rwtest_version(ctx):
    out = rwtest.run_cmd([ctx.binary, "--version"]).stdout.split()
    check(len(out) == 2 and out[0] == "ringwire", f"--version printed {out}")
    return out[1]


@test
def exact_deltas(ctx):
    """Scrape, N_OK x 200 + N_404 x 404 on one keep-alive connection, scrape:
    each scrape is itself a request whose response is counted after the
    scrape was rendered, so the deltas are N + 1 requests and N_OK + 1
    2xx responses, exactly."""
    a, _, ra = scrape(ctx)
    sent_bytes = 0
    resp_bytes = 0
    with ctx.conn() as c:
        for i in range(N_OK + N_404):
            path = "/plaintext" if i < N_OK else f"/missing-{i}"
            req = rwtest.request("GET", path)
            sent_bytes += len(req)
            c.send(req)
            r = c.read_response()
            check_eq(r.status, 200 if i < N_OK else 404, f"status of GET {path}")
            resp_bytes += len(r.raw_head) + len(r.body)
    # Let the send completions of the last responses be processed.
    time.sleep(0.2)
    scrape_req = rwtest.request("GET", "/metrics")
    b, _, _ = scrape(ctx)
    d = lambda name, **lb: val(b, name, **lb) - val(a, name, **lb)  # noqa: E731
    check_eq(d("ringwire_requests_total", proto="http1"), N_OK + N_404 + 1, "requests delta")
    check_eq(d("ringwire_requests_total", proto="h2"), 0, "h2 requests delta")
    check_eq(d("ringwire_responses_total", **{"class": "2xx"}), N_OK + 1, "2xx delta")
    check_eq(d("ringwire_responses_total", **{"class": "4xx"}), N_404, "4xx delta")
    for cls in ("1xx", "3xx", "5xx"):
        check_eq(d("ringwire_responses_total", **{"class": cls}), 0, f"{cls} delta")
    check_eq(d("ringwire_parse_errors_total"), 0, "parse errors delta")
    check_eq(d("ringwire_connections_accepted_total"), 2, "accepted delta (load + 2nd scrape)")
    check_eq(d("ringwire_bytes_received_total"), sent_bytes + len(scrape_req), "bytes received delta")
    first_resp = len(ra.raw_head) + len(ra.body)
    check_eq(d("ringwire_bytes_sent_total"), resp_bytes + first_resp, "bytes sent delta")
    # Every request needs at least one loop iteration, one completion/event
    # and one submit/write on its thread.
    for fam in ("ringwire_loop_iterations_total", "ringwire_completions_total",
                "ringwire_submits_total"):
        delta = per_thread_sum(b, fam) - per_thread_sum(a, fam)
        check(delta >= N_OK + N_404, f"{fam} grew by {delta}, want >= {N_OK + N_404}")
    check(val(b, "ringwire_connections_open") >= 1, "the scrape's own connection is open")


@test
def h2_deltas(ctx):
    """Three HTTP/2 (prior knowledge) requests over three connections: the h2
    request and stream counters move by exactly three, HTTP/1 by the one
    scrape in between, and no stream was reset."""
    a, _, _ = scrape(ctx)
    for _ in range(3):
        cp = rwtest.run_cmd(["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null",
                             "-w", "%{http_version} %{http_code}",
                             f"http://{rwtest.HOST}:{ctx.port}/plaintext"], timeout=10)
        check_eq(cp.stdout.strip(), "2 200", "curl h2 result")
    b, _, _ = scrape(ctx)
    d = lambda name, **lb: val(b, name, **lb) - val(a, name, **lb)  # noqa: E731
    check_eq(d("ringwire_requests_total", proto="h2"), 3, "h2 requests delta")
    check_eq(d("ringwire_requests_total", proto="http1"), 1, "http1 requests delta (a scrape)")
    check_eq(d("ringwire_h2_streams_total"), 3, "h2 streams delta")
    check_eq(d("ringwire_h2_resets_sent_total"), 0, "h2 resets sent delta")
    check_eq(d("ringwire_h2_resets_received_total"), 0, "h2 resets received delta")


@test
def bad_requests_count_as_parse_errors(ctx):
    a, _, _ = scrape(ctx)
    with ctx.conn() as c:
        c.send(b"GET /plaintext HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        r = c.read_response()
        check_eq(r.status, 400, "malformed header status")
    b, _, _ = scrape(ctx)
    check_eq(val(b, "ringwire_parse_errors_total") - val(a, "ringwire_parse_errors_total"), 1,
             "parse errors delta")
    check_eq(val(b, "ringwire_responses_total", **{"class": "4xx"}) -
             val(a, "ringwire_responses_total", **{"class": "4xx"}), 1, "4xx delta")


@test
def status_endpoint(ctx):
    r = ctx.get("/_status")
    check_eq(r.status, 200, "/_status status")
    check_eq(r.header("Content-Type"), "application/json", "/_status Content-Type")
    st = json.loads(r.body)
    check_eq(st["backend"], ctx.backend, "backend")
    check_eq(st["threads"], THREADS, "threads")
    check(st["requests"] >= 1 and st["connections_open"] >= 1, f"counts {st}")
    check_eq(st["draining"], False, "draining")


@test
def status_page_negotiation(ctx):
    """/_status is the dashboard for browsers (Accept: text/html), JSON for
    everything else; /_status.json is always JSON; /_status/events streams
    JSON snapshots."""
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for accept, html in ((browser, True), ("text/html;q=0, */*", False),
                         ("application/json", False), ("*/*", False)):
        r = ctx.get("/_status", headers=[("Accept", accept)])
        check_eq(r.status, 200, f"/_status Accept {accept!r}")
        want = "text/html; charset=utf-8" if html else "application/json"
        check_eq(r.header("Content-Type"), want, f"Content-Type for Accept {accept!r}")
        if html:
            check(b"/_status/events" in r.body and b"<canvas" in r.body, "dashboard page body")
        else:
            json.loads(r.body)
    r = ctx.get("/_status.json", headers=[("Accept", browser)])
    check_eq(r.header("Content-Type"), "application/json", "/_status.json Content-Type")
    check_eq(json.loads(r.body)["backend"], ctx.backend, "/_status.json backend")
    with ctx.conn() as c:
        c.send(rwtest.request("GET", "/_status/events"))
        r = c.read_response(head=True)
        check_eq(r.status, 200, "/_status/events status")
        check(r.header("Content-Type", "").startswith("text/event-stream"), "event stream type")
        deadline = time.monotonic() + WAIT_LOG
        while b"\n\n" not in bytes(c.buf) and time.monotonic() < deadline:
            c._fill(deadline, "the first snapshot")
        m = re.search(rb"event: snapshot\r?\nid: 1\r?\ndata: (\{.*?\})\r?\n", bytes(c.buf))
        check(m, f"first snapshot: {rwtest.short(bytes(c.buf))}")
        snap = json.loads(m.group(1))
        check_eq(snap["backend"], ctx.backend, "snapshot backend")
        check(snap["requests"] >= 1 and snap["connections_open"] >= 1, f"snapshot {snap}")


@test
def head_and_post(ctx):
    r = ctx.get("/metrics", method="HEAD")
    check_eq(r.status, 200, "HEAD /metrics")
    check(int(r.header("Content-Length")) > 0, "HEAD Content-Length")
    check_eq(ctx.get("/metrics", method="POST", body=b"x").status, 405, "POST /metrics")


@test
def custom_path_and_disabled(ctx):
    with ctx.start_server(extra_args=["--metrics", "--metrics-path", "/internal/m"]) as s:
        scrape(ctx, "/internal/m", port=s.port)
        check_eq(ctx.get("/metrics", port=s.port).status, 404, "/metrics with a custom path")
    with ctx.start_server() as s:
        check_eq(ctx.get("/metrics", port=s.port).status, 404, "/metrics without --metrics")
        check_eq(ctx.get("/_status", port=s.port).status, 404, "/_status without --metrics")
    for bad in ("metrics", "/a b", "/m?x", ""):
        cp = rwtest.run_cmd([ctx.binary, "--metrics-path", bad], check_rc=False)
        check_eq(cp.returncode, 2, f"--metrics-path {bad!r} exit status")
        check("--metrics-path" in cp.stderr, f"error names the flag: {cp.stderr!r}")


def wait_for(server, pattern, timeout=WAIT_LOG, count=1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(pattern, server.stderr_text(), re.M)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise rwtest.TestFailure(f"no {count} log line(s) matching {pattern!r}: {server.stderr_tail()}")


LINE_RE = (r"stats: ([0-9.]+) req/s, (\d+) open conns, (?:([0-9.]+) us CPU/req "
           r"\(user [0-9.]+ \+ sys [0-9.]+\)|- us CPU/req), CPU [0-9.]+%, "
           r"(?:[0-9.]+|-) events/submit, (\d+) requests in ([0-9.]+) s$")


@test
def stats_interval_lines(ctx):
    n = 40
    with ctx.start_server(extra_args=["--stats-interval", "0.2"]) as s:
        wait_for(s, LINE_RE)  # one line before the load: start from a clean slate
        with ctx.conn(port=s.port) as c:
            for _ in range(n):
                c.send(rwtest.request("GET", "/plaintext"))
                check_eq(c.read_response().status, 200, "status")
        time.sleep(0.6)  # at least two more intervals after the last request
        lines = re.findall(LINE_RE, s.stderr_text(), re.M)
        check(len(lines) >= 3, f"only {len(lines)} stats lines: {s.stderr_tail()}")
        total = sum(int(m[3]) for m in lines)
        check_eq(total, n, "requests summed over the interval lines")
        busy = [m for m in lines if int(m[3]) > 0]
        for m in busy:
            check(m[2] != "" and float(m[2]) > 0, f"CPU/req missing in a busy interval: {m}")
            rate = float(m[0])
            check(abs(rate - int(m[3]) / float(m[4])) <= 0.1 * rate + 0.1, f"req/s inconsistent {m}")
        for m in lines:
            check(0.15 <= float(m[4]) <= 2.0, f"interval {m[4]} s for --stats-interval 0.2")


@test
def sigusr1_dumps_every_thread(ctx):
    with ctx.start_server(extra_args=["--stats-interval", "0"]) as s:
        for _ in range(5):
            ctx.get("/plaintext", port=s.port)
        s.signal(signal.SIGUSR1)
        per = wait_for(s, r"stats\[thread (\d+)\]: .* requests=(\d+) ", count=THREADS)
        total = wait_for(s, r"stats: threads=(\d+) open=\d+ .* requests=(\d+) ")
        check_eq(sorted(int(t) for t, _ in per), list(range(THREADS)), "thread lines")
        check_eq(int(total[0][0]), THREADS, "threads in the totals line")
        check_eq(sum(int(r) for _, r in per), 5, "requests over the thread lines")
        check_eq(int(total[0][1]), 5, "requests in the totals line")
        check(not re.search(LINE_RE, s.stderr_text(), re.M),
              "a periodic stats line although --stats-interval is 0")


if __name__ == "__main__":
    rwtest.main(server_args=["--metrics"])
