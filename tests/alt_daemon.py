"""A second Docker daemon on this machine, with the defaults a test chooses.

It has its own socket, data root and exec root (and so its own containerd), and runs
in a network namespace of its own: a daemon with ``--bridge=none`` deletes the host's
``docker0`` interface otherwise (found the hard way), and it adds no iptables rules.
Images are copied in from the main engine with ``docker save | docker load`` (once: the
data root persists)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker

ROOT = Path("/var/lib/codeexec-test-daemon")
RUN = Path("/var/run/codeexec-test-daemon")
SOCKET = RUN / "docker.sock"
HOST = f"unix://{SOCKET}"


def can_run() -> str | None:
    """Why a second daemon cannot run here, or None."""
    if os.geteuid() != 0:
        return "a second Docker daemon needs root"
    if shutil.which("dockerd") is None or shutil.which("unshare") is None:
        return "no dockerd or unshare binary"
    return None


@contextlib.contextmanager
def running(*flags: str, log: Path) -> Iterator[docker.DockerClient]:
    """Start the daemon with ``flags``, yield a client of it, stop it afterwards."""
    RUN.mkdir(parents=True, exist_ok=True)
    ROOT.mkdir(parents=True, exist_ok=True)
    # Its own (empty) configuration: the host's /etc/docker/daemon.json (runtimes, ...)
    # must neither change this daemon nor clash with its flags.
    config = RUN / "daemon.json"
    config.write_text("{}\n")
    command = [
        "unshare",
        "--net",
        "--",
        "dockerd",
        f"--host={HOST}",
        f"--data-root={ROOT}",
        f"--exec-root={RUN}/exec",
        f"--pidfile={RUN}/dockerd.pid",
        f"--config-file={config}",
        "--bridge=none",
        "--iptables=false",
        "--ip-masq=false",
        "--cgroup-parent=/codeexec-test-daemon",
        *flags,
    ]
    with log.open("ab") as out:
        daemon = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:  # the client asks for the API version as it is made
                client = docker.DockerClient(base_url=HOST, timeout=120)
                client.ping()
                break
            except Exception as exc:
                if daemon.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"dockerd {flags} did not start: {tail}") from exc
                time.sleep(0.3)
        for stale in client.containers.list(all=True):  # an earlier run's, if it was killed
            stale.remove(force=True)
        yield client
        client.close()
    finally:
        daemon.terminate()
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def copy_image(main: docker.DockerClient, alt: docker.DockerClient, tag: str) -> None:
    """Make ``tag`` on the second daemon the same image as on the main one."""
    wanted = main.images.get(tag).id
    with contextlib.suppress(docker.errors.ImageNotFound):
        if alt.images.get(tag).id == wanted:
            return
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}  # the main engine
    save = subprocess.Popen(["docker", "save", tag], stdout=subprocess.PIPE, env=env)
    subprocess.run(["docker", "-H", HOST, "load", "-q"], stdin=save.stdout, check=True)
    assert save.wait() == 0
