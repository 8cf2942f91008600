#!/usr/bin/env bash
# Run the cgroup-sensitive tests on a cgroup v2 kernel, here, where the host's own
# engine runs on cgroup v1 (issue 13; docs/deploy.md, "Testing on cgroup v2 here").
#
#   scripts/cgroup2-guest.sh [--no-diag] [--accounting] [pytest arguments ...]
#       the selection below (--accounting: only the cases that read cgroup counters;
#       --no-diag: without the listing of a sandbox's cgroup files first)
#   scripts/cgroup2-guest.sh --probe-runtimes    # runc, crun and runsc in the guest
#   scripts/cgroup2-guest.sh --exec 'COMMAND'    # a bash command in the guest, dockerd up
#
# A QEMU guest in software emulation (TCG; /dev/kvm runs no ordinary guest here) boots
# Debian's cloud kernel with a small initramfs. Its root disk is a Debian root file
# system made by mmdebstrap (Docker engine, runc, crun, runsc, Python 3.11, the project's
# dependencies in a venv), into which a temporary second dockerd here loads the sandbox
# images (docker save from this machine's engine). Each run copies the working tree (git
# ls-files: tracked and untracked, not ignored) and ../shared onto a fresh read-only
# work disk, boots with the root disk in snapshot mode (nothing a run writes survives
# it), starts dockerd on the unified cgroup v2 hierarchy (checked: `docker info` must say
# Cgroup Version: 2), runs pytest there with CI passed through, streams the console here
# and exits with pytest's exit code (124: the guest timed out; 125: the guest failed
# before pytest ran). Problems' time limits are scaled for emulation
# (deploy/guest/pytest_guest.py).
#
# Everything built is cached in $CODEEXEC_GUEST_CACHE (default /var/cache/codeexec-guest),
# keyed by what it is made of, so a second run only boots the guest. Needs root and
# Debian's mirror (apt); the host's Docker engine is only read from (docker save), its
# cgroup v1 hierarchies are not touched. Other settings: CODEEXEC_GUEST_RUNTIME (runc,
# crun or runsc: the runtime of the guest's sandboxes), CODEEXEC_GUEST_TIME_SCALE (10),
# CODEEXEC_GUEST_CPUS / _MEMORY_MB / _TIMEOUT_S / _CPU_MODEL / _KERNEL / _APPEND.
set -euo pipefail
# Everything is in main(), read whole before it runs: editing this file (a checkout,
# a pull) while a guest runs cannot change what the rest of the run does.
main() {

REPO=$(cd "$(dirname "$0")/.." && pwd)
GUEST_FILES=$REPO/deploy/guest
CACHE=${CODEEXEC_GUEST_CACHE:-/var/cache/codeexec-guest}
VENV=${VENV:-$REPO/.venv}
CPUS=${CODEEXEC_GUEST_CPUS:-2}
CPU_MODEL=${CODEEXEC_GUEST_CPU_MODEL:-max}
MEMORY_MB=${CODEEXEC_GUEST_MEMORY_MB:-3072}
TIMEOUT_S=${CODEEXEC_GUEST_TIMEOUT_S:-1500}           # one test boot, pytest included
PREPARE_TIMEOUT_S=${CODEEXEC_GUEST_PREPARE_TIMEOUT_S:-1200}
ROOT_SIZE=${CODEEXEC_GUEST_ROOT_SIZE:-12G}            # sparse; images + test containers
IMAGE_LOAD=${CODEEXEC_GUEST_IMAGE_LOAD:-host}         # host (fast) or guest (all emulated)
RUNTIME=${CODEEXEC_GUEST_RUNTIME:-}                   # the sandboxes' runtime: runc (default), crun, runsc
case "$RUNTIME" in "" | runc | crun | runsc) ;; *) echo "CODEEXEC_GUEST_RUNTIME=$RUNTIME: runc, crun or runsc" >&2; exit 2 ;; esac
[ "$RUNTIME" = runc ] && RUNTIME=
SUITE=bookworm
MIRRORS=(
    "deb http://deb.debian.org/debian bookworm main"
    "deb http://deb.debian.org/debian bookworm-updates main"
    "deb http://deb.debian.org/debian-security bookworm-security main"
)
# The guest's own packages: no systemd (deploy/guest/guest-init is PID 1). runsc and
# crun are only registered by --probe-runtimes.
GUEST_PACKAGES=(docker.io python3.11 python3-venv iproute2 util-linux procps kmod
    ca-certificates runsc crun)
