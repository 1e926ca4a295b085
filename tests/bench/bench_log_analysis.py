"""Throughput and peak memory of `analyze_log` on generated logs.

Run: .venv/bin/python tests/bench/bench_log_analysis.py [LINES ...]
Each size runs in a fresh child process so its peak RSS is its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def measure(lines: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from engine.evidence.logs.analyze import analyze_log
    from tests.bench.logs import generate_log

    data = generate_log(lines)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = analyze_log("bench.log", data)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "lines": lines,
        "mb": len(data) / 1e6,
        "seconds": elapsed,
        "lines_per_s": lines / elapsed,
        "mb_per_s": len(data) / 1e6 / elapsed,
        "peak_rss_mb": peak / 1024,
        "rss_growth_mb": (peak - before) / 1024,
        "errors": report.error_count,
        "groups": len(report.error_groups),
    }


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(measure(int(sys.argv[2]))))
        return
    sizes = [int(a) for a in sys.argv[1:]] or [200_000, 1_000_000]
    header = ("lines", 10), ("MB", 7), ("s", 6), ("lines/s", 9), ("MB/s", 6), ("peak RSS MB", 11)
    print(" ".join(f"{name:>{width}}" for name, width in header), f"{'groups':>6}")
    for size in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        r = json.loads(out)
        print(
            f"{r['lines']:>10,} {r['mb']:>7.1f} {r['seconds']:>6.2f} {r['lines_per_s']:>9,.0f} "
            f"{r['mb_per_s']:>6.1f} {r['peak_rss_mb']:>11.0f} {r['groups']:>6}"
        )


if __name__ == "__main__":
    main()
