"""The results document as a table for the terminal."""

from __future__ import annotations

from typing import Any


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}{unit}" if abs(value) < 10 else f"{value:,.0f}{unit}"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value}{unit}"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.1f} ms"


def _mib(size: int | None) -> str:
    return "-" if size is None else f"{size / 2**20:,.0f} MiB"


def render_table(results: dict[str, Any]) -> str:
    """One line per figure: what, measured, target, met, load average when measured."""
    m = results["machine"]
    rows: list[tuple[str, str, str, str]] = []
    verdict = results.get("verdict", {})

    def met(name: str) -> str:
        if name not in verdict:
            return ""
        return "yes" if verdict[name]["met"] else "NO"

    if "throughput" in results:
        t = results["throughput"]
        load = _fmt(t["load_average"][0] if t["load_average"] else None)
        rows += [
            ("events (preloaded)", _fmt(t["events"]), "", ""),
            ("bare consumer (ceiling)", _fmt(t["ceiling"]["events_per_second"], " ev/s"), "",
             _fmt(t["ceiling"]["load_average"][0])),
            ("one worker, sustained", _fmt(t["worker"]["events_per_second"], " ev/s"),
             f">= 15,000 {met('events_per_second')}", load),
            ("ratio to ceiling", _fmt(t["ratio_to_ceiling"]), f">= 0.5 {met('ratio_to_ceiling')}",
             load),
        ]  # fmt: skip
        if "framework_floor" in t:
            rows += [
                ("Faust agents doing nothing (floor)",
                 _fmt(t["framework_floor"]["events_per_second"], " ev/s"), "",
                 _fmt(t["framework_floor"]["load_average"][0])),
                ("ratio to floor", _fmt(t["ratio_to_floor"]), "", load),
            ]  # fmt: skip
        rows += [
            ("worker peak RSS", _mib(t["worker"]["peak_rss_bytes"]), "", load),
        ]  # fmt: skip
    for name in ("profile", "latency", "scaling", "memory_at_scale"):
        if "error" in results.get(name, {}):
            rows.append((f"{name}: FAILED", results[name]["error"].splitlines()[0][:60], "", ""))
    results = {k: v for k, v in results.items() if not (isinstance(v, dict) and "error" in v)}
    if "profile" in results:
        p = results["profile"]
        rows.append(("under py-spy", _fmt(p["events_per_second_under_profiler"], " ev/s"),
                     p["file"], ""))  # fmt: skip
    if "latency" in results:
        lat = results["latency"]
        load = _fmt(lat["load_average"][0] if lat["load_average"] else None)
        offered = f"{lat['achieved_offered_rate']:,.0f} ev/s offered"
        rows += [
            ("event->alert p50", _ms(lat["p50_seconds"]), offered, load),
            ("event->alert p95", _ms(lat["p95_seconds"]), "", load),
            ("event->alert p99", _ms(lat["p99_seconds"]), f"<= 100 ms {met('p99_seconds')}", load),
            ("  opened alerts measured", _fmt(lat["opened_alerts_measured"]), "", ""),
            ("  worker histogram p99", _ms(lat["worker_histogram_ingest_to_alert"]["p99_seconds"]),
             "ingest->alert", ""),
        ]  # fmt: skip
    if "memory_at_scale" in results:
        s = results["memory_at_scale"]
        rows.append((f"peak RSS, {s['borrowers']:,} borrowers / {s['guarantee_graph_nodes']:,} "
                     "graph nodes", _mib(s["peak_rss_bytes"]),
                     f"<= 1 GiB {met('peak_rss_bytes')}",
                     _fmt(s["load_average"][0] if s["load_average"] else None)))  # fmt: skip
    if "scaling" in results:
        sc = results["scaling"]
        rows.append((f"{sc['workers']} workers, {sc['partitions_per_feed']} partitions/feed",
                     _fmt(sc["combined_events_per_second"], " ev/s"), "",
                     _fmt(sc["load_average"][0] if sc["load_average"] else None)))  # fmt: skip
    header = ("figure", "measured", "target", "load 1m")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = [
        f"{m['cpu_model']}, {m['cores']} cores, Python {m['python']}, Kafka {m['kafka_version']}",
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)