ROOTFS_RECIPE=3   # bump when the way the root file system is made changes
LANGUAGES=(python c)
# What proves accounting on v2 (python and c only: no other image is loaded): CPU time
# (TLE by CPU and by wall clock), pids (a fork bomb), memory counted whatever holds it
# (anonymous, in a child the program never waits for, shared mappings, tmpfs files,
# SysV shm, memfd) ending in MLE/OOM. Python variants where they exist: every C case
# costs a gcc run (~20 s emulated).
ACCOUNTING_CASES=(busy_loop sleep_forever fork_bomb_python memory_bomb_loop_python
    memory_bomb_block_c memory_anonymous_in_unwaited_child_c
    memory_shared_mapping_in_child_python memory_tmpfs_files_python memory_sysv_shm_python
    memory_memfd_python)
# And what does not read cgroup counters but must hold on a v2 host as well: rlimits
# that cannot be raised, the seccomp filter on every ABI, and the runner as PID 1
# cleaning up between tests (~1 minute alone, ~2 next to the host suite; --accounting
# leaves them out). Both lists are the default, and what `make test` runs.
# Measured and left out of both for time: ten_thousand_threads (10,000 Thread objects
# cost ~4 s of emulated CPU before the pids limit is reached: TLE by speed, not
# accounting) and tests/test_exec_api.py::test_limits_end_in_verdicts /
# ::test_process_limit_per_problem (both pass; 171 s and 108 s, most of it starting a
# service of their own).
MORE_CASES=(limits_cannot_be_raised every_abi_refused_c kill_everything_python
    stash_hidden_input_everywhere_python)
selection() {  # cases...
    local case
    for case in "$@"; do echo "tests/test_hostile.py::test_hostile_case[$case]"; done
}

log() { printf '[cgroup2-guest] %s\n' "$*" >&2; }
die() { log "$*"; exit 125; }
stamp() { date +%s; }
elapsed() { echo "$(($(date +%s) - $1)) s"; }
sha() { sha256sum | cut -c1-16; }

MODE=test
DIAG=1
ACCOUNTING_ONLY=
while (($#)); do
    case "$1" in
    --probe-runtimes) MODE=probe; shift ;;
    --exec) MODE=exec; EXEC_COMMAND=$2; shift 2 ;;
    --no-diag) DIAG=0; shift ;;
    --accounting) ACCOUNTING_ONLY=1; shift ;;
    --help | -h) sed -n '2,29p' "$0"; exit 0 ;;
    --) shift; break ;;
    *) break ;;
    esac
