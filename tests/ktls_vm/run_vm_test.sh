#!/usr/bin/env bash
# Run the kTLS end-to-end test inside the kvm-run VM (Debian 6.1 kernel).
#   run_vm_test.sh [BINARY]   BINARY: a built ktls_vm_test (CMake target);
#                             without it the test is compiled here with gcc.
# Exit: the test's status; 77 (CTest SKIP) only when qemu cannot run at all.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KVMRUN=${KVMRUN_SCRIPT:-$ROOT/tools/kvm-run/run.sh}
[ -f "$KVMRUN" ] || { echo "FAIL: $KVMRUN not found"; exit 1; }
OUT=$(mktemp -d /tmp/ktls-vm-test.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
if [ $# -ge 1 ]; then
    cp "$1" "$OUT/ktls_vm_test"
else
    gcc -std=gnu17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -pthread -I"$ROOT" \
        -o "$OUT/ktls_vm_test" "$HERE/ktls_vm_test.c" "$ROOT"/ktls/*.c -lssl -lcrypto
fi
set +e
bash "$KVMRUN" --timeout 300 --dir "$OUT" -- ./ktls_vm_test
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
