"""Sampling profiles of a running worker with py-spy (attached by pid, the worker unchanged),
summarised as the functions that hold the most samples, by own time and by total time.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: Samples per second: enough for a few-minute run, cheap for the worker.
RATE = 100
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str:
    """The py-spy next to this interpreter, or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.is_file() else shutil.which("py-spy")
    if not found:
        raise FileNotFoundError("py-spy is not installed (pip install py-spy)")
    return found


@dataclass
class Sampler:
    """``py-spy record`` on one pid until ``stop``; raw collapsed stacks go to ``raw``."""

    pid: int
    raw: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [py_spy(), "record", "--pid", str(self.pid), "--rate", str(RATE),
                   "--format", "raw", "--output", str(self.raw), "--nonblocking"]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)  # py-spy writes what it sampled, then exits
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _short(frame: str) -> str:
    """``func (path:line)`` -> ``func (package/module.py)``: lines dropped, paths trimmed."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        parts = Path(path).parts
        path = "/".join(parts[-2:])
    return f"{match.group('func')} ({path})"


def summarise(raw: Path, top: int = 25) -> dict[str, object]:
    """Own and total sample shares of the busiest functions in a py-spy raw file."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";") if f]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for name in set(frames):
            total[name] += count

    def share(counter: Counter[str]) -> list[dict[str, object]]:
        return [
            {"function": name, "share": round(n / samples, 4)}
            for name, n in counter.most_common(top)
        ]

    return {"samples": samples, "own": share(own), "total": share(total)}


def render(summary: dict[str, object], title: str) -> str:
    """The summary as text: own time first (where the CPU goes), then inclusive time."""
    lines = [f"# {title}", f"samples: {summary['samples']}", "", "own time (self):"]
    for row in summary["own"]:  # type: ignore[attr-defined]
        lines.append(f"  {row['share'] * 100:5.1f} %  {row['function']}")
    lines += ["", "total time (inclusive):"]
    for row in summary["total"]:  # type: ignore[attr-defined]
        lines.append(f"  {row['share'] * 100:5.1f} %  {row['function']}")
    return "\n".join(lines) + "\n"
