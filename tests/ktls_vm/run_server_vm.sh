#!/usr/bin/env bash
# ringwire serving HTTPS over kernel TLS, inside the kvm-run VM (Debian 6.1
# kernel): runs server_vm_test.py there with the host's python3/curl/openssl
# (--hostfs).   run_server_vm.sh BINARY [--backend uring|epoll ...]
# Exit: the test's status; 77 (CTest SKIP) only when qemu cannot run at all.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KVMRUN=${KVMRUN_SCRIPT:-$ROOT/tools/kvm-run/run.sh}
[ -f "$KVMRUN" ] || { echo "FAIL: $KVMRUN not found"; exit 1; }
[ $# -ge 1 ] || { echo "usage: $0 BINARY [--backend B ...]"; exit 2; }
OUT=$(mktemp -d /tmp/ktls-server-vm.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
# The VM sees the host read-only but with a fresh /tmp, and the checkout may
# live under /tmp (CI clones anywhere): bring binary and script along in --dir.
cp "$1" "$OUT/ringwire"
cp "$HERE/server_vm_test.py" "$OUT/"
shift
set +e
bash "$KVMRUN" --hostfs --timeout 240 --dir "$OUT" -- \
    /usr/bin/python3 "$OUT/server_vm_test.py" --binary "$OUT/ringwire" "$@"
rc=$?
set -e
if [ "$rc" = 125 ]; then
    # harness error: is it qemu itself (skip) or did our test take the VM down (fail)?
    if ! bash "$KVMRUN" --quiet --timeout 120 -- true >/dev/null 2>&1; then
        echo "SKIP: qemu/kvm-run cannot run on this machine"
        exit 77
    fi
fi
exit "$rc"
