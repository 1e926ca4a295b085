"""Whether two versions of the log analysis write the same reports, file for file.

Run: .venv/bin/python tests/bench/same_log_reports.py OLD_ROOT [--files PATH ...] [--big N]

OLD_ROOT is a checkout of the code to compare with (`git worktree add /tmp/old HEAD`). Each
version reads, in a process of its own:

- the 8 Loghub-2k sets as shipped;
- every layout of tests/bench/log_formats.py rendering every Loghub set (2,000 lines, seed 0);
- N lines (200,000 by default) of tests/bench/bench_big_log.py's generator, also read
  past its deadline (the report of the part read);
- any --files given (scaled-up copies of a Loghub set, a real log).

Per file it writes the whole `analyze` report (counts, levels, times, error groups,
templates, components, anomalies, notes) and `mine_log`'s records and templates. The two
versions must agree on every byte; the first fields that differ are printed otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _inputs(files: list[str], big_lines: int) -> Iterator[tuple[str, bytes]]:
    from tests.bench import loghub
    from tests.bench.log_formats import LAYOUTS, render
    from tests.bench.logs import generate_log

    # The data beside this checkout: the other version's may be a worktree elsewhere.
    data_dir = ROOT.parent / "shared" / "data" / "loghub-2k"
    sets = {name: loghub.load(name, data_dir) for name in loghub.DATASETS}
    for name, data in sets.items():
        yield f"loghub/{name}", data.raw
    for layout in LAYOUTS.values():
        for name, data in sets.items():
            yield f"layout/{layout.name}/{name}", render(layout, data, 2000, 0).data()
    if big_lines:
        yield f"generated/{big_lines}", generate_log(big_lines)
    for path in files:
        yield f"file/{path}", Path(path).read_bytes()


def _digest(out: str, files: list[str], big_lines: int) -> None:
    """In a child whose sys.path starts with the version to read with: every report."""
    from engine.evidence.analyze import analyze
    from engine.evidence.logs.mining import mine_log

    reports: dict[str, str] = {}
    for name, data in _inputs(files, big_lines):
        reports[name] = analyze(name.rsplit("/", 1)[-1], data).model_dump_json()
        if name.startswith("generated/"):
            # Past its deadline from the start: stops after its first look at the clock.
            stopped = analyze("stopped.log", data, deadline=time.monotonic() - 1)
            reports[f"stopped:{name}"] = stopped.model_dump_json()
        if not name.startswith(("generated/", "file/")):
            mined = mine_log(data)
            reports[f"mined:{name}"] = json.dumps(
                [mined.lines, mined.template_ids, mined.templates, mined.header]
            )
    Path(out).write_text(json.dumps(reports))


def _differences(old: str, new: str) -> list[str]:
    """The top-level fields of two reports that differ, with both values cut short."""
    try:
        a, b = json.loads(old), json.loads(new)
    except ValueError:
        return ["(not JSON)"]
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return [f"old {str(a)[:300]}\n      new {str(b)[:300]}"]
    return [
        f"{key}: old {json.dumps(a.get(key))[:300]}\n      new {json.dumps(b.get(key))[:300]}"
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old_root", help="checkout of the version to compare with")
    parser.add_argument("--files", nargs="*", default=[], help="more log files to read")
    parser.add_argument("--big", type=int, default=200_000, help="lines of the generated log")
    parser.add_argument("--digest", help=argparse.SUPPRESS)  # child: the file to write
    parser.add_argument("--root", help=argparse.SUPPRESS)  # child: the version to read with
    args = parser.parse_args()
    if args.digest:
        sys.path.insert(0, args.root)  # the version this child reads with
        _digest(args.digest, args.files, args.big)
        return
    with tempfile.TemporaryDirectory() as directory:
        children, outputs = [], []
        for root in (Path(args.old_root).resolve(), ROOT):
            out = str(Path(directory) / f"{len(outputs)}.json")
            argv = [__file__, args.old_root, "--digest", out, "--root", str(root)]
            argv += ["--big", str(args.big), "--files", *args.files]
            children.append(subprocess.Popen([sys.executable, *argv], cwd=root))
            outputs.append(out)
        if any(child.wait() != 0 for child in children):
            sys.exit("a version failed to read the files")
        old, new = (json.loads(Path(out).read_text()) for out in outputs)
    differing = [name for name in old if old[name] != new.get(name)]
    for name in differing[:10]:
        print(f"DIFFERS {name}")
        for line in _differences(old[name], new[name])[:6]:
            print(f"    {line}")
    print(f"{len(old) - len(differing)} of {len(old)} reports identical")
    sys.exit(1 if differing or set(old) != set(new) else 0)


if __name__ == "__main__":
    main()
