#!/usr/bin/python3
"""Turns benchmark output into Markdown tables (and a plot).

  report.py micro RESULT.json        rw_bench --benchmark_format=json output ->
                                     per family (parse, hpack/encode, ...):
                                     ours ns/item, peer ns/item, ratio
  report.py e2e RESULTS_DIR [--plot FILE.svg|.png]
                                     raw.csv + idle.csv + machine.json from
                                     bench/run.sh -> medians, ratios, idle cost

Tables go to stdout. Medians are taken over repetitions; ratios are computed
from medians. "sat" marks a run where the client (wrk) used >= 90% of its
core, i.e. the number may be a client limit rather than a server limit.
A run during which other processes used >= 10% of a core is "contended";
a cell's medians use only its clean runs when it has any (the notes say
how many), else all runs, flagged "all runs contended".
"""
import argparse
import csv
import json
import math
import os
import statistics
import sys

CONTENDED = 0.10  # median CPU (cores) used by other processes during the runs
ORDER = ["ringwire-uring", "ringwire-epoll", "nginx", "h2o"]
WORKLOAD_TITLE = {
    "plaintext": "plaintext keep-alive",
    "pipeline": "plaintext pipelined x16",
    "close": "connection per request",
    "static4k": "static 4 KiB",
    "static64k": "static 64 KiB",
    "static1m": "static 1 MiB",
    "h2c_m1": "h2c -m 1 (h2load -c16)",
    "h2c_m32": "h2c -m 32 (h2load -c16)",
    "tls_plaintext": "TLS 1.3 plaintext keep-alive",
    "tls_static1m": "TLS 1.3 static 1 MiB",
    "tls_h2_m32": "TLS 1.3 h2 -m 32 (h2load -c16)",
    "tls_handshake": "TLS 1.3 conn per request (wrk: ticket-resumed)",
}


# ---- micro -----------------------------------------------------------------
# Benchmark names are FAMILY.../IMPL/CASE, e.g. parse/ringwire/browser_get or
# hpack/decode/nghttp2/sequence. Each family gets one table pairing ours with
# its peer; a family without a peer (h2frame/...) is listed alone.
OURS = "ringwire"
PEERS = ("picohttpparser", "nghttp2", "wslay")
# Our own reference implementations (not peers): compared like a peer when a
# family has no peer.
BASELINES = ("scalar", "baseline")
UNIT = {"parse": "req", "hpack": "field", "h2frame": "frame", "ws_frame": "frame",
        "ws_unmask": "buf", "utf8": "buf", "sse": "event"}


def micro(path):
    with open(path) as f:
        data = json.load(f)
    fams = {}  # family -> {case -> {impl -> (ns/item, bytes/s)}}
    medians = set()  # with --benchmark_repetitions: the median wins over single runs
    for b in data["benchmarks"]:
        if b.get("error_occurred"):
            continue
        if b.get("run_type", "iteration") == "aggregate":
            if b.get("aggregate_name") != "median":
                continue
            name = b["run_name"]
            medians.add(name)
        elif b["name"] in medians:
            continue
        else:
            name = b["name"]
        parts = name.split("/")
        impls = [i for i, p in enumerate(parts) if p == OURS or p in PEERS + BASELINES]
        if not impls or impls[0] == 0 or impls[0] == len(parts) - 1:
            continue
        i = impls[0]
        family, impl, case = "/".join(parts[:i]), parts[i], "/".join(parts[i + 1:])
        ips = b.get("items_per_second")
        if not ips:
            continue
        fams.setdefault(family, {}).setdefault(case, {})[impl] = (
            1e9 / ips, b.get("bytes_per_second", 0.0))
    ctx = data.get("context", {})
    print("Machine: %s, %s CPUs, kernel %s" % (ctx.get("cpu_model", "?"), ctx.get("num_cpus", "?"),
                                             ctx.get("kernel", "?")))
    for family, rows in fams.items():
        unit = UNIT.get(family.split("/")[0], "item")
        peers = [p for p in PEERS + BASELINES if any(p in r for r in rows.values())]
        print()
        print("### %s" % family)
        print()
        if not peers:
            print("| case | ringwire ns/%s | ringwire GB/s |" % unit)
            print("|---|---:|---:|")
            for case, r in rows.items():
                if OURS in r:
                    print("| %s | %.1f | %.2f |" % (case, r[OURS][0], r[OURS][1] / 1e9))
            continue
        peer = peers[0]
        print("| case | ringwire ns/%s | %s ns/%s | ratio (ours/%s) "
              "| ringwire GB/s | %s GB/s |" % (unit, peer, unit, peer, peer))
        print("|---|---:|---:|---:|---:|---:|")
        for case, r in rows.items():
            ours, other = r.get(OURS), r.get(peer)
            if not ours or not other:
                continue
            print("| %s | %.1f | %.1f | %.2f | %.2f | %.2f |" % (
                case, ours[0], other[0], ours[0] / other[0], ours[1] / 1e9, other[1] / 1e9))
    return 0