done
if (($#)); then
    PYTEST_ARGS=("$@")
elif [ -n "$ACCOUNTING_ONLY" ]; then
    mapfile -t PYTEST_ARGS < <(selection "${ACCOUNTING_CASES[@]}")
else
    mapfile -t PYTEST_ARGS < <(selection "${ACCOUNTING_CASES[@]}" "${MORE_CASES[@]}")
fi

[ "$(id -u)" = 0 ] || die "needs root (apt-get, mmdebstrap, image files)"
command -v apt-get >/dev/null || die "needs Debian's apt-get"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock -w 3600 9 || die "another run holds $CACHE/.lock"
T_ALL=$(stamp)

# Stopped on any exit: the root file system build (in the background) and the temporary
# second dockerd that loads the images.
LOAD_RUN=/run/codeexec-guest-load-$(echo "$CACHE" | sha)  # one per cache: runs may overlap
cleanup() {  # only what this script started: its own processes (by pid) and mount
    if [ -n "${ROOTFS_PID:-}" ] && kill -0 "$ROOTFS_PID" 2>/dev/null; then
        # Its own process group (see below): mmdebstrap's main process ignores TERM and
        # waits for its worker, which unmounts what it mounted in the tree and exits.
        kill -TERM -- "-$ROOTFS_PID" 2>/dev/null
        wait "$ROOTFS_PID" 2>/dev/null || true
    fi
    if [ -n "${LOAD_PID:-}" ] && kill -0 "$LOAD_PID" 2>/dev/null; then
        kill -TERM "$LOAD_PID"; wait "$LOAD_PID" 2>/dev/null || true
    fi
    if [ -n "${BOOT_PID:-}" ] && [ -s "$CACHE/qemu.pid" ]; then
        kill -TERM "$(cat "$CACHE/qemu.pid")" 2>/dev/null  # timeout(1), which stops qemu
        wait "$BOOT_PID" 2>/dev/null || true
    fi
    if mountpoint -q "$CACHE/mnt" 2>/dev/null; then umount "$CACHE/mnt" || true; fi
}
# rm -rf of a tree in which something may still be mounted (a root file system build
# killed hard leaves mmdebstrap's proc, sys and dev mounts behind): unmounted first,
# and never crossing into another file system.
remove_tree() {
    local path
    for path in "$@"; do
        [ -e "$path" ] || continue
        findmnt -rn -o TARGET | awk -v p="$(realpath "$path")" 'index($0, p "/") == 1' \
            | sort -r | while read -r m; do umount -l "$m" || true; done
        rm -rf --one-file-system "$path"
    done
}
trap cleanup EXIT
trap 'log "stopped by SIGTERM after $(elapsed "$T_ALL"): stopping what it started"; exit 143' TERM
trap 'log "stopped by SIGINT after $(elapsed "$T_ALL"): stopping what it started"; exit 130' INT

# --- host tools ---------------------------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q static || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v depmod >/dev/null || need+=(kmod)
command -v file >/dev/null || need+=(file)
if ((${#need[@]})); then
    log "installing ${need[*]} ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# (busybox-static is checked again: `file` may only just have been installed)
file -L /bin/busybox | grep -q static \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null

# --- what the guest is made of, and the keys its cached artefacts are stored under ---------------
kernel_package=${CODEEXEC_GUEST_KERNEL:-}
if [ -z "$kernel_package" ]; then
    kernel_package=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null \
        | awk '/Depends: linux-image-/ { print $2; exit }')
    if [ -z "$kernel_package" ]; then
        apt-get update -qq
        kernel_package=$(apt-cache depends linux-image-cloud-amd64 \
            | awk '/Depends: linux-image-/ { print $2; exit }')
    fi
fi
[ -n "$kernel_package" ] || die "no linux-image-*-cloud-amd64 package known to apt"
KVER=${kernel_package#linux-image-}
KDIR=$CACHE/kernel/$KVER
VMLINUZ=$KDIR/boot/vmlinuz-$KVER
INITRD_MODULES="virtio_pci virtio_blk"  # to mount the root disk; the rest load from it
INITRD_KEY=$( { echo "$KVER $INITRD_MODULES"; cat "$GUEST_FILES/initramfs-init"; ls -l /bin/busybox; } | sha)
INITRD=$CACHE/initrd-$INITRD_KEY.gz
[ -x "$VENV/bin/python" ] || die "no $VENV: run 'make $VENV/bin/.installed' (or make test) first"
REQUIREMENTS=$("$VENV/bin/python" - "$REPO/pyproject.toml" <<'EOF'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
    if not requirement.split("[")[0].startswith(("mypy", "ruff", "types-")):
        print(requirement)
EOF
)
WHEELS_KEY=$( { echo "$REQUIREMENTS"; "$VENV/bin/python" -c 'import sys; print(sys.version)'; } | sha)
WHEELS=$CACHE/wheels/$WHEELS_KEY
ROOTFS_KEY=$( { echo "$ROOTFS_RECIPE $SUITE $KVER $WHEELS_KEY"; printf '%s\n' "${GUEST_PACKAGES[@]}" "${MIRRORS[@]}"; } | sha)
BASE_IMG=$CACHE/root-base.img

# --- the guest's root file system (no sandbox images yet): mmdebstrap, in the background -----
# Its first customize hook waits for the wheels and the kernel's modules, made meanwhile.
build_rootfs() {
    local tree=$CACHE/rootfs.tmp
    remove_tree "$tree"
    rm -f "$BASE_IMG" "$BASE_IMG.key" "$CACHE/root.img" "$CACHE/root.img.key"
    CODEEXEC_WHEELS=$WHEELS CODEEXEC_KDIR=$KDIR CODEEXEC_KVER=$KVER \
    mmdebstrap --variant=minbase --quiet \
        --include="$(IFS=,; echo "${GUEST_PACKAGES[*]}")" \
        --customize-hook='for _ in $(seq 1800); do [ -e "$CODEEXEC_WHEELS/.done" ] && [ -e "$CODEEXEC_KDIR/.done" ] && break; sleep 1; done' \
        --customize-hook='mkdir -p "$1/tmp/wheels" && cp "$CODEEXEC_WHEELS"/*.whl "$1/tmp/wheels/"' \
        --customize-hook='chroot "$1" python3.11 -m venv /opt/codeexec-venv' \
        --customize-hook='chroot "$1" sh -c "/opt/codeexec-venv/bin/pip install --quiet --no-index --no-deps --disable-pip-version-check /tmp/wheels/*.whl"' \
        --customize-hook='rm -rf "$1/tmp/wheels"' \
        --customize-hook='mkdir -p "$1/usr/lib/modules" && cp -a "$CODEEXEC_KDIR/lib/modules/$CODEEXEC_KVER" "$1/usr/lib/modules/"' \
        --customize-hook='chroot "$1" depmod "$CODEEXEC_KVER"' \
        --customize-hook='mkdir -p "$1/w" "$1/var/lib/docker"' \
        "$SUITE" "$tree" "${MIRRORS[@]}" </dev/null || return 1
    rm -f "$BASE_IMG.tmp" && truncate -s "$ROOT_SIZE" "$BASE_IMG.tmp"
    mkfs.ext4 -q -F -L codeexec-root -d "$tree" "$BASE_IMG.tmp" || return 1
    mv "$BASE_IMG.tmp" "$BASE_IMG"
    remove_tree "$tree"
    echo "$ROOTFS_KEY" >"$BASE_IMG.key"
}
ROOTFS_PID=
if [ "$(cat "$BASE_IMG.key" 2>/dev/null)" != "$ROOTFS_KEY" ]; then
    T_ROOTFS=$(stamp)
    log "building the guest's root file system with mmdebstrap (Docker, Python, wheels) ..."
    set -m  # a process group of its own, so that cleanup can stop all of it
    build_rootfs &
    ROOTFS_PID=$!
    set +m
fi

# --- the kernel: Debian's cloud kernel, taken apart ----------------------------------------
if [ ! -e "$KDIR/.done" ]; then
    T=$(stamp)
    log "fetching $kernel_package ..."
    rm -rf "$CACHE/kernel" && mkdir -p "$KDIR/deb"
    (cd "$KDIR/deb" && apt-get download "$kernel_package" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
    ls "$KDIR"/deb/*.deb >/dev/null 2>&1 || die "apt-get download $kernel_package failed"
    dpkg-deb -x "$KDIR"/deb/*.deb "$KDIR"
    rm -rf "$KDIR/deb"
    depmod -b "$KDIR" "$KVER"
    touch "$KDIR/.done"
    log "kernel $KVER ready ($(elapsed "$T"))"
fi

# --- the initramfs: busybox, the virtio drivers, deploy/guest/initramfs-init ----------------
if [ ! -e "$INITRD" ]; then
    staging=$CACHE/initrd.tmp
    rm -rf "$staging" && mkdir -p "$staging/bin" "$staging/modules"
    cp /bin/busybox "$staging/bin/busybox"
    cp "$GUEST_FILES/initramfs-init" "$staging/init" && chmod 755 "$staging/init"
    : >"$staging/modules.order"
    # insmod lines in dependency order; built-in ones are skipped.
    modprobe -a -d "$KDIR" -S "$KVER" --show-depends $INITRD_MODULES \
        | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' | while read -r ko; do
            cp "$ko" "$staging/modules/"
            echo "/modules/$(basename "$ko")" >>"$staging/modules.order"
        done
    [ -s "$staging/modules.order" ] || die "no virtio modules found in $KDIR"
    (cd "$staging" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp"
    mv "$INITRD.tmp" "$INITRD"
    rm -rf "$staging"
    find "$CACHE" -maxdepth 1 -name 'initrd-*.gz' ! -name "$(basename "$INITRD")" -delete
    log "initramfs ready ($(du -h "$INITRD" | cut -f1))"
fi

# --- the project's dependencies as wheels, built with the host's venv -------------------------
if [ ! -e "$WHEELS/.done" ]; then
    T=$(stamp)
    log "building wheels for the guest ..."
    rm -rf "$CACHE/wheels" && mkdir -p "$WHEELS"
    printf '%s\n' "$REQUIREMENTS" >"$WHEELS/requirements.txt"
    "$VENV/bin/python" -m pip wheel --quiet --disable-pip-version-check \
        --wheel-dir "$WHEELS" -r "$WHEELS/requirements.txt" 2>&1 \
        | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2
    touch "$WHEELS/.done"
    log "$(ls "$WHEELS"/*.whl | wc -l) wheels ready ($(elapsed "$T"))"
fi

if [ -n "$ROOTFS_PID" ]; then
    rc=0
    wait "$ROOTFS_PID" || rc=$?
    ROOTFS_PID=
    [ "$rc" = 0 ] || die "building the root file system failed ($rc)"
    log "root file system ready ($(elapsed "$T_ROOTFS"); $(du -h "$BASE_IMG" | cut -f1) used of $ROOT_SIZE)"
fi

# --- a work disk: the working tree, ../shared, guest-init and this run's job -------------------
make_work_disk() {  # mode
    local staging=$CACHE/work.tmp img=$CACHE/work.img
    rm -rf "$staging" "$img" && mkdir -p "$staging/main"
    if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$REPO" ls-files -z -co --exclude-standard \
            | while IFS= read -r -d '' f; do [ -e "$REPO/$f" ] && printf '%s\0' "$f"; done \
            | tar -C "$REPO" --null -T - -cf - | tar -C "$staging/main" -xf -
    else
        tar -C "$REPO" --exclude=.venv --exclude=.git --exclude=build --exclude=dist \
            --exclude='*.sqlite3*' --exclude=__pycache__ -cf - . | tar -C "$staging/main" -xf -
    fi
    # Bytecode made here (same Python 3.11 as the guest's), recorded with the paths the
    # guest sees: every Python process there (pytest, screening workers) would compile
    # the sources again under emulation, ~5 s each.
    "$VENV/bin/python" -m compileall -q -j 0 -s "$staging/main" -p /w/main \
        "$staging/main/codeexec" "$staging/main/tests" "$staging/main/deploy/guest" >/dev/null \
        || log "compileall failed; the guest compiles the sources itself"
    [ -d "$REPO/../shared" ] && cp -a "$REPO/../shared" "$staging/shared"
    cp "$GUEST_FILES/guest-init" "$staging/guest-init" && chmod 755 "$staging/guest-init"
    {
        printf 'MODE=%q\nDIAG=%q\nCI=%q\nEXEC_COMMAND=%q\nTIME_SCALE=%q\nRUNTIME=%q\n' "$1" \
            "$DIAG" "${CI:-}" "${EXEC_COMMAND:-}" "${CODEEXEC_GUEST_TIME_SCALE:-10}" "$RUNTIME"
        printf 'PYTEST_ARGS=('; printf '%q ' "${PYTEST_ARGS[@]}"; printf ')\n'
    } >"$staging/job.sh"
    local mb
    mb=$(($(du -sm "$staging" | cut -f1) * 2 + 32))
    truncate -s "${mb}M" "$img"
    mkfs.ext4 -q -F -L codeexec-work -d "$staging" "$img"
    rm -rf "$staging"
}

# --- booting ----------------------------------------------------------------------------------
CMDLINE="console=ttyS0 panic=-1 quiet mitigations=off cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 ${CODEEXEC_GUEST_APPEND:-}"
boot() {  # timeout_s log_file drive-options...
    local timeout_s=$1 log_file=$2; shift 2
    local drives=()
    for d in "$@"; do drives+=(-drive "if=virtio,format=raw,cache=unsafe,$d"); done
    # In the background and waited for, so a signal to this script stops the guest at once
    # (see cleanup); qemu's own status comes back through a file.
    rm -f "$CACHE/qemu.status" "$CACHE/qemu.pid"
    {
        timeout -k 10 "$timeout_s" qemu-system-x86_64 -nodefaults -no-user-config \
            -accel tcg,thread=multi -cpu "$CPU_MODEL" -smp "$CPUS" -m "$MEMORY_MB" \
            -display none -monitor none -serial stdio -no-reboot -nic none \
            -device virtio-rng-pci \
            -kernel "$VMLINUZ" -initrd "$INITRD" -append "$CMDLINE" \
            "${drives[@]}" </dev/null 2>&1 &
        echo $! >"$CACHE/qemu.pid"
        qemu_status=0
        wait $! || qemu_status=$?
        echo "$qemu_status" >"$CACHE/qemu.status"
    } | sed -u 's/\r$//' | tee "$log_file" &
    BOOT_PID=$!
    wait "$BOOT_PID" || true
    BOOT_PID=
    local status
    status=$(cat "$CACHE/qemu.status" 2>/dev/null || echo 255)
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
        log "the guest did not finish within ${timeout_s} s: stopped"
        return 124
    fi
    local rc
    rc=$(sed -n 's/^codeexec-guest: exit=\([0-9]*\)$/\1/p' "$log_file" | tail -1)
    if [ -z "$rc" ]; then
        log "the guest stopped without an exit status (qemu: $status)"
        return 125
    fi
    return "$rc"
}

# --- the sandbox images, loaded once into a copy of the root disk -----------------------------
# A second dockerd on this machine, of the same version as the guest's, with its data
# root on the guest's root disk (loop-mounted): `docker load` at native speed instead of
# ~10 min under emulation. Own socket, exec root and containerd; no bridge, no iptables,
# no containers: the machine's own engine is not touched. It runs in a network namespace
# of its own: a dockerd started with --bridge=none deletes the docker0 interface of the
# namespace it is in, which here is the machine's engine's default bridge (every later
# `docker run` or `docker build` with a network then fails with "could not find bridge
# docker0"; tests/alt_daemon.py found the same). Falls back to loading in the guest.
load_on_host() {  # root disk image
    local img=$1 mnt=$CACHE/mnt sock=unix://$LOAD_RUN/docker.sock pid rc=0
    mkdir -p "$mnt" "$LOAD_RUN"
    mount -o loop "$img" "$mnt" || return 1
    echo '{}' >"$LOAD_RUN/daemon.json"  # not the machine's /etc/docker/daemon.json
    unshare --net -- dockerd --host="$sock" --data-root="$mnt/var/lib/docker" --exec-root="$LOAD_RUN/exec" \
        --config-file="$LOAD_RUN/daemon.json" --pidfile="$LOAD_RUN/dockerd.pid" --bridge=none --iptables=false --ip6tables=false \
        --ip-masq=false --storage-driver=overlay2 --log-level=warn \
        >"$CACHE/load-dockerd.log" 2>&1 </dev/null &
    pid=$!
    LOAD_PID=$pid
    for _ in $(seq 240); do docker -H "$sock" info >/dev/null 2>&1 && break; sleep 0.25; done
    if docker -H "$sock" info >/dev/null 2>&1; then
        docker save "${IMAGE_TAGS[@]}" | docker -H "$sock" load -q >&2 || rc=1
        docker -H "$sock" images --format '  {{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}' >&2 || rc=1
    else
        rc=1
    fi
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    LOAD_PID=
    umount "$mnt" || { sleep 2; umount "$mnt"; } || rc=1
    return "$rc"
}

T=$(stamp)
if [ -n "${CODEEXEC_GUEST_IMAGES_LOCK:-}" ]; then  # scripts/test.sh is building them
    flock "$CODEEXEC_GUEST_IMAGES_LOCK" true || true
fi
stale=$(cd "$REPO" && "$VENV/bin/python" - "${LANGUAGES[@]}" <<'EOF'
import sys
import docker
from codeexec.config import Settings
from codeexec.sandbox.images import DIGEST_LABEL
from codeexec.sandbox.languages import discover_languages
settings = Settings()
languages = discover_languages(settings.sandbox.languages_dir)
client = docker.from_env()
for name in sys.argv[1:]:
    try:
        labels = client.images.get(languages[name].image_tag(settings.sandbox.image_prefix)).labels or {}
    except docker.errors.ImageNotFound:
        labels = {}
    if labels.get(DIGEST_LABEL) != languages[name].context_digest():
        print(name)
EOF
) || die "cannot ask the host's Docker engine about the sandbox images"
if [ -n "$stale" ]; then
    log "building sandbox images on the host: $(echo $stale) ..."
    (cd "$REPO" && CODEEXEC_SANDBOX_BASE=${CODEEXEC_SANDBOX_BASE:-local/debian:bookworm-slim} \
        "$VENV/bin/codeexec" images build $stale) >&2
fi
IMAGE_TAGS=()
for language in "${LANGUAGES[@]}"; do IMAGE_TAGS+=("codeexec-sandbox/$language"); done
IMAGES_KEY=$( { echo "$ROOTFS_KEY"; docker image inspect --format '{{.Id}}' "${IMAGE_TAGS[@]}"; } | sha)
ROOT_IMG=$CACHE/root.img
if [ "$(cat "$ROOT_IMG.key" 2>/dev/null)" != "$IMAGES_KEY" ]; then
    T=$(stamp)
    rm -f "$ROOT_IMG" "$ROOT_IMG.key" "$ROOT_IMG.tmp" "$CACHE/images.tar"
    cp --sparse=always "$BASE_IMG" "$ROOT_IMG.tmp"
    loaded=
    if [ "$IMAGE_LOAD" = host ]; then
        log "loading ${IMAGE_TAGS[*]} into the root disk with a temporary second dockerd here ..."
        if load_on_host "$ROOT_IMG.tmp"; then
            loaded=1
        else
            log "that failed (see $CACHE/load-dockerd.log); loading them in the guest instead"
            cp --sparse=always "$BASE_IMG" "$ROOT_IMG.tmp"
        fi
    fi
    if [ -z "$loaded" ]; then
        log "loading ${IMAGE_TAGS[*]} in the guest (docker save here, docker load there; slow) ..."
        docker save "${IMAGE_TAGS[@]}" -o "$CACHE/images.tar"
        make_work_disk prepare
        rc=0
        boot "$PREPARE_TIMEOUT_S" "$CACHE/prepare.log" "file=$ROOT_IMG.tmp" \
            "file=$CACHE/work.img,readonly=on" "file=$CACHE/images.tar,readonly=on" || rc=$?
        rm -f "$CACHE/images.tar" "$CACHE/work.img"
        [ "$rc" = 0 ] || { rm -f "$ROOT_IMG.tmp"; die "loading the images failed ($rc); see $CACHE/prepare.log"; }
    fi
    mv "$ROOT_IMG.tmp" "$ROOT_IMG"
    echo "$IMAGES_KEY" >"$ROOT_IMG.key"
    log "images loaded ($(elapsed "$T"))"
fi
log "artefacts ready ($(elapsed "$T_ALL") so far)"

# --- the run ------------------------------------------------------------------------------------
T=$(stamp)
make_work_disk "$MODE"
log "booting the guest (TCG, $CPUS vCPUs, $MEMORY_MB MB, kernel $KVER, timeout ${TIMEOUT_S} s) ..."
rc=0
RUN_LOG=$CACHE/$MODE${RUNTIME:+-$RUNTIME}.log
boot "$TIMEOUT_S" "$RUN_LOG" "file=$ROOT_IMG,snapshot=on" \
    "file=$CACHE/work.img,readonly=on" || rc=$?
rm -f "$CACHE/work.img"
log "guest finished with $rc after $(elapsed "$T") (total $(elapsed "$T_ALL")); log: $RUN_LOG"
exit "$rc"
}

main "$@"
