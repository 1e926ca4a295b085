"""CPU time of log analysis, this checkout against another, on the same files.

Run: .venv/bin/python tests/bench/bench_log_cpu.py OLD_ROOT FILE... [--repeat N] [--rounds R]

OLD_ROOT is a checkout of the code to compare with (`git worktree add /tmp/old HEAD`). Each
file is read by `engine.evidence.analyze` in a fresh process per version, taking turns (old,
new, old, new...) so both see the same load; a process reads the file N times and reports
the least CPU time (`time.process_time`, which other work on a shared machine barely
moves, unlike wall time). The least over R rounds is printed per version, with the ratio.
`faultmaven analyze` reads in a forked child (engine/evidence/isolated.py): this measures
the analysis itself, in-process.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _measure(root: str, path: str, repeat: int) -> None:
    """In a child: the least CPU seconds of `repeat` analyses of `path` by `root`'s code."""
    sys.path.insert(0, root)
    from engine.evidence.analyze import analyze

    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        with open(path, "rb") as stream:
            analyze(Path(path).name, stream)
        best = min(best, time.process_time() - started)
    print(best)


def _child(root: Path, path: str, repeat: int) -> float:
    argv = [sys.executable, __file__, "-", path, "--measure", str(root), "--repeat", str(repeat)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=root).stdout
    return float(out.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old_root", help="checkout of the version to compare with")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--repeat", type=int, default=3, help="analyses per process")
    parser.add_argument("--rounds", type=int, default=2, help="processes per version")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # child: the version to time
    args = parser.parse_args()
    if args.measure:
        _measure(args.measure, args.files[0], args.repeat)
        return
    old_root = Path(args.old_root).resolve()
    print("| file | MB | lines | CPU s old | CPU s new | old / new |")
    print("|---|---:|---:|---:|---:|---:|")
    for path in args.files:
        best = {old_root: float("inf"), ROOT: float("inf")}
        for _ in range(args.rounds):
            for root in best:
                best[root] = min(best[root], _child(root, path, args.repeat))
        size = Path(path).stat().st_size
        with open(path, "rb") as stream:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
        old, new = best[old_root], best[ROOT]
        print(
            f"| {Path(path).name} | {size / 1e6:.1f} | {lines:,} | {old:.2f} | {new:.2f} "
            f"| {old / new:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
