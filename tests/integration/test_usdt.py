#!/usr/bin/python3
"""USDT probes (src/core/probes.h): the binary carries a stapsdt note for
each probe of provider "ringwire", and, where perf can attach uprobes on
this machine, recording a known workload counts exactly the expected hits
with the expected arguments.

The perf part reports `SKIP perf: <reason>` (and passes) only when perf
itself cannot attach here (no perf, no uprobe support, not permitted); the
note checks always run."""
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rwtest  # noqa: E402
from rwtest import check, check_eq, test  # noqa: E402

PROVIDER = "ringwire"
# Placed in the connection layer and the backends.
# Fired for HTTP/1 and HTTP/2 alike (src/conn/request_events.c).
REQUEST_PROBES = ["request__start", "request__done", "request__stream"]
# HTTP/2 streams (src/http2/) and TLS (src/conn/tls_layer.c).
H2_TLS_PROBES = ["h2__stream_open", "h2__stream_close", "h2__rst_sent", "h2__rst_received",
                 "tls__handshake", "tls__ktls", "ws__slow_close", "sse__slow_close"]
REQUIRED = ["conn__accept", "conn__close", "conn__timeout", "enobufs",
            "slow__consumer"] + REQUEST_PROBES + H2_TLS_PROBES

CONNS = 12          # connections in the recorded workload
REQS_PER_CONN = 3   # keep-alive requests on each
IDLE_CONNS = 2      # connections left idle until the keep-alive timeout
KEEPALIVE = "0.3"   # seconds: --keepalive-timeout of the traced server
ATTACH_WAIT = 1.5   # seconds perf gets to attach before the workload
PERF_TIMEOUT = 30


def stapsdt_notes(binary):
    out = rwtest.run_cmd(["readelf", "-n", binary]).stdout
    notes = re.findall(r"stapsdt\s+0x[0-9a-f]+\s+NT_STAPSDT.*?\n\s+Provider: (\S+)\n\s+Name: (\S+)",
                       out)
    return out, collections.Counter(notes)


@test
def probes_in_binary(ctx):
    out, notes = stapsdt_notes(ctx.binary)
    check(notes, "no stapsdt notes: built without <sys/sdt.h> (install systemtap-sdt-dev)")
    providers = {p for p, _ in notes}
    check_eq(providers, {PROVIDER}, "providers")
    names = {n for _, n in notes}
    for name in REQUIRED:
        check(name in names, f"probe {PROVIDER}:{name} missing; have {sorted(names)}")
    unknown = names - set(REQUIRED)
    check(not unknown, f"undocumented probes {sorted(unknown)}: list them in docs/profiling.md")
    # The semaphore-free form: no .probes section means no semaphores.
    check(".note.stapsdt" in rwtest.run_cmd(["readelf", "-S", ctx.binary]).stdout,
          "no .note.stapsdt section")


class PerfUnavailable(Exception):
    pass