# ---- e2e -------------------------------------------------------------------
def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def fnum(v):
    try:
        x = float(v)
        return x if math.isfinite(x) else None
    except (TypeError, ValueError):
        return None


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, spec="%.0f"):
    return "–" if v is None else spec % v


def ratio(a, b):
    return "–" if a is None or b in (None, 0) else "%.2f" % (a / b)


def aggregate(raw):
    agg = {}
    for r in raw:
        k = (r["workload"], r["server"])
        agg.setdefault(k, []).append(r)
    out = {}
    for k, all_rs in agg.items():
        # Runs during which other processes competed for the CPUs are noise:
        # when a cell has clean runs, its medians use only those.
        clean = [r for r in all_rs if (fnum(r.get("foreign_cpu_util")) or 0.0) < CONTENDED]
        rs = clean or all_rs
        out[k] = {
            "clean": len(clean),
            "total": len(all_rs),
            "rps": median(fnum(r["rps"]) for r in rs),
            "p50": median(fnum(r["p50_us"]) for r in rs),
            "p99": median(fnum(r["p99_us"]) for r in rs),
            "cpu": median(fnum(r["cpu_s_per_1m_req"]) for r in rs),
            "util": median(fnum(r["server_cpu_util"]) for r in rs),
            "rss": median(fnum(r["server_rss_kb"]) for r in rs),
            "sat": any(r["client_saturated"] == "1" for r in rs),
            "foreign": median(fnum(r.get("foreign_cpu_util")) for r in rs),
            "err": sum(int(fnum(r["socket_errors"]) or 0) + int(fnum(r["non_2xx"]) or 0)
                       for r in rs),
            "head": fnum(rs[0]["resp_head_bytes"]),
            "n": len(rs),
        }
    return out


