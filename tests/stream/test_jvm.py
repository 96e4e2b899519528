"""Host checks behind the broker launcher: Java and Maven on PATH, pids and ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from stream._jvm import (
    ClassDataArchive,
    MissingToolError,
    find_java,
    find_maven,
    free_ports,
    java_major,
    pid_alive,
    port_free,
)
from tests.helpers import wait_for


def _fake_tool(directory: Path, name: str, stderr: str) -> None:
    """An executable that prints ``stderr`` like ``java -version`` does."""
    tool = directory / name
    tool.write_text(f"#!/bin/sh\necho '{stderr}' >&2\n")
    tool.chmod(0o755)


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "11.0.2" 2019-01-15', 11),
        ("no version here", None),
    ],
)
def test_java_major_reads_the_version_line(output: str, major: int | None) -> None:
    assert java_major(output) == major


def test_missing_java_is_named(tmp_path: Path) -> None:
    with pytest.raises(MissingToolError, match=r"java is not on PATH.*Java 17 or newer"):
        find_java(path=str(tmp_path))


def test_missing_maven_is_named(tmp_path: Path) -> None:
    with pytest.raises(MissingToolError, match="mvn is not on PATH"):
        find_maven(path=str(tmp_path))


def test_java_older_than_17_is_refused(tmp_path: Path) -> None:
    _fake_tool(tmp_path, "java", 'openjdk version "11.0.2" 2019-01-15')
    with pytest.raises(MissingToolError, match=r"is not Java 17\+ \(it says: openjdk version"):
        find_java(path=str(tmp_path))


def test_java_17_on_path_is_accepted(tmp_path: Path) -> None:
    _fake_tool(tmp_path, "java", 'openjdk version "17.0.15" 2025-04-15')
    assert find_java(path=str(tmp_path)) == str(tmp_path / "java")


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(3)
    assert len(set(ports)) == 3
    assert all(port_free("127.0.0.1", port) for port in ports)


def test_port_held_by_a_listener_is_not_free() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert not port_free("127.0.0.1", sock.getsockname()[1])


def test_exited_child_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert pid_alive(os.getpid())
    assert not pid_alive(child.pid)


def test_exited_but_unreaped_child_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_for(lambda: not pid_alive(child.pid), timeout=10)
    finally:
        child.wait()


# --- class-data archive ---


def _archive(tmp_path: Path, owner: str = "/homes/a") -> ClassDataArchive:
    return ClassDataArchive(tmp_path / "kafka-4.1.1.jsa", owner=owner)


def test_without_an_archive_the_jvm_dumps_one_for_its_home(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    assert archive.jvm_flags() == [f"-XX:ArchiveClassesAtExit={archive.dump_path}"]
    assert archive.read_flags() == []
    assert archive.dump_path != _archive(tmp_path, owner="/homes/b").dump_path


def test_with_an_archive_the_jvm_maps_it(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    archive.path.write_bytes(b"classes")
    assert archive.jvm_flags() == [f"-XX:SharedArchiveFile={archive.path}"]
    assert archive.read_flags() == archive.jvm_flags()


def test_dump_of_a_complete_run_becomes_the_archive(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    archive.dump_path.write_bytes(b"classes")
    archive.adopt(complete=True)
    assert archive.path.read_bytes() == b"classes"
    assert not archive.dump_path.exists()


@pytest.mark.parametrize("archive_exists", [False, True])
def test_dump_is_discarded_when_incomplete_or_already_archived(
    tmp_path: Path, archive_exists: bool
) -> None:
    archive = _archive(tmp_path)
    if archive_exists:
        archive.path.write_bytes(b"first")
    archive.dump_path.write_bytes(b"partial")
    archive.adopt(complete=archive_exists)
    assert not archive.dump_path.exists()
    assert archive.path.exists() is archive_exists
    if archive_exists:
        assert archive.path.read_bytes() == b"first"


def test_stale_dumps_of_dead_runs_are_removed(tmp_path: Path) -> None:
    old = _archive(tmp_path, owner="/homes/gone")
    old.dump_path.write_bytes(b"left behind")
    os.utime(old.dump_path, (0, 0))
    fresh = _archive(tmp_path, owner="/homes/running")
    fresh.dump_path.write_bytes(b"being written")
    _archive(tmp_path).jvm_flags()
    assert not old.dump_path.exists()
    assert fresh.dump_path.exists()
