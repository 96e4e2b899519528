"""The local Kafka broker: Maven fetches the pinned jars, then one KRaft JVM runs in the background.

Why this instead of a container: the project runs on plain machines that have Java 17+ and Maven,
and the same launcher serves ``fenghuo kafka start`` (the dev broker, fixed ports, ``var/kafka``)
and the test suite (an isolated broker on free ports in a temporary directory, sharing the jars).
The version is pinned in ``deploy/kafka/pom.xml``; ``deploy/kafka/README.md`` says how it starts.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
import signal
import string
import subprocess
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from stream._broker_tls import BrokerTls, scram_arguments, tls_properties
from stream._jvm import (
    BrokerError,
    ClassDataArchive,
    MissingToolError,
    cmdline,
    copy_runtime_jars,
    die_with_parent,
    file_lock,
    find_java,
    find_maven,
    free_ports,
    pid_alive,
    pom_property,
    port_free,
    tail,
)
from stream.admin import broker_answers

__all__ = [
    "BrokerError",
    "BrokerSettings",
    "BrokerStatus",
    "BrokerTls",
    "KafkaBroker",
    "MissingToolError",
    "default_home",
    "find_java",
    "find_maven",
    "find_repo_root",
    "free_ports",
]

logger = logging.getLogger(__name__)

_FETCHED_MARKER = ".fetched-version"
_PORT_IN_USE = "Address already in use"


def find_repo_root(start: Path | None = None) -> Path:
    """The directory holding ``deploy/kafka``, found by walking up from this file."""
    here = (start or Path(__file__)).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "deploy" / "kafka" / "pom.xml").is_file():
            return candidate
    raise BrokerError(f"deploy/kafka/pom.xml not found in any parent of {here}")


def default_home() -> Path:
    """``$FENGHUO_VAR_DIR/kafka`` when set, else ``<repo>/var/kafka``."""
    var_dir = os.environ.get("FENGHUO_VAR_DIR")
    base = Path(var_dir) if var_dir else find_repo_root() / "var"
    return base.resolve() / "kafka"


@dataclass(frozen=True)
class BrokerSettings:
    """Where the broker lives and how it listens. ``libs`` defaults to ``home/libs``."""

    home: Path = field(default_factory=default_home)
    host: str = "127.0.0.1"
    port: int = 19092
    controller_port: int = 19093
    heap: str = "512m"
    initial_heap: str = "256m"
    node_id: int = 1
    libs: Path | None = None
    #: Extra JVM flags, after the heap flags.
    jvm_options: tuple[str, ...] = ("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20")
    #: SSL and SASL_SSL listeners besides the plaintext one; None: plaintext only.
    tls: BrokerTls | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ssl_bootstrap(self) -> str | None:
        """``host:port`` of the SSL listener, when there is one."""
        return f"{self.host}:{self.tls.ssl_port}" if self.tls else None

    @property
    def sasl_ssl_bootstrap(self) -> str | None:
        """``host:port`` of the SASL_SSL listener, when there is one."""
        return f"{self.host}:{self.tls.sasl_ssl_port}" if self.tls else None

    @property
    def libs_dir(self) -> Path:
        return self.libs if self.libs is not None else self.home / "libs"


@dataclass(frozen=True)
class BrokerStatus:
    """A snapshot for ``fenghuo kafka status``: is this home's JVM alive (``pid``), and does a
    broker answer on ``bootstrap`` (``answering``, possibly one started elsewhere)?
    """

    bootstrap: str
    home: Path
    version: str
    fetched: bool
    pid: int | None
    answering: bool

    @property
    def running(self) -> bool:
        return self.pid is not None


def new_cluster_id() -> str:
    """A KRaft cluster id as ``kafka-storage random-uuid`` makes it, without starting a JVM."""
    while True:
        raw = uuid.uuid4().bytes
        cluster_id = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


# --- the broker -----------------------------------------------------------------------------------


class KafkaBroker:
    """One KRaft single-node broker (broker and controller in one JVM) bound to ``settings.host``.

    Files under ``settings.home``: ``server.properties`` (rendered from the template),
    ``data/`` (the log dir), ``logs/server.log`` (WARN and above), ``logs/kafka.out`` (JVM
    stdout/stderr), ``kafka.pid``. Jars live in ``settings.libs_dir``.
    """

    def __init__(
        self,
        settings: BrokerSettings | None = None,
        *,
        tie_to_parent: bool = False,
    ) -> None:
        self.settings = settings if settings is not None else BrokerSettings()
        self.tie_to_parent = tie_to_parent
        self.deploy_dir = find_repo_root() / "deploy" / "kafka"
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def isolated(
        cls, home: Path, *, libs: Path | None = None, tls: BrokerTls | None = None
    ) -> KafkaBroker:
        """A broker on free ports in ``home`` (tests); the JVM dies with this process.

        ``libs`` defaults to the dev broker's jars so they are fetched once per machine.
        ``tls`` adds its SSL and SASL_SSL listeners, on free ports too (its own are ignored).
        """
        port, controller_port, ssl_port, sasl_ssl_port = free_ports(4)
        if tls is not None:
            tls = replace(tls, ssl_port=ssl_port, sasl_ssl_port=sasl_ssl_port)
        settings = BrokerSettings(
            home=home.resolve(),
            port=port,
            controller_port=controller_port,
            libs=libs if libs is not None else BrokerSettings().libs_dir,
            tls=tls,
        )
        return cls(settings, tie_to_parent=True)

    @classmethod
    def start_isolated(
        cls,
        home: Path,
        *,
        libs: Path | None = None,
        wait: float = 60.0,
        attempts: int = 3,
        tls: BrokerTls | None = None,
    ) -> KafkaBroker:
        """Start an isolated broker, picking new ports if another process took the chosen ones."""
        for attempt in range(1, attempts + 1):
            broker = cls.isolated(home, libs=libs, tls=tls)
            try:
                broker.start(wait=wait)
            except BrokerError as error:
                if _PORT_IN_USE not in str(error) or attempt == attempts:
                    raise
                logger.warning("ports taken while starting in %s, retrying: %s", home, error)
                shutil.rmtree(broker.data_dir, ignore_errors=True)
                continue
            return broker
        raise AssertionError("unreachable: the last attempt either returns or raises")

    # -- paths and version --

    @property
    def version(self) -> str:
        """The pinned Kafka version (``kafka.version`` in ``deploy/kafka/pom.xml``)."""
        return pom_property(self.deploy_dir / "pom.xml", "kafka.version")

    @property
    def data_dir(self) -> Path:
        return self.settings.home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.settings.home / "logs"

    @property
    def properties_file(self) -> Path:
        return self.settings.home / "server.properties"

    @property
    def pid_file(self) -> Path:
        return self.settings.home / "kafka.pid"

    @property
    def out_file(self) -> Path:
        return self.logs_dir / "kafka.out"

    @property
    def server_log(self) -> Path:
        return self.logs_dir / "server.log"

    def _classpath(self) -> str:
        return str(self.settings.libs_dir / "*")

    @property
    def class_data(self) -> ClassDataArchive:
        """The class-data-sharing archive shared by every broker that uses these jars."""
        archive = self.settings.libs_dir / f"kafka-{self.version}.jsa"
        return ClassDataArchive(archive, owner=str(self.settings.home))

    def _jvm_logging(self) -> list[str]:
        return [
            f"-Dkafka.logs.dir={self.logs_dir}",
            f"-Dlog4j2.configurationFile={self.deploy_dir / 'log4j2.yaml'}",
        ]

    # -- fetch and format --

    def is_fetched(self) -> bool:
        """The jars of the pinned version are present (a marker is written after a full copy)."""
        marker = self.settings.libs_dir / _FETCHED_MARKER
        return marker.is_file() and marker.read_text().strip() == self.version

    def fetch(self, timeout: float = 900.0) -> bool:
        """Copy the pinned broker's runtime jars into ``libs_dir``; False if already there."""
        if self.is_fetched():
            return False
        mvn = find_maven()
        find_java()  # Maven runs on it, and the broker will need it anyway
        libs = self.settings.libs_dir
        with file_lock(libs.with_name(libs.name + ".lock")):
            if self.is_fetched():  # another process fetched while we waited
                return False
            logger.info("fetching Kafka %s jars with Maven into %s", self.version, libs)
            pom = self.deploy_dir / "pom.xml"
            marker = {_FETCHED_MARKER: self.version + "\n"}
            copy_runtime_jars(mvn, pom, libs, timeout=timeout, extra_files=marker)
        return True

    def _write_properties(self) -> None:
        template = string.Template((self.deploy_dir / "server.properties").read_text())
        s = self.settings
        rendered = template.substitute(
            node_id=s.node_id,
            host=s.host,
            port=s.port,
            controller_port=s.controller_port,
            log_dir=self.data_dir,
        )
        if s.tls is not None:
            rendered += tls_properties(
                s.tls, host=s.host, port=s.port, controller_port=s.controller_port
            )
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(rendered)

    def format(self) -> bool:
        """Write ``server.properties`` and format KRaft storage once; False if already formatted."""
        self._write_properties()
        if (self.data_dir / "meta.properties").is_file():
            return False
        if not self.is_fetched():
            raise BrokerError(f"Kafka {self.version} jars are missing: run `fenghuo kafka fetch`")
        java = find_java()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        command = [
            java, *self._jvm_logging(), *self.class_data.read_flags(), "-cp", self._classpath(),
            "kafka.tools.StorageTool",
            "format", "-t", new_cluster_id(), "-c", str(self.properties_file),
        ]  # fmt: skip
        tls = self.settings.tls
        if tls is not None:
            command += scram_arguments(tls)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            for _, password in tls.users if tls is not None else ():
                output = output.replace(password, "***")
            raise BrokerError(
                f"formatting {self.data_dir} failed (exit {result.returncode}):\n{output}"
            )
        return True

    # -- process --

    def pid(self) -> int | None:
        """The pid of this home's broker JVM if it is alive, else None (stale pid files ignored)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if not pid_alive(pid):
            return None
        command = cmdline(pid)
        if command and str(self.properties_file) not in command:
            return None  # the pid was reused by an unrelated process
        return pid

    def is_running(self) -> bool:
        """The broker JVM of this home is alive (it may still be starting)."""
        return self.pid() is not None

    def answers(self, timeout: float = 5.0) -> bool:
        """The broker answers a metadata request and lists itself, unfenced, among the brokers."""
        s = self.settings
        return broker_answers(s.bootstrap, node_id=s.node_id, timeout=timeout)

    def _launch(self) -> subprocess.Popen[bytes]:
        s = self.settings
        java = find_java()
        command = [
            java, f"-Xmx{s.heap}", f"-Xms{s.initial_heap}",
            *s.jvm_options, "-Djava.awt.headless=true",
            *self._jvm_logging(), *self.class_data.jvm_flags(),
            "-cp", self._classpath(), "kafka.Kafka", str(self.properties_file),
        ]  # fmt: skip
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        with self.out_file.open("wb") as out:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=s.home,
                start_new_session=not self.tie_to_parent,
                preexec_fn=die_with_parent() if self.tie_to_parent else None,
            )
        self.pid_file.write_text(f"{process.pid}\n")
        return process

    def _logtail(self) -> str:
        parts = [
            f"--- {path} ---\n{text}"
            for path in (self.out_file, self.server_log)
            if (text := tail(path))
        ]
        return "\n".join(parts) or "(no log output)"

    def start(self, wait: float = 60.0) -> float:
        """Fetch, format and start the broker, then wait until it answers metadata requests.

        Returns the seconds from launch to the first answer (0.0 if it was already running).
        Raises ``BrokerError`` with the log tail if the JVM dies or does not answer in ``wait``.
        """
        s = self.settings
        with file_lock(s.home / ".start.lock"):
            pid = self.pid()
            if pid is not None:
                self._wait_until_answering(pid, wait, None, time.monotonic())
                return 0.0
            for port in (s.port, s.controller_port):
                if not port_free(s.host, port):
                    raise BrokerError(
                        f"{s.host}:{port}: {_PORT_IN_USE} by another process; stop it or "
                        f"choose other ports (home {s.home})"
                    )
            self.fetch()
            self.format()
            began = time.monotonic()
            self._process = self._launch()
            logger.info(
                "started Kafka %s (pid %d) on %s", self.version, self._process.pid, s.bootstrap
            )
            self._wait_until_answering(self._process.pid, wait, self._process, began)
        return time.monotonic() - began

    def _wait_until_answering(
        self, pid: int, wait: float, process: subprocess.Popen[bytes] | None, began: float
    ) -> None:
        deadline = began + wait
        while True:
            exited = process.poll() is not None if process is not None else not pid_alive(pid)
            if exited:
                self.pid_file.unlink(missing_ok=True)
                code = f" with status {process.returncode}" if process is not None else ""
                raise BrokerError(
                    f"Kafka exited{code} while starting on {self.settings.bootstrap}; "
                    f"log tail:\n{self._logtail()}"
                )
            if self.answers(timeout=min(5.0, max(0.5, deadline - time.monotonic()))):
                return
            if time.monotonic() >= deadline:
                tail = self._logtail()
                if process is not None:  # ours: don't leave a half-started JVM behind
                    self.stop()
                raise BrokerError(
                    f"Kafka did not answer on {self.settings.bootstrap} within {wait:.0f} s; "
                    f"log tail:\n{tail}"
                )
            time.sleep(0.2)

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM (clean shutdown), SIGKILL after ``timeout`` s; False if it was not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        archive = self.class_data
        # A class dump is only worth keeping from a broker that came all the way up.
        came_up = not archive.path.is_file() and self.answers(timeout=2.0)
        os.kill(pid, signal.SIGTERM)
        clean = self._wait_exit(pid, timeout)
        if not clean:
            logger.warning("Kafka (pid %d) ignored SIGTERM for %.0f s: killing it", pid, timeout)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if not self._wait_exit(pid, 10.0):
                raise BrokerError(f"Kafka (pid {pid}) survived SIGKILL")
        self.pid_file.unlink(missing_ok=True)
        archive.adopt(complete=came_up and clean)
        return True

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        if self._process is not None and self._process.pid == pid:
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout
        while pid_alive(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def status(self) -> BrokerStatus:
        pid = self.pid()
        return BrokerStatus(
            bootstrap=self.settings.bootstrap,
            home=self.settings.home,
            version=self.version,
            fetched=self.is_fetched(),
            pid=pid,
            answering=self.answers(),
        )
