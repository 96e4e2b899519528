"""Host plumbing for the broker launcher: Java and Maven checks, locks, pids, ports, log tails.

Kept apart from ``broker.py`` so that file reads as the broker's life cycle only.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

MIN_JAVA_VERSION = 17


class BrokerError(RuntimeError):
    """The broker could not be fetched, formatted, started or stopped; the message says why."""


class MissingToolError(BrokerError):
    """``java`` (17+) or ``mvn`` is not usable from PATH."""


# --- tools -------------------------------------------------------------------------------------


def java_major(version_output: str) -> int | None:
    """17 from ``openjdk version "17.0.15"``, 8 from ``java version "1.8.0_392"``."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java(path: str | None = None) -> str:
    """The ``java`` executable, checked to be version 17 or newer."""
    java = shutil.which("java", path=path)
    if java is None:
        raise MissingToolError(
            f"java is not on PATH: the Kafka broker needs Java {MIN_JAVA_VERSION} or newer "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        )
    probe = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    major = java_major(probe.stderr + probe.stdout)
    if major is None or major < MIN_JAVA_VERSION:
        found = (probe.stderr + probe.stdout).strip().splitlines()[:1] or ["no version output"]
        raise MissingToolError(
            f"{java} is not Java {MIN_JAVA_VERSION}+ (it says: {found[0]}); the Kafka broker "
            f"needs Java {MIN_JAVA_VERSION} or newer on PATH"
        )
    return java


def find_maven(path: str | None = None) -> str:
    """The ``mvn`` executable, needed only to fetch the jars."""
    mvn = shutil.which("mvn", path=path)
    if mvn is None:
        raise MissingToolError(
            "mvn is not on PATH: Maven fetches the pinned Kafka jars into var/kafka/libs "
            "(Debian: apt-get install maven)"
        )
    return mvn


# --- small OS helpers ---------------------------------------------------------------------------


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (two test sessions fetching at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pid_alive(pid: int) -> bool:
    """True for a live process; a zombie (exited, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports the OS reports free right now (all held open together, so they are distinct)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def die_with_parent() -> Callable[[], None]:
    """A ``preexec_fn`` that SIGTERMs the child when its parent dies (Linux ``prctl``)."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return preexec
