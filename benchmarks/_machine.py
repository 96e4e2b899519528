"""What machine a figure was measured on: CPU, cores, Python, Kafka, and how loaded it was."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo`` (the platform's processor string elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages, rounded (other developers share this machine)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


def machine(kafka_version: str) -> dict[str, Any]:
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "kafka_version": kafka_version,
        "load_average_at_start": load_average(),
    }


def pin_cores(cores: set[int]) -> set[int] | None:
    """Pin this process to ``cores`` (those that exist); the cores in force, None if unpinned."""
    available = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    chosen = cores & available
    if not chosen:
        return None
    os.sched_setaffinity(0, chosen)
    return chosen


def peak_rss_bytes(pid: int) -> int | None:
    """Peak resident set size of a live process (``VmHWM``), None when unreadable."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds a live process has used (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
