"""``fenghuo bench``: throughput, latency and memory of the worker on a real broker.

``run_bench(BenchConfig(...))`` returns the results document; ``render_table`` prints it.
``python -m benchmarks`` and ``python benchmarks/run.py`` run the same command as
``fenghuo bench``.
"""

from benchmarks._report import render_table
from benchmarks._suite import BenchConfig, run_bench

__all__ = ["BenchConfig", "render_table", "run_bench"]
