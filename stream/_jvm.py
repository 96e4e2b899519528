"""Host plumbing for the broker launcher: Java and Maven checks, locks, pids, ports, log tails.

Kept apart from ``broker.py`` so that file reads as the broker's life cycle only.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

MIN_JAVA_VERSION = 17
_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


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


def pom_property(pom: Path, name: str) -> str:
    """A ``<properties>`` value of a Maven pom (the pinned version lives there)."""
    node = ET.parse(pom).getroot().find(f"m:properties/m:{name}", _POM_NS)
    value = (node.text or "").strip() if node is not None else ""
    if not value:
        raise BrokerError(f"no <{name}> property in {pom}")
    return value


def copy_runtime_jars(
    mvn: str, pom: Path, libs: Path, *, timeout: float, extra_files: Mapping[str, str]
) -> None:
    """Resolve ``pom``'s runtime dependencies with Maven and put the jars in ``libs``.

    Copies into a staging directory first (with ``extra_files``, name -> text, such as a
    completion marker), so ``libs`` is never seen half-filled.
    """
    libs.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{libs.name}-", dir=libs.parent))
    try:
        command = [
            mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(pom),
            "dependency:copy-dependencies", f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ]  # fmt: skip
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            output = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            raise BrokerError(f"mvn failed (exit {result.returncode}) resolving {pom}:\n{output}")
        for name, text in extra_files.items():
            (staging / name).write_text(text)
        if libs.exists():
            shutil.rmtree(libs)
        staging.rename(libs)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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


@dataclass(frozen=True)
class ClassDataArchive:
    """A dynamic class-data-sharing archive of the broker's classes, next to its jars.

    Why: on a busy 2-core machine most of Kafka's start-up is loading and verifying classes;
    mapping them from an archive roughly halves it. The first broker that runs without one dumps
    its classes when it exits (to a temporary file named after ``owner``, its home), and
    ``adopt`` moves that file into place after a clean stop of a broker that had come up.
    """

    path: Path
    owner: str
    stale_after_seconds: float = 600.0

    @property
    def dump_path(self) -> Path:
        digest = hashlib.sha1(self.owner.encode()).hexdigest()[:12]
        return self.path.with_name(f"{self.path.name}.{digest}.tmp")

    def jvm_flags(self) -> list[str]:
        """Use the archive if there is one, else dump one at exit."""
        if self.path.is_file():
            return [f"-XX:SharedArchiveFile={self.path}"]
        now = time.time()
        for dump in self.path.parent.glob(f"{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                if now - dump.stat().st_mtime > self.stale_after_seconds:
                    dump.unlink()
        return [f"-XX:ArchiveClassesAtExit={self.dump_path}"]

    def read_flags(self) -> list[str]:
        """Use the archive if there is one, never dump (short-lived tools like the formatter)."""
        return [f"-XX:SharedArchiveFile={self.path}"] if self.path.is_file() else []

    def adopt(self, complete: bool) -> None:
        """Keep the dump as the archive if the run was ``complete`` and none exists yet."""
        dump = self.dump_path
        if not dump.is_file():
            return
        if complete and not self.path.exists():
            os.replace(dump, self.path)
        else:
            dump.unlink(missing_ok=True)
