#!/usr/bin/env bash
# kvm-run: run a command inside a throw-away qemu VM (TCG software emulation,
# no /dev/kvm needed) booted from Debian bookworm's own kernel package
# (linux-image-6.1.*-amd64), which has kTLS (CONFIG_TLS=m) and io_uring.
# ringwire's kTLS tests (tests/ktls_vm/) run through it. See README.md here.
#
#   run.sh [options] -- COMMAND [ARGS...]
#
# Exit status: COMMAND's exit status; 124 on timeout; 125 when the VM could
# not run the command (harness error, guest kernel panic, ...).
set -euo pipefail

ME=kvm-run
CACHE=${KVMRUN_CACHE:-/var/cache/kvm-run}
KPKG=${KVMRUN_KERNEL_PKG:-}
TIMEOUT=${KVMRUN_TIMEOUT:-600}
MEM=${KVMRUN_MEM:-1024}
SMP=${KVMRUN_SMP:-2}
CACHE_FORMAT=6          # bump when the cached per-kernel files change shape
DIR=
HOSTFS=0
WITH=()
ENVS=()
MODS=(tls)
BASE_MODS=(virtio_pci virtio_console)   # fast output channel (virtio-serial)
VERBOSE=0
QUIET=0
KEEP=0
APPEND_EXTRA=

usage() {
    cat <<'EOF'
usage: run.sh [options] -- COMMAND [ARGS...]

Boots Debian bookworm's kernel (linux-image-6.1.*-amd64) under qemu (TCG, no
KVM needed) with a busybox initramfs, loads the tls module, brings up lo,
runs COMMAND (through /bin/sh, as root), then powers the VM off.  COMMAND's
stdout+stderr (merged) appear on this script's stdout, and the script exits
with COMMAND's exit status.  The VM has no network device: only loopback.

options:
  --dir DIR        copy DIR into the VM at the same absolute path and run
                   COMMAND there (cwd); the shared libraries of every ELF
                   file in DIR are copied along (ldd).  Changes made in the
                   VM are discarded.  With --hostfs: DIR is shared
                   read-write instead (results come back to the host).
  --with PATH      also copy a host file or directory (e.g. /usr/bin/openssl)
                   with its shared libraries; repeatable.  A COMMAND given as
                   an absolute path or found in PATH (and not a busybox
                   applet) is copied automatically.
  --hostfs         instead of copying: the VM sees the host's whole
                   filesystem read-only over virtio-9p (same paths, same
                   bash/python/openssl/...), with fresh tmpfs on /tmp,
                   /var/tmp and /run, and --dir DIR read-write.
  --env NAME=VAL   set an environment variable for COMMAND; repeatable
  --module NAME    modprobe another kernel module first; repeatable (tls is
                   always loaded; crypto modules are loaded on demand)
  --timeout SEC    kill the VM after SEC seconds (default 600) -> exit 124
  --mem MB         guest memory (default 1024)
  --smp N          guest CPUs (default 2)
  --append ARGS    extra kernel command line arguments
  --verbose        print the guest kernel console log afterwards (stderr)
  --quiet          no timing summary line on stderr
  --keep           keep the per-run work dir (initrd, console log)
  -h, --help       this text
environment: KVMRUN_CACHE (default /var/cache/kvm-run), KVMRUN_KERNEL_PKG
  (e.g. linux-image-6.1.0-56-amd64; default: what linux-image-amd64 depends
  on, remembered in the cache), KVMRUN_TIMEOUT, KVMRUN_MEM, KVMRUN_SMP,
  KVMRUN_QEMU_ARGS (extra qemu arguments), KVMRUN_NO_PVH=1 (boot the
  compressed bzImage instead of the extracted vmlinux; ~2 s slower).
EOF
}

die() { echo "$ME: $*" >&2; exit 125; }
log() { [ "$QUIET" = 1 ] || echo "$ME: $*" >&2; }

