#!/usr/bin/python3
"""End-to-end benchmark driver for bench/run.sh (run it through run.sh).

Runs ringwire (io_uring and epoll backends), nginx and h2o, each with one
worker pinned to --server-cpu, and wrk pinned to --client-cpu, on loopback.
For every repetition and workload the servers run back to back (A/B/C/D), so
slow drift of the machine hits every server alike.

Per run it records requests/s, p50/p99 latency, server CPU seconds per 1M
requests (utime+stime of the server process from /proc/PID/stat, all threads
included, before vs after), server VmRSS after the run, and the client's own
CPU use (from wait4 rusage) to flag a saturated client.

Writes OUT/raw.csv, OUT/idle.csv, OUT/machine.json; bench/report.py turns
them into tables and a plot.
"""
import argparse
import csv
import http.client
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH_DIR)

SERVERS = ["ringwire-uring", "ringwire-epoll", "nginx", "h2o"]
WORKLOADS = ["plaintext", "pipeline", "close", "static4k", "static64k", "static1m",
             "h2c_m1", "h2c_m32", "idle"]
# HTTPS (TLS 1.3, one self-signed ECDSA P-256 certificate shared by every
# server). Opt-in (run.sh --tls or --workloads): not in the default list.
# tls_handshake is one connection per request, but wrk keeps its SSL object
# (SSL_shutdown + SSL_clear) and so resumes by TLS 1.3 ticket: these are
# PSK+ECDHE handshakes without a certificate signature, not full ones.
TLS_WORKLOADS = ["tls_plaintext", "tls_static1m", "tls_h2_m32", "tls_handshake"]
TLS_BASE = {"tls_plaintext": "plaintext", "tls_static1m": "static1m",
            "tls_h2_m32": "h2c_m32", "tls_handshake": "close"}
TLS_CERT_DAYS = 2
H2_CONNECTIONS = 16          # h2load -c (the project's reference figures use 16)
H2_STREAMS = {"h2c_m1": 1, "h2c_m32": 32, "tls_h2_m32": 32}

PLAINTEXT_BODY = b"Hello, World!"
STATIC_FILES = {"static4k": ("4k.bin", 4096), "static64k": ("64k.bin", 65536),
                "static1m": ("1m.bin", 1 << 20)}
PIPELINE_DEPTH = 16
PORT_RANGE = (20000, 32000)  # below the ephemeral range, so wrk never holds one
NOFILE = 20000               # RLIMIT_NOFILE for servers and clients
MAX_CONNS = 13500            # nginx worker_connections / h2o max-connections (warm + measured idle)
READY_TIMEOUT_S = 10.0
START_ATTEMPTS = 3
WRK_GRACE_S = 30             # wrk must finish within duration + this
CLIENT_SATURATED = 0.90      # client CPU / wall above this = client-bound
IDLE_SETTLE_S = 1.0          # let the server finish reacting before reading RSS
IDLE_WARM = 2000             # connections opened (and kept) before the baseline RSS
IDLE_CONNECT_TIMEOUT_MS = 60000
CLK_TCK = os.sysconf("SC_CLK_TCK")
QUIET_LOAD = 0.15            # CPUs busy with other work that counts as idle
QUIET_SAMPLE_S = 0.5
FOREIGN_CONTENDED = 0.10     # foreign CPU (in cores) above this flags a run

RAW_FIELDS = ["timestamp", "rep", "workload", "server", "connections", "duration_s",
              "requests", "rps", "p50_us", "p99_us", "avg_us", "transfer_mbps",
              "socket_errors", "non_2xx", "server_cpu_s", "server_cpu_util",
              "cpu_s_per_1m_req", "server_rss_kb", "client_cpu_s", "client_cpu_util",
              "client_saturated", "foreign_cpu_util", "load_before", "resp_head_bytes", "server_version", "wrk_version",
              "kernel", "cpu_model", "nproc"]
IDLE_FIELDS = ["timestamp", "rep", "server", "requested", "connected", "responded",
               "closed_by_server", "rss_before_kb", "rss_after_kb", "bytes_per_conn",
               "server_version", "kernel", "cpu_model", "nproc"]


