#!/usr/bin/python3
"""Real-time benchmark rows (bench/run.sh --realtime): WebSocket echo with
bench/ws_load (64 B and 16 KiB messages, one in flight per connection and
pipelined) and SSE fan-out with bench/sse_fanout (/events to many
subscribers). ringwire runs with one worker pinned to --server-cpu, the
client pinned to --client-cpu; server CPU per message is utime+stime of the
server process from /proc/PID/stat over the run. Writes realtime.csv and
realtime.md into --out."""
import argparse
import csv
import os
import socket
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT = 10.0

# (name, size, connections, depth)
WS_CASES = [("ws echo 64 B", 64, 50, 1), ("ws echo 64 B pipelined", 64, 50, 16),
            ("ws echo 16 KiB", 16384, 50, 1), ("ws echo 16 KiB pipelined", 16384, 50, 8)]


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(port, proc):
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"realtime: ringwire exited {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("realtime: ringwire did not start")


def parse_kv(out):
    return {k: v for k, _, v in (t.partition("=") for t in out.split())}


def run_case(args, pid, argv):
    c0 = proc_cpu_s(pid)
    cp = subprocess.run(["taskset", "-c", str(args.client_cpu)] + argv, capture_output=True,
                        text=True, timeout=args.duration + 60)
    c1 = proc_cpu_s(pid)
    if cp.returncode != 0:
        sys.exit(f"realtime: {' '.join(argv)} failed: {cp.stderr.strip()}")
    return parse_kv(cp.stdout), c1 - c0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--tools", required=True, help="directory with ws_load and sse_fanout")
    ap.add_argument("--out", required=True)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--backends", default="uring,epoll")
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--every-ms", type=int, default=10)
    args = ap.parse_args()
    rows = []
    for backend in args.backends.split(","):
        port = free_port()
        srv = subprocess.Popen(["taskset", "-c", str(args.server_cpu), args.binary,
                                "--listen", f"127.0.0.1:{port}", "--backend", backend,
                                "--threads", "1", "--log-level", "warn", "--ws-no-deflate"],
                               stdin=subprocess.DEVNULL)
        try:
            wait_ready(port, srv)
            for name, size, conns, depth in WS_CASES:
                kv, cpu = run_case(args, srv.pid, [os.path.join(args.tools, "ws_load"), str(port),
                                   str(conns), str(size), str(depth), str(args.duration)])
                n = int(kv["messages"])
                rows.append({"backend": backend, "case": name, "connections": conns,
                             "in_flight": depth, "size": size, "per_s": float(kv["msgs_per_s"]),
                             "server_cpu_us_per_msg": cpu * 1e6 / n if n else 0})
            kv, cpu = run_case(args, srv.pid, [os.path.join(args.tools, "sse_fanout"), str(port),
                               str(args.subscribers), str(args.every_ms), str(args.duration)])
            n = int(kv["events"])
            # the client counts over its last --duration s, the CPU covers
            # the warm-up second too: scale to the counted interval
            cpu_counted = cpu * float(kv["seconds"]) / (float(kv["seconds"]) + 1.0)
            rows.append({"backend": backend, "case": f"sse fan-out every {args.every_ms} ms",
                         "connections": args.subscribers, "in_flight": "-", "size": "-",
                         "per_s": float(kv["events_per_s"]),
                         "server_cpu_us_per_msg": cpu_counted * 1e6 / n if n else 0})
        finally:
            srv.terminate()
            srv.wait(15)
    fields = ["backend", "case", "connections", "in_flight", "size", "per_s",
              "server_cpu_us_per_msg"]
    with open(os.path.join(args.out, "realtime.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    lines = ["| backend | case | conns | in flight | msgs or events/s | server CPU µs/msg |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['case']} | {r['connections']} | {r['in_flight']} | "
                     f"{r['per_s']:,.0f} | {r['server_cpu_us_per_msg']:.2f} |")
    md = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "realtime.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