while [ $# -gt 0 ]; do
    case $1 in
        --dir) DIR=$2; shift 2 ;;
        --dir=*) DIR=${1#*=}; shift ;;
        --with) WITH+=("$2"); shift 2 ;;
        --with=*) WITH+=("${1#*=}"); shift ;;
        --hostfs) HOSTFS=1; shift ;;
        --env) ENVS+=("$2"); shift 2 ;;
        --env=*) ENVS+=("${1#*=}"); shift ;;
        --module) MODS+=("$2"); shift 2 ;;
        --module=*) MODS+=("${1#*=}"); shift ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --timeout=*) TIMEOUT=${1#*=}; shift ;;
        --mem) MEM=$2; shift 2 ;;
        --mem=*) MEM=${1#*=}; shift ;;
        --smp) SMP=$2; shift 2 ;;
        --smp=*) SMP=${1#*=}; shift ;;
        --append) APPEND_EXTRA=$2; shift 2 ;;
        --append=*) APPEND_EXTRA=${1#*=}; shift ;;
        --verbose|-v) VERBOSE=1; shift ;;
        --quiet|-q) QUIET=1; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        -*) usage >&2; die "unknown option $1" ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { usage >&2; die "no command given"; }
for e in "${ENVS[@]}"; do [[ $e == [A-Za-z_]*=* ]] || die "--env $e: expected NAME=VALUE"; done

