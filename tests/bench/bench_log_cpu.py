"""CPU time of log analysis, this checkout against another, on the same files.

Run: .venv/bin/python tests/bench/bench_log_cpu.py OLD_ROOT [FILE...] [--generated MB]
     [--loghub MB] [--repeat N] [--rounds R]

OLD_ROOT is a checkout of the code to compare with (`git worktree add /tmp/old HEAD`). Each
file is read by `engine.evidence.analyze` in a fresh process per version, taking turns (old,
new, old, new...) so both see the same load; a process reads the file N times and reports
the least CPU time (`time.process_time`, which other work on a shared machine barely
moves, unlike wall time). The least over R rounds is printed per version, with the ratio.
`faultmaven analyze` reads in a forked child (engine/evidence/isolated.py): this measures
the analysis itself, in-process.

`--generated MB` adds a log of `bench_big_log.py`'s generator (the 1 GB bench's lines) of
that size; `--loghub MB` adds each Loghub-2k set (../shared/data) repeated to that size.
Both are written to a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _inputs(directory: Path, generated_mb: float, loghub_mb: float) -> list[str]:
    """The generated and scaled-up Loghub logs asked for, written into `directory`."""
    sys.path.insert(0, str(ROOT))
    from tests.bench import loghub
    from tests.bench.bench_big_log import write_log

    paths = []
    if generated_mb:
        path = directory / f"generated-{generated_mb:g}MB.log"
        write_log(path, int(generated_mb * 1e6))
        paths.append(path)
    if loghub_mb and loghub.available():
        for name in loghub.DATASETS:
            raw = loghub.load(name).raw
            path = directory / f"{name}-{loghub_mb:g}MB.log"
            path.write_bytes(raw * max(1, round(loghub_mb * 1e6 / len(raw))))
            paths.append(path)
    return [str(path) for path in paths]


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
    parser.add_argument("files", nargs="*")
    parser.add_argument("--generated", type=float, default=0, help="MB of generated log")
    parser.add_argument("--loghub", type=float, default=0, help="MB per scaled Loghub set")
    parser.add_argument("--repeat", type=int, default=3, help="analyses per process")
    parser.add_argument("--rounds", type=int, default=2, help="processes per version")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # child: the version to time
    args = parser.parse_args()
    if args.measure:
        _measure(args.measure, args.files[0], args.repeat)
        return
    old_root = Path(args.old_root).resolve()
    with tempfile.TemporaryDirectory(prefix="fm-log-cpu-") as directory:
        files = args.files + _inputs(Path(directory), args.generated, args.loghub)
        _compare(old_root, files, args.repeat, args.rounds)


def _compare(old_root: Path, files: list[str], repeat: int, rounds: int) -> None:
    print("| file | MB | lines | CPU s old | CPU s new | old / new |")
    print("|---|---:|---:|---:|---:|---:|")
    for path in files:
        best = {old_root: float("inf"), ROOT: float("inf")}
        for _ in range(rounds):
            for root in best:
                best[root] = min(best[root], _child(root, path, repeat))
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
