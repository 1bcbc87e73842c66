#!/bin/bash
# The one benchmark command. See docs/benchmarks.md.
#
#   bench/run.sh [--smoke] [--duration S] [--reps N] [--server-cpu N] [--client-cpu M]
#                [--connections C] [--servers LIST] [--workloads LIST] [--idle-count N] [--quiet-wait S]
#                [--micro] [--no-e2e] [--no-build] [--publish] [--realtime] [--tls] [--binary PATH]
#
# Builds ringwire (Release, in build/), installs nginx-light/h2o/wrk via apt
# if missing, runs the end-to-end suite (ringwire uring + epoll, nginx, h2o;
# interleaved repetitions) and, with --micro, the parser micro-benchmarks.
# Results: results/<timestamp>/{raw.csv,idle.csv,machine.json,report.md,plot.svg}.
# --realtime adds WebSocket echo and SSE fan-out rows (realtime.{csv,md}).
# --tls adds the HTTPS rows (tls_plaintext, tls_static1m, tls_h2_m32, tls_handshake).
# --binary runs that ringwire instead of build/ringwire (implies --no-build).
# --publish also copies the report and plot to docs/.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3 # Debian's modules (matplotlib) load only under this one
BUILD="$REPO/build"
binary="$BUILD/ringwire"

smoke=0 micro=0 e2e=1 build=1 publish=0 server_cpu=0 realtime=0 client_cpu=1 duration=
pass=()
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) smoke=1; pass+=("$1") ;;
    --micro) micro=1 ;;
    --realtime) realtime=1 ;;
    --tls) pass+=("$1") ;;
    --binary)
        [ $# -ge 2 ] || { echo "$1 needs a value" >&2; exit 2; }
        binary=$2 build=0; shift ;;
    --no-e2e) e2e=0 ;;
    --no-build) build=0 ;;
    --publish) publish=1 ;;
    --duration | --reps | --server-cpu | --client-cpu | --connections | --servers | --workloads | --idle-count | --quiet-wait)
        [ $# -ge 2 ] || { echo "$1 needs a value" >&2; exit 2; }
        [ "$1" = --server-cpu ] && server_cpu=$2
        [ "$1" = --client-cpu ] && client_cpu=$2
        [ "$1" = --duration ] && duration=$2
        pass+=("$1" "$2"); shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

servers_wanted() { # does the run include ringwire?
    local s=" ${pass[*]:-} "
    case "$s" in *" --servers "*) ;; *) return 0 ;; esac
    [[ "$s" == *ringwire* ]]
}

# ---- tools -----------------------------------------------------------------
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v h2o >/dev/null || need+=(h2o)
command -v wrk >/dev/null || need+=(wrk)
command -v h2load >/dev/null || need+=(nghttp2-client)
command -v taskset >/dev/null || need+=(util-linux)
$PY -c 'import matplotlib' 2>/dev/null || need+=(python3-matplotlib)
if [ $micro = 1 ]; then
    [ -f /usr/include/benchmark/benchmark.h ] || need+=(libbenchmark-dev)
    [ -e /usr/lib/x86_64-linux-gnu/libh2o-evloop.so ] || need+=(libh2o-dev)
fi
if [ ${#need[@]} -gt 0 ]; then
    echo "[bench] installing: ${need[*]}" >&2
    # Debian's postinst may try to start nginx/h2o; services are never used
    # here (the suite runs its own foreground instances), so forbid that.
    prc=/usr/sbin/policy-rc.d made_prc=0
    if [ ! -e $prc ]; then
        printf '#!/bin/sh\nexit 101\n' >$prc && chmod 755 $prc && made_prc=1
    fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" || rc_apt=$?
    [ $made_prc = 1 ] && rm -f $prc
    [ "${rc_apt:-0}" = 0 ] || { echo "[bench] apt-get failed" >&2; exit 1; }
fi

# ---- build -----------------------------------------------------------------
if [ $build = 1 ]; then
    rwbench=OFF
    [ $micro = 1 ] && rwbench=ON
    cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DRW_BENCH=$rwbench >/dev/null
    targets=()
    if { [ $e2e = 1 ] && servers_wanted; } || [ $realtime = 1 ]; then targets+=(--target ringwire); fi
    [ $micro = 1 ] && targets+=(--target rw_bench)
    [ ${#targets[@]} -gt 0 ] && cmake --build "$BUILD" -j"$(nproc)" "${targets[@]}"
fi
mkdir -p "$BUILD/bench-tools"
gcc -std=gnu17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$BUILD/bench-tools/idle_conns" \
    "$REPO/bench/idle_conns.c"
if [ $realtime = 1 ]; then
    for t in ws_load sse_fanout; do
        gcc -std=gnu17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$BUILD/bench-tools/$t" \
            "$REPO/bench/$t.c"
    done
fi

out="$REPO/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
rc=0

# ---- micro -----------------------------------------------------------------
if [ $micro = 1 ]; then
    mt=1
    [ $smoke = 1 ] && mt=0.05
    taskset -c "$server_cpu" "$BUILD/bench/rw_bench" --benchmark_min_time=$mt \
        --benchmark_format=json --benchmark_out="$out/micro.json" \
        --benchmark_out_format=json >/dev/null || rc=1
    $PY "$REPO/bench/report.py" micro "$out/micro.json" | tee "$out/micro.md"
fi

# ---- end to end ------------------------------------------------------------
if [ $e2e = 1 ]; then
    $PY "$REPO/bench/lib/e2e.py" --binary "$binary" \
        --idle-tool "$BUILD/bench-tools/idle_conns" --out "$out" ${pass[@]+"${pass[@]}"} || rc=1
    $PY "$REPO/bench/report.py" e2e "$out" --plot "$out/plot.svg" | tee "$out/report.md"
fi

# ---- real-time (WebSocket echo, SSE fan-out) ----------------------------------
if [ $realtime = 1 ]; then
    rt_dur=${duration:-5}
    [ $smoke = 1 ] && rt_dur=1
    $PY "$REPO/bench/lib/realtime.py" --binary "$binary" --tools "$BUILD/bench-tools" \
        --out "$out" --duration "$rt_dur" --server-cpu "$server_cpu" --client-cpu "$client_cpu" || rc=1
fi

if [ $publish = 1 ]; then
    mkdir -p "$REPO/docs/bench"
    [ -f "$out/report.md" ] && cp "$out/report.md" "$REPO/docs/bench/latest.md"
    [ -f "$out/plot.svg" ] && cp "$out/plot.svg" "$REPO/docs/bench/latest.svg"
    [ -f "$out/micro.md" ] && cp "$out/micro.md" "$REPO/docs/bench/latest-micro.md"
    echo "[bench] published to docs/bench/" >&2
fi
echo "[bench] results: $out" >&2
exit $rc