class Perf:
    """perf probe/record with a private build-id cache (nothing in ~/.debug)."""

    def __init__(self, binary):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="rw-usdt-")
        self.base = ["perf", "--buildid-dir", os.path.join(self.dir, "bid")]
        self.events = []

    def run(self, *args, check_rc=True):
        return rwtest.run_cmd(self.base + list(args), timeout=PERF_TIMEOUT, check_rc=check_rc)

    def setup(self, names):
        if shutil.which("perf") is None:
            raise PerfUnavailable("perf is not installed (linux-perf)")
        tracing = "/sys/kernel/tracing"
        if not os.path.exists(os.path.join(tracing, "uprobe_events")):
            # tracefs not mounted yet (common in containers/VMs): mount it.
            subprocess.run(["mount", "-t", "tracefs", "nodev", tracing],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not os.path.exists(os.path.join(tracing, "uprobe_events")):
            raise PerfUnavailable("no uprobe_events in tracefs (kernel without CONFIG_UPROBE_EVENTS, "
                                  "or tracefs cannot be mounted)")
        cp = self.run("buildid-cache", "--add", self.binary, check_rc=False)
        if cp.returncode != 0:
            raise PerfUnavailable(f"perf buildid-cache failed: {cp.stderr.strip()[-300:]}")
        self.run("probe", "-q", "-d", f"sdt_{PROVIDER}:*", check_rc=False)  # stale events
        for n in names:
            cp = self.run("probe", "-q", "-x", self.binary, "-a", f"sdt_{PROVIDER}:{n}", check_rc=False)
            if cp.returncode != 0:
                # uprobes work here (checked above): this is our problem, e.g.
                # one probe name at two places (perf 6.1 rejects that).
                raise rwtest.TestFailure(f"perf probe cannot add sdt_{PROVIDER}:{n}: "
                                         f"{cp.stderr.strip()[-300:]}")
            self.events.append(f"sdt_{PROVIDER}:{n}")

    def record(self, pid, workload):
        data = os.path.join(self.dir, "perf.data")
        argv = self.base + ["record", "-q", "-o", data, "-p", str(pid)]
        for e in self.events:
            argv += ["-e", e]
        errf = open(os.path.join(self.dir, "record.err"), "w+b")
        rec = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errf)
        time.sleep(ATTACH_WAIT)
        if rec.poll() is not None:
            errf.seek(0)
            raise PerfUnavailable(f"perf record exited at once: {errf.read().decode()[-300:]}")
        try:
            workload()
        finally:
            rec.send_signal(signal.SIGINT)
            try:
                rec.wait(timeout=PERF_TIMEOUT)
            except subprocess.TimeoutExpired:
                rec.kill()
                raise rwtest.TestFailure("perf record did not stop")
            errf.close()
        out = self.run("script", "-i", data, "-F", "event,trace").stdout
        hits = []
        for line in out.splitlines():
            m = re.match(rf"\s*sdt_{PROVIDER}:(\S+?):?\s.*?((?:arg\d+=\S+\s*)*)$", line)
            if m:
                args = dict(a.split("=", 1) for a in m.group(2).split())
                hits.append((m.group(1), args))
        return hits

    def cleanup(self):
        if self.events:
            self.run("probe", "-q", "-d", f"sdt_{PROVIDER}:*", check_rc=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def workload(port):
    for _ in range(CONNS):
        with rwtest.Conn(port) as c:
            for _ in range(REQS_PER_CONN):
                c.send(rwtest.request("GET", "/plaintext"))
                check_eq(c.read_response().status, 200, "status")
    idle = [rwtest.Conn(port) for _ in range(IDLE_CONNS)]
    try:
        for c in idle:
            c.send(rwtest.request("GET", "/plaintext"))
            c.read_response()
        for c in idle:  # the keep-alive timer closes them
            c.wait_closed(float(KEEPALIVE) + 2.0)
    finally:
        for c in idle:
            c.close()
    time.sleep(0.3)  # closes of the first connections are processed


@test
def perf_counts_probe_hits(ctx):
    _, notes = stapsdt_notes(ctx.binary)
    names = {n for _, n in notes}
    check(set(REQUIRED) <= names, "probes missing (see probes_in_binary)")
    request_probes = [n for n in REQUEST_PROBES if n in names]
    perf = Perf(ctx.binary)
    try:
        try:
            perf.setup(["conn__accept", "conn__close", "conn__timeout"] + request_probes)
        except PerfUnavailable as e:
            print(f"  SKIP perf: {e} (the notes were checked)", flush=True)
            return
        with ctx.start_server(extra_args=["--keepalive-timeout", KEEPALIVE], threads=1) as s:
            try:
                hits = perf.record(s.proc.pid, lambda: workload(s.port))
            except PerfUnavailable as e:
                print(f"  SKIP perf: {e} (the notes were checked)", flush=True)
                return
    finally:
        perf.cleanup()
    by = collections.defaultdict(list)
    for name, args in hits:
        by[name].append(args)
    total = CONNS + IDLE_CONNS
    nreq = CONNS * REQS_PER_CONN + IDLE_CONNS
    check_eq(len(by["conn__accept"]), total, f"conn__accept hits ({dict((k, len(v)) for k, v in by.items())})")
    check_eq(len(by["conn__close"]), total, "conn__close hits")
    check_eq(len(by["conn__timeout"]), IDLE_CONNS, "conn__timeout hits")
    check(all(a["arg2"] == "0" for a in by["conn__accept"]), "conn__accept worker id (1 thread)")
    served = sorted(int(a["arg2"]) for a in by["conn__close"])
    check_eq(served, sorted([REQS_PER_CONN] * CONNS + [1] * IDLE_CONNS), "requests per closed conn")
    check(all(a["arg2"] == "1" for a in by["conn__timeout"]), "timer = 1 (idle)")
    accepted_fds = sorted(int(a["arg1"]) for a in by["conn__accept"])
    closed_fds = sorted(int(a["arg1"]) for a in by["conn__close"])
    check_eq(closed_fds, accepted_fds, "fds of accepted vs closed connections")
    if "request__start" in request_probes:
        check_eq(len(by["request__start"]), nreq, "request__start hits")
        check(all(a["arg3"] == "3" and a["arg4"] == str(len("/plaintext"))
                  for a in by["request__start"]), "request__start method_len/path_len")
    if "request__stream" in request_probes:
        check_eq(len(by["request__stream"]), 0, "request__stream hits (nothing streamed)")
    if "request__done" in request_probes:
        check_eq(len(by["request__done"]), nreq, "request__done hits")
        check(all(a["arg2"] == "200" and a["arg3"] == str(len(rwtest.PLAINTEXT_BODY))
                  for a in by["request__done"]), "request__done status/bytes")


H2_STREAMS = 3  # requests on one HTTP/2 connection (prior knowledge)


@test
def perf_counts_h2_request_probes(ctx):
    """HTTP/2 requests report through the same request__start/request__done
    as HTTP/1: one hit each per stream, with the same arguments."""
    from h2wire import H2Conn
    _, notes = stapsdt_notes(ctx.binary)
    names = {n for _, n in notes}
    check(set(REQUEST_PROBES) <= names, "probes missing (see probes_in_binary)")
    perf = Perf(ctx.binary)
    try:
        try:
            perf.setup(REQUEST_PROBES)
        except PerfUnavailable as e:
            print(f"  SKIP perf: {e} (the notes were checked)", flush=True)
            return
        with ctx.start_server(threads=1) as s:
            def h2_workload():
                with H2Conn(s.port) as h:
                    for i in range(H2_STREAMS):
                        sid = 1 + 2 * i
                        h.get(sid)
                        status, _, body = h.response(sid)
                        check_eq(status, 200, "h2 status")
                        check_eq(body, rwtest.PLAINTEXT_BODY, "h2 body")
            try:
                hits = perf.record(s.proc.pid, h2_workload)
            except PerfUnavailable as e:
                print(f"  SKIP perf: {e} (the notes were checked)", flush=True)
                return
    finally:
        perf.cleanup()
    by = collections.defaultdict(list)
    for name, args in hits:
        by[name].append(args)
    check_eq(len(by["request__start"]), H2_STREAMS, "h2 request__start hits")
    check(all(a["arg3"] == "3" and a["arg4"] == str(len("/plaintext"))
              for a in by["request__start"]), "h2 request__start method_len/path_len")
    check_eq(len(by["request__done"]), H2_STREAMS, "h2 request__done hits")
    check(all(a["arg2"] == "200" and a["arg3"] == str(len(rwtest.PLAINTEXT_BODY))
              for a in by["request__done"]), "h2 request__done status/bytes")
    check_eq(len(by["request__stream"]), 0, "h2 request__stream hits (nothing streamed)")


@test
def perf_counts_enobufs(ctx):
    """One provided buffer and a burst on many connections: the io_uring
    backend runs out of buffers; every probe hit is one counted ENOBUFS."""
    if ctx.backend != "uring":
        print("  (epoll has no provided buffers: enobufs never fires; nothing to check)")
        return
    perf = Perf(ctx.binary)
    try:
        try:
            perf.setup(["enobufs"])
        except PerfUnavailable as e:
            print(f"  SKIP perf: {e} (the notes were checked)", flush=True)
            return
        with ctx.start_server(extra_args=["--bufs", "1", "--metrics"], threads=1) as s:
            def burst():
                conns = [rwtest.Conn(s.port) for _ in range(16)]
                try:
                    for _ in range(3):
                        for c in conns:
                            c.send(rwtest.request("GET", "/plaintext") * 4)
                        for c in conns:
                            c.read_responses(4)
                finally:
                    for c in conns:
                        c.close()
            hits = perf.record(s.proc.pid, burst)
            r = rwtest.Conn(s.port)
            r.send(rwtest.request("GET", "/metrics"))
            body = r.read_response().body.decode()
            r.close()
    finally:
        perf.cleanup()
    m = re.search(r"^ringwire_uring_enobufs_total (\d+)$", body, re.M)
    check(m, "no ringwire_uring_enobufs_total in the scrape")
    check(int(m.group(1)) > 0, "the burst caused no ENOBUFS with --bufs 1")
    check_eq(len([h for h in hits if h[0] == "enobufs"]), int(m.group(1)),
             "enobufs probe hits vs the counter")


if __name__ == "__main__":
    rwtest.main()