# ------------------------------------------------------------ host packages
APT_UPDATED=0
apt_update() {
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        apt-get update -qq >&2 || die "apt-get update failed"
        APT_UPDATED=1
    fi
}
need_pkgs() {   # need_pkgs CMD:PKG ... (installs PKG when CMD is missing)
    local miss=() p
    for p in "$@"; do command -v "${p%%:*}" >/dev/null 2>&1 || miss+=("${p#*:}"); done
    [ ${#miss[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "missing packages ${miss[*]} (run as root to auto-install)"
    apt_update
    log "installing ${miss[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${miss[@]}" >&2 \
        || die "apt-get install ${miss[*]} failed"
}
need_pkgs qemu-system-x86_64:qemu-system-x86 cpio:cpio xz:xz-utils timeout:coreutils \
    ldd:libc-bin flock:util-linux dpkg-deb:dpkg
# the guest userland is a *static* busybox (package busybox-static)
BUSYBOX=/bin/busybox
if [ ! -x "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
    need_pkgs busybox-static-is-required:busybox-static
fi

# ------------------------------------------------------ kernel (cached once)
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ -z "$KPKG" ] && [ -s "$CACHE/default-kernel" ]; then KPKG=$(cat "$CACHE/default-kernel"); fi
if [ -z "$KPKG" ]; then
    resolve() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
    KPKG=$(resolve || true)
    if [ -z "$KPKG" ]; then apt_update; KPKG=$(resolve || true); fi
    [ -n "$KPKG" ] || die "cannot resolve linux-image-amd64 (set KVMRUN_KERNEL_PKG)"
    echo "$KPKG" > "$CACHE/default-kernel"
fi
KC=$CACHE/$KPKG
if [ "$(cat "$KC/format" 2>/dev/null)" != "$CACHE_FORMAT" ]; then
    log "preparing $KPKG in $KC (one-time, ~15 s)"
    T=$KC.tmp
    rm -rf "$T"; mkdir -p "$T/dl" "$T/x"
    ( cd "$T/dl" && apt-get download -qq -o APT::Sandbox::User=root "$KPKG" >&2 ) || {
        apt_update; ( cd "$T/dl" && apt-get download -qq -o APT::Sandbox::User=root "$KPKG" >&2 ) || die "apt-get download $KPKG failed"; }
    # unpack only: no maintainer scripts, no initramfs/bootloader hooks
    dpkg-deb -x "$T"/dl/*.deb "$T/x"
    KVER=$(ls "$T/x/lib/modules" | head -n1)
    [ -n "$KVER" ] && [ -f "$T/x/boot/vmlinuz-$KVER" ] || die "unexpected layout in $KPKG"
    cp "$T/x/boot/vmlinuz-$KVER" "$T/vmlinuz"
    cp "$T/x/boot/config-$KVER" "$T/config"
    echo "$KVER" > "$T/kver"
    # uncompressed ELF vmlinux for qemu's PVH entry: skips the in-guest xz
    # decompression, which costs ~2 s under TCG
    if grep -q '^CONFIG_PVH=y' "$T/config"; then
        off=$(LC_ALL=C grep -abo $'\xfd7zXZ' "$T/vmlinuz" | head -n1 | cut -d: -f1 || true)
        xs=1
        if [ -n "$off" ]; then
            set +o pipefail
            tail -c +$((off + 1)) "$T/vmlinuz" | xz -dc --single-stream > "$T/vmlinux" 2>/dev/null
            xs=${PIPESTATUS[1]}
            set -o pipefail
        fi
        [ "$xs" = 0 ] && [ "$(head -c4 "$T/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || rm -f "$T/vmlinux"
    fi
    # modules: kTLS + the crypto the kernel asks for on demand (+ virtio and
    # 9p for --hostfs); modules.dep/alias made by busybox depmod so that the
    # kernel's request_module() -> /sbin/modprobe (busybox) works in the VM
    R=$T/root
    M=lib/modules/$KVER
    mkdir -p "$R/usr/$M"
    for d in bin sbin lib lib64; do mkdir -p "$R/usr/$d"; ln -s "usr/$d" "$R/$d"; done
    ( cd "$T/x/$M" && cp --parents -r kernel/net/tls kernel/crypto kernel/arch/x86/crypto \
        kernel/lib/crypto kernel/net/9p kernel/fs/9p kernel/fs/netfs kernel/fs/fscache \
        kernel/drivers/virtio kernel/drivers/char/hw_random kernel/drivers/char/virtio_console.ko kernel/net/sched \
        modules.builtin modules.order "$R/usr/$M/" )
    find "$R/usr/$M" -name '*.ko.xz' -exec xz -d {} + 2>/dev/null || true
    find "$R/usr/$M" -name '*.ko.zst' -exec zstd -q -d --rm {} + 2>/dev/null || true
    "$BUSYBOX" depmod -b "$R" "$KVER" || die "depmod failed"
    ( cd "$R" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet ) > "$T/modules.cpio"
    rm -rf "$T/x" "$T/dl" "$R"
    echo "$CACHE_FORMAT" > "$T/format"
    rm -rf "$KC"; mv "$T" "$KC"
fi
flock -u 9
KVER=$(cat "$KC/kver")
KERNEL=$KC/vmlinuz
[ -s "$KC/vmlinux" ] && [ "${KVMRUN_NO_PVH:-0}" != 1 ] && KERNEL=$KC/vmlinux

# -------------------------------------------------------- per-run initramfs
W=$(mktemp -d /tmp/kvm-run.XXXXXX)
QPID='' TPID=''
cleanup() {
    [ -z "$QPID" ] || kill "$QPID" 2>/dev/null || true
    [ -z "$TPID" ] || kill "$TPID" 2>/dev/null || true
    if [ "$KEEP" = 1 ]; then echo "$ME: work dir kept: $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
S=$W/stage
mkdir -p "$S/usr"/{bin,sbin,lib,lib64} "$S"/{etc,proc,sys,dev,tmp,run,root,mnt,host,kvmrun}
chmod 1777 "$S/tmp"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$S/$d"; done   # (not archived: in modules.cpio)
cp "$BUSYBOX" "$S/usr/bin/busybox"

# host path -> same path in the stage, directory part canonicalised so that
# the usr-merge symlinks (lib -> usr/lib, ...) are never replaced
stage_path() { local d; d=$(realpath -m -- "$(dirname -- "$1")"); printf '%s%s/%s' "$S" "$d" "$(basename -- "$1")"; }
declare -A SEEN_LIB=()
copy_lib() {
    local lib=$1 dst
    [ -n "${SEEN_LIB[$lib]:-}" ] && return 0
    SEEN_LIB[$lib]=1
    dst=$(stage_path "$lib")
    mkdir -p -- "$(dirname -- "$dst")"
    cp -L -- "$lib" "$dst"
}
add_libs_of() {   # shared libraries needed by ELF file $1
    local line lib
    [ "$(head -c4 -- "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ] || return 0
    while IFS= read -r line; do
        case $line in
            *"=> not found"*) echo "$ME: warning: $1 needs ${line%% =>*}: not found on host" >&2; continue ;;
            *"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
            /*) lib=${line%% (*} ;;
            *) continue ;;
        esac
        copy_lib "${lib//[[:space:]]/}"
    done < <(ldd -- "$1" 2>/dev/null | sed 's/^[[:space:]]*//')
}
add_tree_libs() {
    local f
    while IFS= read -r -d '' f; do add_libs_of "$f"; done \
        < <(find "$1" -type f \( -perm /111 -o -name '*.so' -o -name '*.so.*' \) -print0)
}
add_host_path() {
    local p=$1 dst
    [ -e "$p" ] || die "--with $p: no such file or directory"
    p=$(realpath -s -- "$p")
    dst=$(stage_path "$p")
    mkdir -p -- "$(dirname -- "$dst")"
    if [ -d "$p" ]; then
        mkdir -p -- "$dst"; cp -a -- "$p/." "$dst/"; add_tree_libs "$p"
    else
        cp -L -- "$p" "$dst"; chmod u+w -- "$dst"; add_libs_of "$p"
    fi
}

CWD=/
[ -z "$DIR" ] || { [ -d "$DIR" ] || die "--dir $DIR: not a directory"; CWD=$(realpath -- "$DIR"); }
if [ "$HOSTFS" = 0 ]; then
    # glibc dlopen()s libgcc_s for pthread_cancel/unwinding; ldd misses it
    for f in /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libgcc_s.so.1; do
        [ -e "$f" ] && copy_lib "$f"
    done
    if [ -n "$DIR" ]; then
        mkdir -p "$S$CWD"; cp -a -- "$CWD/." "$S$CWD/"; add_tree_libs "$CWD"
    fi
    for p in "${WITH[@]}"; do add_host_path "$p"; done
    # bring the command itself along when it lives on the host
    if [[ $1 == /* ]]; then
        [ -e "$S$1" ] || { [ -f "$1" ] && add_host_path "$1"; }
    elif [[ $1 != */* ]] && ! "$BUSYBOX" --list | grep -qxF -- "$1"; then
        p=$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v -- "$1" || true)
        [[ $p == /* ]] && [ ! -e "$S$p" ] && add_host_path "$p"
    fi
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$S/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$S/etc/group"
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$S/etc/hosts"
    printf 'passwd: files\ngroup: files\nhosts: files\n' > "$S/etc/nsswitch.conf"
    echo initramfs > "$S/kvmrun/mode"
else
    [ ${#WITH[@]} -eq 0 ] || log "note: --with is not needed with --hostfs (ignored)"
    echo hostfs > "$S/kvmrun/mode"
    [ -z "$DIR" ] || echo "$CWD" > "$S/kvmrun/rwdir"
    BASE_MODS+=(9pnet_virtio 9p)
fi

sq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
{
    echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    echo "export HOME=/root TERM=dumb LANG=C.UTF-8 KVMRUN=1"
    for e in "${ENVS[@]}"; do echo "export ${e%%=*}=$(sq "${e#*=}")"; done
    echo "cd $(sq "$CWD") || exit 125"
    printf 'exec'
    for a in "$@"; do printf ' %s' "$(sq "$a")"; done
    echo
} > "$S/kvmrun/cmd"
printf '%s\n' "${BASE_MODS[@]}" "${MODS[@]}" > "$S/kvmrun/modules"

cat > "$S/init" <<'EOF'
#!/usr/bin/busybox sh
# kvm-run guest init: set up, run /kvmrun/cmd, report on ttyS2, power off.
/usr/bin/busybox --install -s 2>/dev/null
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
echo /sbin/modprobe > /proc/sys/kernel/modprobe
ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
hostname kvm-run
ip link set lo up
ST=/dev/ttyS2
stty -F /dev/ttyS1 raw -echo 2>/dev/null; stty -F $ST raw -echo 2>/dev/null
for m in $(cat /kvmrun/modules); do
    modprobe "$m" || echo "kvm-run: modprobe $m failed" > /dev/ttyS1
done
# COMMAND output goes to the virtio-serial port "kvmrun.out" (MB/s); the
# 16550 UART ttyS1 (~100 KB/s under TCG) is only the fallback
OUT=
i=0
while [ -z "$OUT" ] && [ $i -lt 100 ]; do
    for p in /sys/class/virtio-ports/*; do
        [ "$(cat $p/name 2>/dev/null)" = kvmrun.out ] && [ -c /dev/${p##*/} ] && OUT=/dev/${p##*/}
    done
    [ -n "$OUT" ] || { i=$((i+1)); usleep 20000; }
done
[ -n "$OUT" ] || { OUT=/dev/ttyS1; echo "kvm-run: no virtio port, output via ttyS1 (slow)" > $OUT; }
ROOT=/; SH="/usr/bin/busybox sh"
if [ "$(cat /kvmrun/mode)" = hostfs ]; then
    o=trans=virtio,version=9p2000.L,msize=512000
    mount -t 9p -o $o,ro,cache=loose hostroot /host || echo "kvm-run: mounting host / failed" > $OUT
    mount -t proc proc /host/proc
    mount -t sysfs sysfs /host/sys
    mount -t devtmpfs devtmpfs /host/dev
    mount -t devpts devpts /host/dev/pts
    mount -t tmpfs tmpfs /host/dev/shm
    for d in /tmp /var/tmp /run; do mount -t tmpfs -o mode=1777 tmpfs /host$d; done
    chmod 755 /host/run
    if [ -s /kvmrun/rwdir ]; then
        d=$(cat /kvmrun/rwdir)
        mkdir -p "/host$d" 2>/dev/null
        mount -t 9p -o $o rwdir "/host$d" || echo "kvm-run: mounting $d read-write failed" > $OUT
    fi
    ROOT=/host; SH=/bin/sh
fi
mkdir -p $ROOT/run/kvmrun && cp /kvmrun/cmd $ROOT/run/kvmrun/cmd
echo "KVMRUN_START $(cut -d' ' -f1 /proc/uptime) $(uname -r)" > $ST
echo 125 > /run/rc
{ chroot $ROOT $SH /run/kvmrun/cmd </dev/null 2>&1; echo $? > /run/rc; } | tee $OUT | wc -c > /run/nbytes
echo "KVMRUN_EXIT $(cat /run/rc) $(cut -d' ' -f1 /proc/uptime) $(cat /run/nbytes)" > $ST
sync
poweroff -f
EOF
chmod 755 "$S/init"

( cd "$S" && find . -mindepth 1 ! -path ./bin ! -path ./sbin ! -path ./lib ! -path ./lib64 \
    | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet ) > "$W/run.cpio"
cat "$KC/modules.cpio" "$W/run.cpio" > "$W/initrd.cpio"
rm -rf "$S" "$W/run.cpio"
isz=$(( $(stat -c %s "$W/initrd.cpio") / 1048576 ))
[ $((isz * 3)) -lt "$MEM" ] || log "warning: initramfs is ${isz} MiB for ${MEM} MiB of guest memory: use a smaller --dir, --hostfs or --mem"
: > "$W/status"; : > "$W/console.log"; : > "$W/out"; : > "$W/out.serial"

# ---------------------------------------------------------------------- boot
# -nodefaults: no NIC (hence no user-mode networking), no VGA, no monitor.
# ttyS0 = kernel console -> console.log; virtio-serial port kvmrun.out =
# COMMAND output -> out (streamed to stdout by tail); ttyS1 = fallback output
# -> out.serial; ttyS2 = status lines -> status.
# shellcheck disable=SC2054  # commas are qemu syntax
QARGS=(-nodefaults -no-user-config -display none -no-reboot
    -machine pc -accel tcg,thread=multi -cpu max -smp "$SMP" -m "$MEM"
    -kernel "$KERNEL" -initrd "$W/initrd.cpio"
    -append "console=ttyS0 quiet loglevel=4 panic=-1 mitigations=off tsc=reliable cryptomgr.notests $APPEND_EXTRA"
    -serial "file:$W/console.log" -serial "file:$W/out.serial" -serial "file:$W/status"
    -device virtio-serial-pci -chardev "file,id=kvmrunout,path=$W/out"
    -device virtserialport,chardev=kvmrunout,name=kvmrun.out)
if [ "$HOSTFS" = 1 ]; then
    # shellcheck disable=SC2054
    QARGS+=(-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
            -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot)
    # shellcheck disable=SC2054
    [ -z "$DIR" ] || QARGS+=(-fsdev "local,id=rwdir,path=${CWD//,/,,},security_model=none,multidevs=remap"
            -device virtio-9p-pci,fsdev=rwdir,mount_tag=rwdir)
fi
# shellcheck disable=SC2206
[ -z "${KVMRUN_QEMU_ARGS:-}" ] || QARGS+=($KVMRUN_QEMU_ARGS)

T0=$(date +%s.%N)
set +e
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 "${QARGS[@]}" </dev/null &
QPID=$!
# stream COMMAND's output live; tail exits (after a last read) once qemu is gone
tail -q -n +1 -s 0.2 -f --pid="$QPID" "$W/out.serial" "$W/out" &
TPID=$!
wait "$QPID"
QRC=$?
wait "$TPID"
QPID='' TPID=''
set -e
T1=$(date +%s.%N)

rc=$(awk '$1=="KVMRUN_EXIT"{print $2}' "$W/status" | tail -n1)
start=$(awk '$1=="KVMRUN_START"{print $2}' "$W/status" | tail -n1)
end=$(awk '$1=="KVMRUN_EXIT"{print $3}' "$W/status" | tail -n1)
nbytes=$(awk '$1=="KVMRUN_EXIT"{print $4}' "$W/status" | tail -n1)
got=$(( $(stat -c %s "$W/out") + $(stat -c %s "$W/out.serial") ))
if [ -n "$nbytes" ] && [ "$got" -lt "$nbytes" ]; then
    echo "$ME: warning: output truncated: got $got of $nbytes bytes" >&2
fi
if [ "$VERBOSE" = 1 ]; then
    echo "----- $ME: guest console -----" >&2; tr -d '\r' < "$W/console.log" >&2; echo "-----" >&2
fi
if [ -z "$rc" ]; then
    if [ "$QRC" = 124 ] || [ "$QRC" = 137 ]; then
        echo "$ME: timeout after ${TIMEOUT}s" >&2; rc=124
    else
        echo "$ME: VM ended without an exit status (qemu rc=$QRC)" >&2; rc=125
    fi
    [ "$VERBOSE" = 1 ] || { echo "----- $ME: guest console (tail) -----" >&2; tr -d '\r' < "$W/console.log" | tail -n 40 >&2; }
fi
[ "$QUIET" = 1 ] || awk -v t0="$T0" -v t1="$T1" -v s="$start" -v e="$end" -v k="$KVER" -v rc="$rc" 'BEGIN{
    if (s != "" && e != "")
        printf "kvm-run: kernel %s, boot %.1fs (guest uptime at command start), command %.1fs, total wall %.1fs, exit %s\n", k, s, e-s, t1-t0, rc > "/dev/stderr"
    else
        printf "kvm-run: kernel %s, total wall %.1fs, exit %s\n", k, t1-t0, rc > "/dev/stderr"
}'
exit "$rc"