def log(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


# ---- /proc ----------------------------------------------------------------
def proc_cpu_s(pid):
    """utime+stime of the whole process (live and exited threads), seconds."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime/stime are fields 14/15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def system_busy_s():
    """CPU seconds all CPUs spent busy (not idle/iowait) since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK


def wait_quiet(max_wait_s):
    """Other processes on this machine (builds, tests) distort results: wait
    (bounded) until the machine is almost idle before a run."""
    deadline = time.monotonic() + max_wait_s
    while True:
        b0, t0 = system_busy_s(), time.monotonic()
        time.sleep(QUIET_SAMPLE_S)
        load = (system_busy_s() - b0) / (time.monotonic() - t0)
        if load <= QUIET_LOAD or time.monotonic() >= deadline:
            return load


def proc_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def machine_info():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release()}


def tcp_congestion_control():
    try:
        with open("/proc/sys/net/ipv4/tcp_congestion_control") as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def tool_version(cmd):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
        return r.stdout.decode(errors="replace").strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def pinned(cpu):
    """preexec_fn: pin to one CPU and raise the fd limit to NOFILE (or hard)."""
    def fn():
        os.sched_setaffinity(0, {cpu})
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return fn


# ---- servers ---------------------------------------------------------------
def free_port():
    """A port nobody listens on now. Other test servers may share this
    machine (and SO_REUSEPORT lets two processes share a port), so ports are
    never fixed; Server.start() also checks that the listener is its own."""
    for port in random.sample(range(*PORT_RANGE), 200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port in %d-%d" % PORT_RANGE)


def listener_inodes(port):
    inodes = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            cols = line.split()
            if cols[3] == "0A" and int(cols[1].split(":")[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def owns_port(pid, port):
    want = {"socket:[%s]" % i for i in listener_inodes(port)}
    if not want:
        return False
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in want:
                    return True
            except OSError:
                continue
    except OSError:
        return False
    return False


def render(template, dest, subst):
    with open(template) as f:
        text = f.read()
    for k, v in subst.items():
        text = text.replace("@%s@" % k, str(v))
    if "@" in re.sub(r"#.*", "", text):
        raise SystemExit("unfilled placeholder in " + dest)
    with open(dest, "w") as f:
        f.write(text)


def base_workload(workload):
    """The plaintext workload a TLS one mirrors (same URL, same client flags)."""
    return TLS_BASE.get(workload, workload)


def make_cert(tmp):
    """One self-signed ECDSA P-256 certificate per run, used by every server."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", str(TLS_CERT_DAYS),
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for f in (cert, key):
        os.chmod(f, 0o644)  # throwaway key; h2o may read it as nobody
    return cert, key


class Server:
    def __init__(self, name, args, tmp, cpu, tag="", tls=False):
        # tls=True: a ringwire instance started with --tls-cert (TLS is on for
        # all its listeners). nginx/h2o serve TLS on a second listener
        # (tlsport) of their one instance.
        self.name, self.args, self.tmp, self.cpu, self.tls = name, args, tmp, cpu, tls
        self.port = 0
        self.h2port = 0  # where h2c (prior knowledge) is served: nginx needs its own listener
        self.tlsport = 0  # where HTTPS is served (0: nowhere)
        self.proc = None
        self.version = "unknown"
        self.log_path = os.path.join(args.out, "server-%s%s%s.log"
                                     % (name, "-tls" if tls else "", tag))
        self.warmed = set()  # schemes warmed up

    def command(self):
        a = self.args
        if self.name.startswith("ringwire-"):
            backend = self.name.split("-", 1)[1]
            cmd = [a.binary, "--listen", "127.0.0.1:%d" % self.port, "--backend", backend,
                   "--threads", "1", "--root", a.docroot]
            if self.tls:  # no kTLS on the benchmark kernel: say so, do not probe
                cmd += ["--tls-cert", a.tls_cert, "--tls-key", a.tls_key, "--ktls", "off"]
            return cmd
        conf_dir = os.path.join(self.tmp, "%s-%d" % (self.name, self.port))
        os.makedirs(conf_dir, exist_ok=True)
        os.chmod(conf_dir, 0o755)
        subst = {"PORT": self.port, "H2PORT": self.h2port, "TLSPORT": self.tlsport,
                 "CERT": a.tls_cert, "KEY": a.tls_key, "ROOT": a.docroot, "TMP": conf_dir,
                 "NOFILE": NOFILE,
                 "MAXCONN": MAX_CONNS, "USER": "nobody"}
        if self.name == "nginx":
            conf = os.path.join(conf_dir, "nginx.conf")
            render(os.path.join(BENCH_DIR, "nginx.conf.in"), conf, subst)
            return [a.nginx, "-p", conf_dir, "-c", conf]
        conf = os.path.join(conf_dir, "h2o.conf")
        render(os.path.join(BENCH_DIR, "h2o.conf.in"), conf, subst)
        return [a.h2o, "-c", conf]

    def start(self):
        """Starts on a fresh port; retries when the port was taken meanwhile."""
        for attempt in range(START_ATTEMPTS):
            try:
                return self._start_once()
            except RuntimeError as e:
                if attempt == START_ATTEMPTS - 1:
                    raise
                log("%s: %s; retrying on another port" % (self.name, e))

    def _start_once(self):
        self.port = free_port()
        self.h2port = self.port
        self.tlsport = self.port if self.tls else 0
        if self.name == "nginx":
            while self.h2port == self.port:
                self.h2port = free_port()
        if self.name in ("nginx", "h2o"):
            while self.tlsport in (0, self.port, self.h2port):
                self.tlsport = free_port()
        cmd = self.command()
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=pinned(self.cpu),
                                     start_new_session=True)
        logf.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s at start; see %s"
                                   % (self.name, self.proc.returncode, self.log_path))
            if owns_port(self.proc.pid, self.port):
                socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("%s did not listen on %d within %.0fs" % (self.name, self.port,
                                                                     READY_TIMEOUT_S))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def expected_body(args, workload):
    workload = base_workload(workload)
    if workload in STATIC_FILES:
        with open(os.path.join(args.docroot, STATIC_FILES[workload][0]), "rb") as f:
            return f.read()
    return PLAINTEXT_BODY


def url_path(workload):
    workload = base_workload(workload)
    if workload in STATIC_FILES:
        return "/" + STATIC_FILES[workload][0]
    return "/plaintext"


def base_url(server, workload, h2=False):
    if workload in TLS_BASE:
        return "https://127.0.0.1:%d" % server.tlsport
    return "http://127.0.0.1:%d" % (server.h2port if h2 else server.port)


def check_response(server, args, workload):
    """Same bytes from every server: status 200, identical body. Returns the
    response head size so the table shows what else differs (headers).
    HTTPS: TLS 1.3 is required, and h2 must be offered by ALPN."""
    if workload in TLS_BASE:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        with socket.create_connection(("127.0.0.1", server.tlsport), timeout=5) as raw, \
                ctx.wrap_socket(raw) as t:
            ver, alpn = t.version(), t.selected_alpn_protocol()
        if ver != "TLSv1.3" or alpn != "h2":
            raise RuntimeError("%s: TLS %s, ALPN %s (expected TLSv1.3, h2)"
                               % (server.name, ver, alpn))
        ctx.set_alpn_protocols(["http/1.1"])
        c = http.client.HTTPSConnection("127.0.0.1", server.tlsport, timeout=5, context=ctx)
    else:
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    c.request("GET", url_path(workload))
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200 or body != expected_body(args, workload):
        raise RuntimeError("%s: GET %s -> %d, %d body bytes (expected 200, %d bytes)"
                           % (server.name, url_path(workload), r.status, len(body),
                              len(expected_body(args, workload))))
    head = "HTTP/1.1 200 OK\r\n" + "".join("%s: %s\r\n" % kv for kv in r.getheaders()) + "\r\n"
    return len(head)


# ---- wrk -------------------------------------------------------------------
UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def parse_time_us(tok):
    """wrk prints 0.00us for percentiles it has no samples for (it records one
    latency per pipelined batch), so a zero is "unknown", not "instant"."""
    m = re.match(r"([\d.]+)(us|ms|s|m|h)$", tok)
    v = float(m.group(1)) * UNITS_US[m.group(2)] if m else 0.0
    return v if v > 0 else float("nan")


def parse_wrk(out):
    res = {"requests": 0, "rps": 0.0, "p50_us": float("nan"), "p99_us": float("nan"),
           "avg_us": float("nan"), "transfer_mbps": 0.0, "socket_errors": 0, "non_2xx": 0}
    m = re.search(r"(\d+) requests in", out)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    if m:
        res["p50_us"] = parse_time_us(m.group(1))
    m = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if m:
        res["p99_us"] = parse_time_us(m.group(1))
    m = re.search(r"^\s+Latency\s+(\S+)", out, re.M)
    if m:
        res["avg_us"] = parse_time_us(m.group(1))
    m = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out)
    if m:
        scale = {"B": 1e-6, "KB": 1024 / 1e6, "MB": 1024 ** 2 / 1e6, "GB": 1024 ** 3 / 1e6}
        res["transfer_mbps"] = float(m.group(1)) * scale[m.group(2)]
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["socket_errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["non_2xx"] = int(m.group(1))
    return res


def wrk_command(args, server, workload, duration):
    url = base_url(server, workload) + url_path(workload)
    cmd = [args.wrk, "-t1", "-c%d" % args.connections, "-d%ds" % duration, "--latency"]
    if base_workload(workload) == "close":
        cmd += ["-H", "Connection: close"]
    if workload == "pipeline":
        cmd += ["-s", os.path.join(BENCH_DIR, "pipeline.lua"), url, "--", str(PIPELINE_DEPTH)]
    else:
        cmd.append(url)
    return cmd


def h2load_command(args, server, workload, duration):
    url = base_url(server, workload, h2=True) + "/plaintext"
    return [args.h2load, "-t1", "-c%d" % H2_CONNECTIONS, "-m%d" % H2_STREAMS[workload],
            "-D", str(duration), url]


def parse_h2load(out):
    """h2load has no percentiles: mean request time goes to avg_us; p50/p99 stay
    empty. Failed/errored/timed-out requests count as socket errors."""
    def num(pat, cast=float, default=0):
        m = re.search(pat, out)
        return cast(m.group(1)) if m else default
    reqs = num(r"requests: \d+ total, \d+ started, (\d+) done", int)
    failed = (num(r"(\d+) failed", int) + num(r"(\d+) errored", int) +
              num(r"(\d+) timeout", int))
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    non2xx = sum(int(x) for x in codes.groups()[1:]) if codes else 0
    m = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)", out)
    avg = parse_time_us(m.group(1)) if m else float("nan")
    mbps = num(r"req/s, ([\d.]+)MB/s")
    return {"requests": reqs, "rps": num(r"finished in [\d.]+s, ([\d.]+) req/s"),
            "p50_us": float("nan"), "p99_us": float("nan"), "avg_us": avg,
            "transfer_mbps": mbps, "socket_errors": failed, "non_2xx": non2xx}


def run_wrk(args, cmd, duration):
    """Runs wrk pinned to the client CPU; returns (stdout, client CPU s, wall s)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, preexec_fn=pinned(args.client_cpu))
    deadline = t0 + duration + WRK_GRACE_S
    out = b""
    os.set_blocking(p.stdout.fileno(), False)
    while True:
        try:
            chunk = p.stdout.read()
        except BlockingIOError:
            chunk = None
        if chunk:
            out += chunk
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            rest = p.stdout.read() or b""
            out += rest
            p.returncode = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            p.returncode = -9
            out += b"\n[bench] wrk killed after timeout\n"
            break
        time.sleep(0.05)
    wall = time.monotonic() - t0
    p.stdout.close()
    if p.returncode != 0:
        log("wrk exited %s: %s" % (p.returncode, out.decode(errors="replace")[-500:]))
    return out.decode(errors="replace"), ru.ru_utime + ru.ru_stime, wall


def bench_one(args, server, workload, rep, meta, duration):
    if not server.alive():
        log("%s is not running (exit %s); restarting" % (server.name, server.proc.returncode))
        server.start()
    head_bytes = check_response(server, args, workload)
    warm = "tls_plaintext" if workload in TLS_BASE else "plaintext"
    if warm not in server.warmed:
        run_wrk(args, wrk_command(args, server, warm, 1), 1)
        server.warmed.add(warm)
    pid = server.proc.pid
    load_before = wait_quiet(args.quiet_wait)
    cpu0, busy0 = proc_cpu_s(pid), system_busy_s()
    if workload in H2_STREAMS:
        cmd = h2load_command(args, server, workload, duration)
    else:
        cmd = wrk_command(args, server, workload, duration)
    out, client_cpu, wall = run_wrk(args, cmd, duration)
    busy1 = system_busy_s()
    if not server.alive():
        raise RuntimeError("%s died during the run (exit %s); see %s"
                           % (server.name, server.proc.returncode, server.log_path))
    cpu1 = proc_cpu_s(pid)
    rss = proc_rss_kb(pid)
    with open(os.path.join(args.out, "wrk-%s-%s-%d.txt" % (workload, server.name, rep)), "w") as f:
        f.write(out)
    w = parse_h2load(out) if workload in H2_STREAMS else parse_wrk(out)
    cpu = cpu1 - cpu0
    # CPU time of everything that is neither the server nor wrk (other jobs on
    # this machine, kernel threads): a contended run is flagged in the report.
    foreign = max(0.0, (busy1 - busy0) - cpu - client_cpu) / wall
    row = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"), "rep": rep, "workload": workload,
           "server": server.name, "connections": args.connections, "duration_s": duration,
           "server_cpu_s": round(cpu, 3), "server_cpu_util": round(cpu / duration, 3),
           "cpu_s_per_1m_req": round(cpu / w["requests"] * 1e6, 3) if w["requests"] else "",
           "server_rss_kb": rss, "client_cpu_s": round(client_cpu, 3),
           "client_cpu_util": round(client_cpu / wall, 3),
           "client_saturated": int(client_cpu / wall >= CLIENT_SATURATED),
           "foreign_cpu_util": round(foreign, 3), "load_before": round(load_before, 3),
           "resp_head_bytes": head_bytes,
           "server_version": server.version + (" (userspace TLS, --ktls off)"
                                               if server.tls else ""),
           "wrk_version": meta["wrk_version"], **machine_info()}
    for k in ("requests", "rps", "p50_us", "p99_us", "avg_us", "transfer_mbps",
              "socket_errors", "non_2xx"):
        row[k] = round(w[k], 2) if isinstance(w[k], float) else w[k]
    log("%-10s %-15s rep %d: %9.0f req/s  p99 %8.0f us  cpu/1M %7s s  server %3.0f%%  "
        "client %3.0f%%  other %3.0f%%%s"
        % (workload, server.name, rep, w["rps"], w["p99_us"], row["cpu_s_per_1m_req"],
           100 * cpu / duration, 100 * client_cpu / wall, 100 * foreign,
           "  ERR %d" % w["socket_errors"] if w["socket_errors"] else ""))
    return row


def _idle_client(args, srv, count):
    """Starts idle_conns for count connections; returns (proc, connected, responded)."""
    p = subprocess.Popen([args.idle_tool, "127.0.0.1", str(srv.port), str(count),
                          "/plaintext", str(IDLE_CONNECT_TIMEOUT_MS)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=pinned(args.client_cpu))
    line = p.stdout.readline().decode().split()
    ok = len(line) == 3 and line[0] == "READY"
    return p, (int(line[1]) if ok else 0), (int(line[2]) if ok else 0)


def _idle_finish(p):
    try:
        out, err = p.communicate(b"done\n", timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    m = re.search(r"closed_by_server=(\d+)", out.decode())
    if err:
        log("idle_conns: " + err.decode(errors="replace").strip()[-300:])
    return int(m.group(1)) if m else -1


def bench_idle(args, name, rep, tmp, meta):
    """Fresh server; the marginal RSS cost of an idle keep-alive connection.

    IDLE_WARM connections (one request each) are opened first and kept open,
    so fixed per-process memory that the first connections touch (receive
    buffer pools, provided-buffer rings, allocator arenas) is in the baseline;
    then N more are opened, each with one answered request, and the RSS delta
    is divided by N."""
    srv = Server(name, args, tmp, args.server_cpu, "-idle%d" % rep)
    srv.version = meta["versions"][name]
    srv.start()
    warm = None
    p = None
    try:
        check_response(srv, args, "plaintext")
        warm, _, _ = _idle_client(args, srv, min(IDLE_WARM, args.idle_count))
        time.sleep(IDLE_SETTLE_S)
        pid = srv.proc.pid
        before = proc_rss_kb(pid)
        p, connected, responded = _idle_client(args, srv, args.idle_count)
        time.sleep(IDLE_SETTLE_S)
        after = proc_rss_kb(pid)
        closed = _idle_finish(p)
        p = None
    finally:
        for proc in (p, warm):
            if proc is not None:
                _idle_finish(proc)
        srv.stop()
    per = (after - before) * 1024 / responded if responded else float("nan")
    log("idle       %-15s rep %d: %d/%d connections answered, RSS %d -> %d kB, %.0f B/conn"
        % (name, rep, responded, args.idle_count, before, after, per))
    return {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"), "rep": rep, "server": name,
            "requested": args.idle_count, "connected": connected, "responded": responded,
            "closed_by_server": closed, "rss_before_kb": before, "rss_after_kb": after,
            "bytes_per_conn": round(per, 1), "server_version": srv.version, **machine_info()}


def make_docroot(path):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o755)  # h2o serves as user nobody
    with open(os.path.join(path, "plaintext.txt"), "wb") as f:
        f.write(PLAINTEXT_BODY)
    for name, size in STATIC_FILES.values():
        # Deterministic, incompressible-looking content; same bytes every run.
        block = bytes((i * 131 + 7) % 251 for i in range(4096))
        with open(os.path.join(path, name), "wb") as f:
            f.write((block * (size // len(block) + 1))[:size])
    for name in os.listdir(path):
        os.chmod(os.path.join(path, name), 0o644)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--reps", type=int, default=3, help="repetitions (interleaved)")
    ap.add_argument("--smoke", action="store_true", help="1 s runs, 1 repetition, 1000 idle conns")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--tls", action="store_true",
                    help="also run the HTTPS workloads (%s)" % ", ".join(TLS_WORKLOADS))
    ap.add_argument("--idle-count", type=int, default=10000)
    ap.add_argument("--quiet-wait", type=float, default=20.0,
                    help="max seconds to wait for other load to stop before each run")
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "ringwire"))
    ap.add_argument("--idle-tool", required=True)
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--h2o", default=shutil.which("h2o") or "/usr/bin/h2o")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    ap.add_argument("--h2load", default=shutil.which("h2load") or "/usr/bin/h2load")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.smoke:
        args.duration, args.reps = 1, 1
        args.idle_count = min(args.idle_count, 1000)
    servers = [s for s in args.servers.split(",") if s]
    workloads = [w for w in args.workloads.split(",") if w]
    if args.tls:
        workloads += [w for w in TLS_WORKLOADS if w not in workloads]
    for s in servers:
        if s not in SERVERS:
            raise SystemExit("unknown server %s (known: %s)" % (s, ", ".join(SERVERS)))
    for w in workloads:
        if w not in WORKLOADS + TLS_WORKLOADS:
            raise SystemExit("unknown workload %s (known: %s)"
                             % (w, ", ".join(WORKLOADS + TLS_WORKLOADS)))
    ncpu = os.cpu_count()
    if args.server_cpu >= ncpu or args.client_cpu >= ncpu:
        raise SystemExit("--server-cpu/--client-cpu must be < %d" % ncpu)
    if args.server_cpu == args.client_cpu:
        log("warning: server and client share CPU %d" % args.server_cpu)

    os.makedirs(args.out, exist_ok=True)
    # The driver itself holds a socket per idle test check; keep headroom.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(NOFILE, hard), hard))

    rw_version = tool_version([args.binary, "--version"]) if any(
        s.startswith("ringwire") for s in servers) else ""
    meta = {"command": " ".join(sys.argv), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            **machine_info(), "nginx_version": tool_version([args.nginx, "-v"]),
            "h2o_version": tool_version([args.h2o, "--version"]),
            "wrk_version": tool_version([args.wrk, "-v"]).split(" Copyright")[0],
            "ringwire_version": rw_version, "tcp_congestion_control": tcp_congestion_control(), "duration_s": args.duration, "reps": args.reps,
            "connections": args.connections, "server_cpu": args.server_cpu,
            "client_cpu": args.client_cpu, "idle_count": args.idle_count,
            "pipeline_depth": PIPELINE_DEPTH}
    meta["versions"] = {"ringwire-uring": rw_version, "ringwire-epoll": rw_version,
                        "nginx": meta["nginx_version"], "h2o": meta["h2o_version"]}
    with open(os.path.join(args.out, "machine.json"), "w") as f:
        json.dump(meta, f, indent=2)
    log("%s | %s x%d | kernel %s | %s | %s | %s" % (
        meta["started"], meta["cpu_model"], meta["nproc"], meta["kernel"],
        meta["nginx_version"], meta["h2o_version"], meta["wrk_version"]))

    tmp = tempfile.mkdtemp(prefix="rw-bench-")
    os.chmod(tmp, 0o755)
    args.docroot = os.path.join(tmp, "docroot")
    make_docroot(args.docroot)
    # nginx/h2o configs always carry their TLS listener, so the cert always exists.
    args.tls_cert, args.tls_key = make_cert(tmp)

    live = []
    raw_path = os.path.join(args.out, "raw.csv")
    idle_path = os.path.join(args.out, "idle.csv")
    failures = 0
    try:
        plain = [w for w in workloads if w != "idle" and w not in TLS_BASE]
        tls = [w for w in workloads if w in TLS_BASE]
        by_tls = {}  # (server name, TLS workload?) -> the instance that serves it
        for name in servers:
            ring = name.startswith("ringwire-")
            for want_tls in (False, True):
                if not (tls if want_tls else plain) or (want_tls and (name, True) in by_tls):
                    continue
                s = Server(name, args, tmp, args.server_cpu, tls=want_tls and ring)
                s.version = meta["versions"][name]
                s.start()
                live.append(s)
                by_tls[(name, want_tls)] = s
                if not ring:  # one nginx/h2o process serves both plain and TLS
                    by_tls[(name, not want_tls)] = s
        with open(raw_path, "w", newline="") as rf, open(idle_path, "w", newline="") as idf:
            raw = csv.DictWriter(rf, fieldnames=RAW_FIELDS)
            raw.writeheader()
            idle = csv.DictWriter(idf, fieldnames=IDLE_FIELDS)
            idle.writeheader()
            for rep in range(1, args.reps + 1):
                for w in workloads:
                    if w == "idle":
                        for name in servers:
                            try:
                                idle.writerow(bench_idle(args, name, rep, tmp, meta))
                            except (RuntimeError, OSError, ValueError) as e:
                                failures += 1
                                log("idle %s failed: %s" % (name, e))
                            idf.flush()
                        continue
                    for name in servers:
                        s = by_tls[(name, w in TLS_BASE)]
                        try:
                            raw.writerow(bench_one(args, s, w, rep, meta, args.duration))
                        except (RuntimeError, OSError, http.client.HTTPException) as e:
                            failures += 1
                            log("%s %s rep %d failed: %s" % (w, name, rep, e))
                        rf.flush()
    finally:
        for s in live:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    log("results in %s (%d failed runs)" % (args.out, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
