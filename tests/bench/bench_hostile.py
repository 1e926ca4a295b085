"""Time and memory of `faultmaven analyze` on every hostile input (tests/hostile/corpus.py).

Each input is written to a fresh folder and analysed by the real command in a process of its
own, as a user would run it; its process tree's resident memory is sampled every 20 ms and
the peak kept (the reading happens in a child process). The worst input of each class is
also run at full size (`--full`): 200,000 lines of prose, a 13 MB .env whose quote never
closes, and so on. Prints a Markdown table; exits 1 when an input takes 30 s or more, peaks
at 500 MB or more, or prints a Python traceback.

    .venv/bin/python tests/bench/bench_hostile.py [--full] [--only LABEL...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.process_tree import measure  # noqa: E402
from tests.hostile import corpus as hostile  # noqa: E402
from tests.hostile.builders import distinct_errors, prose  # noqa: E402

LIMIT_S = 30.0
LIMIT_MB = 500.0
FAULTMAVEN = ROOT / ".venv" / "bin" / "faultmaven"


def full_size(item: hostile.Hostile) -> hostile.Hostile:
    """The worst inputs at the size the issue measured them."""
    bigger = {
        "lines of varied prose, each an ERROR": lambda: prose(200_000),
        "distinct error lines": lambda: distinct_errors(200_000),
        ".env quote that never closes": lambda: b'A="' + b"abc def\n" * 1_600_000,
        "one 5 MB line": lambda: b"ERROR " + b"y" * (20 << 20) + b"\n",
    }
    make = bigger.get(item.label)
    return replace(item, make=make) if make else item


@dataclass
class Run:
    label: str
    category: str
    size: int
    seconds: float
    peak_mb: float
    exit_code: int
    said: str


def run(item: hostile.Hostile, folder: Path) -> Run:
    data = item.data
    # A hostile name is part of some inputs; the file on disk gets a safe one with its suffix.
    path = folder / ("input" + "".join(Path(item.name.replace("\n", "_")).suffixes[-2:]))
    path.write_bytes(data)
    env = {**os.environ, "FAULTMAVEN_DATA_DIR": str(folder / "data")}
    measured = measure([str(FAULTMAVEN), "analyze", str(path)], env=env, limit_s=300)
    output = measured.output
    lines = [line for line in output.splitlines() if line.strip()]
    said = "TRACEBACK" if "Traceback" in output else (lines[0] if lines else "")
    return Run(
        item.label,
        item.category,
        len(data),
        measured.seconds,
        measured.peak_mb,
        measured.exit_code,
        said,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the worst inputs at full size")
    parser.add_argument("--only", nargs="*", help="labels to run")
    args = parser.parse_args()
    items = hostile.corpus()
    if args.full:
        items = [full_size(item) for item in items if item.worst] + [
            item for item in items if not item.worst
        ]
    if args.only:
        items = [item for item in items if item.label in args.only]
    failed = False
    print("| Input | Class | Size | Time | Peak RSS | Exit | First line |")
    print("|---|---|---:|---:|---:|---:|---|")
    for item in items:
        with tempfile.TemporaryDirectory() as folder:
            result = run(item, Path(folder))
        bad = result.seconds >= LIMIT_S or result.peak_mb >= LIMIT_MB or result.said == "TRACEBACK"
        failed |= bad
        said = result.said[:90].replace("|", "\\|").encode("ascii", "replace").decode()
        print(
            f"| {result.label}{' ⚠' if bad else ''} | {result.category} | {result.size:,} B "
            f"| {result.seconds:.1f} s | {result.peak_mb:.0f} MB | {result.exit_code} | {said} |",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
