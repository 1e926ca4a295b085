"""A 1 GB log through `faultmaven analyze`: throughput and peak memory of the whole command.

Run: .venv/bin/python tests/bench/bench_big_log.py [GB] [--keep PATH]
The log is generated to a temporary file first (not timed): an app log with stack traces
whose payments-db errors become ten times as frequent for the last quarter of the lines.
The command runs as a child process, so its peak RSS is its own: the highest sum of its
process tree's RSS (tests/bench/process_tree.py), then each process's own peak and the tree's
peak PSS.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.logs import iter_log_lines  # noqa: E402
from tests.bench.process_tree import measure  # noqa: E402

BATCH = 10_000


def write_log(path: Path, target_bytes: int) -> int:
    """Lines written; the incident starts at about three quarters of the file."""
    average = 98  # bytes per line of this generator, measured
    lines = 0
    written = 0
    with path.open("w", encoding="utf-8") as out:
        source = iter_log_lines(seed=1, incident_after=int(0.75 * target_bytes / average))
        while written < target_bytes:
            batch = [next(source) for _ in range(BATCH)]
            text = "\n".join(batch) + "\n"
            out.write(text)
            written += len(text)
            lines += len(batch)
    return lines


def main() -> None:
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:
        keep = Path(args[args.index("--keep") + 1])
        del args[args.index("--keep") : args.index("--keep") + 2]
    gigabytes = float(args[0]) if args else 1.0
    directory = tempfile.mkdtemp(prefix="fm-bench-")
    path = keep or Path(directory) / "big.log"
    if not path.exists():
        print(f"generating {gigabytes:g} GB log at {path}…", flush=True)
        lines = write_log(path, int(gigabytes * 1e9))
    else:
        lines = sum(1 for _ in path.open("rb"))
    size = path.stat().st_size
    command = [str(ROOT / ".venv/bin/faultmaven"), "analyze", "--json", str(path)]
    # The CLI refuses files past FAULTMAVEN_MAX_FILE_MB, as uploads are; this one is meant.
    env = {**os.environ, "FAULTMAVEN_MAX_FILE_MB": str(size // 2**20 + 1)}
    measured = measure(command, env=env)
    if measured.exit_code != 0:
        sys.exit(measured.output[-2000:])
    elapsed, peak_mb = measured.seconds, measured.peak_mb
    out = measured.output[measured.output.index("{") :]  # after any warning line
    [report] = json.loads(out)["reports"]
    print(
        f"{size / 1e9:.2f} GB, {lines:,} lines: {elapsed:.0f} s, {lines / elapsed:,.0f} lines/s, "
        f"{size / 1e6 / elapsed:.1f} MB/s, peak RSS {peak_mb:.0f} MB; "
        f"{report['error_group_count']} error groups, {report['template_count']} templates, "
        f"incident from {report['incident_start']}"
    )
    # Peak RSS is the sum over the tree, pages the fork server shares with its child counted
    # in both; PSS counts a shared page once in all, for reference.
    print(f"  peak RSS by process (MB): {measured.roles()}")
    print(f"  peak PSS of the tree: {measured.peak_pss_mb:.0f} MB")
    if keep is None:
        os.remove(path)
        os.rmdir(directory)


if __name__ == "__main__":
    main()