def e2e(d, plot):
    raw = read_csv(os.path.join(d, "raw.csv"))
    idle = read_csv(os.path.join(d, "idle.csv"))
    meta = {}
    if os.path.exists(os.path.join(d, "machine.json")):
        with open(os.path.join(d, "machine.json")) as f:
            meta = json.load(f)
    agg = aggregate(raw)
    workloads = [w for w in WORKLOAD_TITLE if any(k[0] == w for k in agg)]
    servers = [s for s in ORDER if any(k[1] == s for k in agg)
               or any(r["server"] == s for r in idle)]

    print("Machine: %s, %s CPUs, kernel %s (TCP congestion control %s). %s; %s; %s; %s." % (
        meta.get("cpu_model", "?"), meta.get("nproc", "?"), meta.get("kernel", "?"),
        meta.get("tcp_congestion_control", "?"),
        meta.get("nginx_version", "?"), meta.get("h2o_version", "?"), meta.get("wrk_version", "?"),
        meta.get("ringwire_version", "") or "–"))
    print("Run: `%s` — %s s per run, %s repetition(s) interleaved, %s connections, server on "
          "CPU %s, wrk on CPU %s." % (meta.get("command", "?"), meta.get("duration_s", "?"),
                                      meta.get("reps", "?"), meta.get("connections", "?"),
                                      meta.get("server_cpu", "?"), meta.get("client_cpu", "?")))
    print()
    if workloads:
        print("### Throughput, latency, CPU (medians over clean runs)")
        print()
        print("| workload | server | req/s | p50 µs | p99 µs | CPU s / 1M req | server CPU "
              "| RSS MiB | resp head B | notes |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for w in workloads:
            for s in servers:
                a = agg.get((w, s))
                if not a:
                    continue
                notes = []
                if a["sat"]:
                    notes.append("client-saturated")
                if a["clean"] == 0:
                    notes.append("all runs contended (other load %.0f%% of a core)"
                                 % (100 * a["foreign"]))
                elif a["clean"] < a["total"]:
                    notes.append("%d of %d runs clean" % (a["clean"], a["total"]))
                if a["err"]:
                    notes.append("%d errors" % a["err"])
                print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    WORKLOAD_TITLE[w], s, fmt(a["rps"]), fmt(a["p50"]), fmt(a["p99"]),
                    fmt(a["cpu"], "%.2f"), fmt(a["util"] and a["util"] * 100, "%.0f%%"),
                    fmt(a["rss"] and a["rss"] / 1024, "%.1f"), fmt(a["head"]),
                    ", ".join(notes)))
        print()
        print("### Ratios (req/s: higher is better for ringwire; CPU/req: lower is better)")
        print()
        pairs = [("ringwire-uring", "ringwire-epoll"), ("ringwire-uring", "nginx"),
                 ("ringwire-uring", "h2o"), ("ringwire-epoll", "nginx"),
                 ("ringwire-epoll", "h2o"), ("h2o", "nginx")]
        pairs = [p for p in pairs if p[0] in servers and p[1] in servers]
        print("| workload | " + " | ".join("%s / %s req/s | CPU/req" % p for p in pairs) + " |")
        print("|---|" + "---:|---:|" * len(pairs))
        for w in workloads:
            cells = []
            for a, b in pairs:
                x, y = agg.get((w, a), {}), agg.get((w, b), {})
                cells.append(ratio(x.get("rps"), y.get("rps")))
                cells.append(ratio(x.get("cpu"), y.get("cpu")))
            print("| %s | %s |" % (WORKLOAD_TITLE[w], " | ".join(cells)))
        print()
    if idle:
        print("### Idle keep-alive connections (RSS growth per connection, median)")
        print()
        print("| server | connections answered | RSS before MiB | RSS after MiB | bytes / conn |")
        print("|---|---:|---:|---:|---:|")
        for s in servers:
            rs = [r for r in idle if r["server"] == s]
            if not rs:
                continue
            print("| %s | %s / %s | %s | %s | %s |" % (
                s, fmt(median(fnum(r["responded"]) for r in rs)), rs[0]["requested"],
                fmt((median(fnum(r["rss_before_kb"]) for r in rs) or 0) / 1024, "%.1f"),
                fmt((median(fnum(r["rss_after_kb"]) for r in rs) or 0) / 1024, "%.1f"),
                fmt(median(fnum(r["bytes_per_conn"]) for r in rs))))
        print()
    if plot and workloads:
        make_plot(agg, workloads, servers, plot, meta)
        print("Plot: %s" % os.path.basename(plot))
    return 0


def make_plot(agg, workloads, servers, path, meta):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.8 / max(1, len(servers))
    xs = range(len(workloads))
    for i, s in enumerate(servers):
        base = [agg.get((w, "nginx"), {}).get("rps") for w in workloads]
        rps = [agg.get((w, s), {}).get("rps") for w in workloads]
        rel = [(r / b) if r and b else 0 for r, b in zip(rps, base)]
        cpu = [agg.get((w, s), {}).get("cpu") or 0 for w in workloads]
        bases_cpu = [agg.get((w, "nginx"), {}).get("cpu") for w in workloads]
        rel_cpu = [(c / b) if c and b else 0 for c, b in zip(cpu, bases_cpu)]
        pos = [x + (i - (len(servers) - 1) / 2) * width for x in xs]
        axes[0].bar(pos, rel, width, label=s)
        axes[1].bar(pos, rel_cpu, width, label=s)
    for ax, title in ((axes[0], "req/s relative to nginx, log scale (higher is better)"),
                      (axes[1], "server CPU per request relative to nginx (lower is better)")):
        ax.set_xticks(list(xs))
        ax.set_xticklabels([WORKLOAD_TITLE[w] for w in workloads], rotation=25, ha="right",
                           fontsize=8)
        ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.set_title(title, fontsize=10)
    axes[0].set_yscale("log")  # pipelining is ~10x; keep the other workloads readable
    axes[0].legend(fontsize=8)
    fig.suptitle("%s x%s, kernel %s, 1 server core + 1 wrk core (medians)" % (
        meta.get("cpu_model", "?"), meta.get("nproc", "?"), meta.get("kernel", "?")), fontsize=10)
    fig.tight_layout()
    fig.savefig(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("micro")
    m.add_argument("json")
    e = sub.add_parser("e2e")
    e.add_argument("dir")
    e.add_argument("--plot", help="write a plot (.svg or .png)")
    a = ap.parse_args()
    if a.cmd == "micro":
        return micro(a.json)
    return e2e(a.dir, a.plot)


if __name__ == "__main__":
    sys.exit(main())
