#!/usr/bin/env bash
# Provision what the test suite needs on a Debian machine, as environment.md shows:
# a Docker engine, the offline base image (no registry needed), a MariaDB server and Podman.
# Idempotent: a second run only checks that everything is up (a few seconds).
# Without root or apt-get it only reports what is missing (tests then skip, except in CI).
set -euo pipefail

log() { printf '[provision] %s\n' "$*"; }

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
command -v mysqld_safe >/dev/null 2>&1 || missing+=(mariadb-server)
command -v podman >/dev/null 2>&1 || missing+=(podman)  # tests/test_podman.py: the Docker-compatible API
command -v runsc >/dev/null 2>&1 || missing+=(runsc)    # tests/test_runtimes.py: gVisor
command -v crun >/dev/null 2>&1 || missing+=(crun)      # tests/test_runtimes.py
command -v npm >/dev/null 2>&1 || missing+=(npm)        # frontend/: the / and /docs pages (scripts/frontend.sh)
[ -x /usr/bin/chromium ] || missing+=(chromium)         # tests/test_web.py: the page in a real browser
command -v pandoc >/dev/null 2>&1 || missing+=(pandoc)  # LaTeX statements as HTML (tests/unit/test_statements.py)

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    if ((${#missing[@]})); then
        log "not root on Debian; cannot install: ${missing[*]}"
    fi
    exit 0
fi

if ((${#missing[@]})); then
    log "installing ${missing[*]} ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The other container runtimes, registered with the engine under "runtimes" of
# /etc/docker/daemon.json (merged into what is there; written to a temporary file and
# moved into place only when it is valid JSON, so a running or restarted dockerd never
# sees a broken file). runsc needs --network=none: its own networking refuses to start
# on kernels from 6.11 on (gVisor issue 10704); sandboxes have no network anyway.
# Not --oci-seccomp: runsc 20221219 then refuses select(2) (the runner's filter holds).
registered=$(python3 - <<'PY'
import json, os, sys
path = "/etc/docker/daemon.json"
try:
    with open(path) as f:
        config = json.load(f)
except FileNotFoundError:
    config = {}
except ValueError as exc:
    sys.exit(f"{path} is not valid JSON ({exc}); not touching it")
wanted = {
    "runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none"]},
    "crun": {"path": "/usr/bin/crun"},
}
runtimes = config.setdefault("runtimes", {})
if all(runtimes.get(name) == spec for name, spec in wanted.items()):
    sys.exit(0)
runtimes.update(wanted)
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path + ".tmp", "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
with open(path + ".tmp") as f:
    json.load(f)
os.replace(path + ".tmp", path)
print("changed")
PY
)
engine_runtimes() { docker info --format '{{range $name, $_ := .Runtimes}}{{$name}} {{end}}' 2>/dev/null; }
has_runtimes() { local r=" $(engine_runtimes) "; [[ $r == *" runsc "* && $r == *" crun "* ]]; }
if docker info >/dev/null 2>&1 && { [[ $registered == changed ]] || ! has_runtimes; }; then
    log "registered runsc and crun; reloading dockerd's configuration ..."
    kill -HUP "$(cat /var/run/docker.pid)"  # the main engine's (not a test's second daemon)
fi

if ! docker info >/dev/null 2>&1; then
    log "starting dockerd ..."
    setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
    for _ in $(seq 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { tail -20 /var/log/dockerd.log; log "dockerd did not start"; exit 1; }
fi

for _ in $(seq 20); do has_runtimes && break; sleep 0.25; done
has_runtimes || { log "the engine does not list runsc and crun: $(engine_runtimes)"; exit 1; }

# The offline base, made as codeexec/sandbox/images.py makes it (same recipe number):
# minbase plus dpkg's force-unsafe-io, as Docker's own Debian images have it (no fsync
# per unpacked file: a build layer is thrown away whole if it fails).
base=local/debian:bookworm-slim
BASE_RECIPE=2
recipe=$(docker image inspect -f '{{index .Config.Labels "codeexec.base-recipe"}}' "$base" 2>/dev/null || true)
if [ "$recipe" != "$BASE_RECIPE" ]; then
    log "building $base from Debian packages (~20 s) ..."
    mmdebstrap --variant=minbase --quiet \
        --customize-hook='echo force-unsafe-io > "$1/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"' \
        bookworm - | docker import --change "LABEL codeexec.base-recipe=$BASE_RECIPE" - "$base" >/dev/null
fi

# Test data is tens of MB per case: the server must accept packets that large.
printf '[mysqld]\nmax_allowed_packet=256M\n' > /etc/mysql/mariadb.conf.d/99-codeexec.cnf
if ! mysqladmin ping --silent >/dev/null 2>&1; then
    log "starting MariaDB ..."
    setsid mysqld_safe >/var/log/mysqld.log 2>&1 < /dev/null &
    for _ in $(seq 120); do mysqladmin ping --silent >/dev/null 2>&1 && break; sleep 0.5; done
fi
mysql -uroot <<'SQL'
SET GLOBAL max_allowed_packet = 268435456;
CREATE DATABASE IF NOT EXISTS codeexec CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'codeexec'@'127.0.0.1' IDENTIFIED BY 'codeexec';
GRANT ALL ON codeexec.* TO 'codeexec'@'127.0.0.1';
-- each test session's own database (codeexec_t<pid>): concurrent runs never collide
GRANT ALL ON `codeexec\_t%`.* TO 'codeexec'@'127.0.0.1';
SQL
log "Docker, $base and MariaDB are ready"
