#!/usr/bin/env bash
# Installs every Debian package ringwire's build, tests and (with --bench)
# benchmarks need. Idempotent: `apt-get update` runs only when something is
# missing (or the package lists are empty). Prints one summary line.
#
# Usage: tools/install-deps.sh [--bench]
set -euo pipefail

# One package per line; extend here.
PACKAGES=(
  build-essential
  cmake
  pkg-config
  clang
  llvm
  libclang-rt-14-dev   # libFuzzer + ASan runtimes for clang
  liburing-dev
  libssl-dev
  zlib1g-dev
  libbenchmark-dev
  libnghttp2-dev
  libh2o-dev           # picohttpparser peer for the parser micro-benchmark
  libwslay-dev         # wslay peer for the WebSocket frame micro-benchmark
  curl
  wrk
  nghttp2-client
  python3
  python3-h2
  python3-websockets
  lua5.1
  procps
  iproute2
  systemtap-sdt-dev          # <sys/sdt.h>: USDT probes (src/core/probes.h)
  linux-perf                 # tools/profile, tests/integration/test_usdt.py
  python3-prometheus-client  # exposition-format check in test_metrics.py
  util-linux                 # taskset (tools/profile)
  chromium                   # headless browser: tests/integration/test_browser.py
  qemu-system-x86            # tools/kvm-run: the kTLS VM tests (ctest -L ktls)
  busybox-static             # tools/kvm-run: the guest's userland
  cpio                       # tools/kvm-run: builds the initramfs
  xz-utils                   # tools/kvm-run: unpacks the kernel and its modules
)

# Benchmark-only extras (bench/run.sh): peer servers and plotting.
BENCH_PACKAGES=(
  nginx-light
  h2o
  gnuplot-nox
)

want_bench=0
for arg in "$@"; do
  case "$arg" in
    --bench) want_bench=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown option: $arg" >&2; exit 2 ;;
  esac
done
if (( want_bench )); then
  PACKAGES+=("${BENCH_PACKAGES[@]}")
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: not root and sudo is missing" >&2
    exit 1
  fi
fi

# Node.js + npm drive the WebSocket client tests (npm package `ws`). This
# machine kind ships its own Node; only a machine without any gets Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done

if (( ${#missing[@]} == 0 )); then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/install-deps.XXXXXX.log)
trap 'rm -f "$log"' EXIT
run() {
  if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "$@" >>"$log" 2>&1 </dev/null; then
    echo "install-deps: failed: $*" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

# A missing package may just mean stale or empty lists: refresh them first.
run apt-get -q update
run apt-get -q -y --no-install-recommends install "${missing[@]}"
echo "install-deps: installed ${#missing[@]} package(s): ${missing[*]}"
