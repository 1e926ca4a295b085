"""Redaction's false positives on real data, beside its recall on the known secret shapes.

Runs the evidence redactor (engine/core/redact.py, default settings) and the log scrubber's own
credential shapes (engine/core/scrub.py) over real files, one line at a time, and prints per
dataset: lines read, masks per 10k lines, and the most frequent masked tokens with their kind,
so a person can judge each one. Almost nothing here is a secret (the TrainTicket logs print a
generated Spring password: a true positive), so nearly every mask is a false positive: an id,
a path or a name lost from every answer.

Data (read from `../shared/data/` next to the repository, never copied into it; a set that is
absent is skipped with the reason):
- loghub-2k: `<System>/<System>_2k.log` of each system, whole (2,000 lines each).
- k8s-troubleshooting: every captured kubectl / CLI output and test case, whole.
- real-incidents/changerca: the case JSON files whole, and the head of every metric CSV.
- real-incidents/rcd-sockshop: the head of every run's CSV.
- real-incidents/deeptralog: the zips streamed (nothing is unpacked to disk); span tables
  and Java logs reported apart, each member sampled evenly down to `--per-file` lines.

Recall is the share of the secret shapes in tests/hostile/secret_shapes.py (the ones the unit
tests require) that come out masked: it must stay 100%.

    .venv/bin/python tests/bench/bench_redaction.py [--top 15] [--per-file 1500] [--only NAME]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.core.redact import Redactor  # noqa: E402
from engine.core.scrub import _SECRETS as SCRUB_SHAPES  # noqa: E402
from tests.hostile.secret_shapes import NOT_SECRETS, SHAPES  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
LOGHUB = DATA / "loghub-2k"
K8S = DATA / "k8s-troubleshooting"
INCIDENTS = DATA / "real-incidents"
CSV_HEAD = 20  # metric CSVs repeat one shape: their head shows every kind of field


class RecordingRedactor(Redactor):
    """The redactor as shipped, also noting each value it masks (through `placeholder`)."""

    def __init__(self) -> None:
        super().__init__()
        self.masked: Counter[tuple[str, str]] = Counter()
        self.seen_in: dict[tuple[str, str], str] = {}  # the first line each was masked in
        self.line = ""

    def placeholder(self, kind: str, value: str) -> str:
        self.note(kind, value)
        return super().placeholder(kind, value)

    def note(self, kind: str, value: str) -> None:
        self.masked[(kind, value)] += 1
        self.seen_in.setdefault((kind, value), self.line)


@dataclass
class Tally:
    lines: int = 0
    masks: int = 0
    masked_lines: int = 0
    examples: Counter[tuple[str, str]] = field(default_factory=Counter)
    seen_in: dict[tuple[str, str], str] = field(default_factory=dict)


def measure(lines: Iterable[str]) -> Tally:
    redactor = RecordingRedactor()
    tally = Tally()
    for line in lines:
        tally.lines += 1
        redactor.line = line
        found = sum(redactor.redact(line).counts.values())
        for match in SCRUB_SHAPES.finditer(line):  # what only the log scrubber masks
            redactor.note("scrub", match.group(0))
            found += 1
        tally.masks += found
        tally.masked_lines += found > 0
    tally.examples, tally.seen_in = redactor.masked, redactor.seen_in
    return tally


def _around(line: str, value: str, width: int = 110) -> str:
    """The part of the line around the value, so the reader sees what field it was."""
    at = max(0, line.find(value) - width // 3)
    cut = line[at : at + width].strip()
    return ("..." if at else "") + cut + ("..." if at + width < len(line) else "")


def _text_lines(path: Path, limit: int | None = None) -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f):
            if limit is not None and n >= limit:
                return
            yield line.rstrip("\n")


def _sampled(lines: list[str], per_file: int) -> list[str]:
    """Every k-th line, so a big file is read across its whole length, not just its head."""
    step = max(1, len(lines) // per_file)
    return lines[::step][:per_file]


def loghub() -> Iterator[tuple[str, Iterable[str]]]:
    for folder in sorted(p for p in LOGHUB.iterdir() if p.is_dir()):
        log = folder / f"{folder.name}_2k.log"
        if log.is_file():
            yield f"loghub/{folder.name}", _text_lines(log)


def k8s() -> Iterator[tuple[str, Iterable[str]]]:
    files = sorted(p for p in K8S.rglob("*") if p.is_file() and p.name != "LICENSE")
    yield "k8s-troubleshooting", (line for path in files for line in _text_lines(path))


def changerca() -> Iterator[tuple[str, Iterable[str]]]:
    files = sorted(p for p in (INCIDENTS / "changerca").rglob("*") if p.is_file())

    def lines() -> Iterator[str]:
        for path in files:
            yield from _text_lines(path, CSV_HEAD if path.suffix == ".csv" else None)

    yield "changerca", lines()


def sockshop() -> Iterator[tuple[str, Iterable[str]]]:
    files = sorted((INCIDENTS / "rcd-sockshop").rglob("*.csv"))
    yield "rcd-sockshop", (line for path in files for line in _text_lines(path, CSV_HEAD))


def _zip_members(per_file: int, spans: bool) -> Iterator[str]:
    for archive in sorted((INCIDENTS / "deeptralog").rglob("*.zip")):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                name = info.filename.rsplit("/", 1)[-1]
                is_span_table = "SpanData" in name or name == "TraceAnomaly.csv"
                if info.is_dir() or is_span_table != spans:
                    continue
                with z.open(info) as raw:
                    text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
                    yield from _sampled(text.read().splitlines(), per_file)


def deeptralog(per_file: int) -> Iterator[tuple[str, Iterable[str]]]:
    yield "deeptralog spans", _zip_members(per_file, spans=True)
    yield "deeptralog logs", _zip_members(per_file, spans=False)


def datasets(per_file: int) -> Iterator[tuple[str, Iterable[str]]]:
    sources = [
        (LOGHUB, loghub),
        (K8S, k8s),
        (INCIDENTS / "changerca", changerca),
        (INCIDENTS / "rcd-sockshop", sockshop),
        (INCIDENTS / "deeptralog", lambda: deeptralog(per_file)),
    ]
    for folder, source in sources:
        if not folder.is_dir():
            print(f"skipped {folder}: not found (see the data README)")
            continue
        yield from source()


def recall() -> tuple[int, int, int]:
    """(secret shapes masked, shapes in all, settings lines changed though they hold none)."""
    redactor = Redactor()
    masked = sum(shape.secret not in redactor.redact(shape.line).text for shape in SHAPES)
    changed = sum(redactor.redact(line).text != line for line in NOT_SECRETS)
    return masked, len(SHAPES), changed


def report(name: str, tally: Tally, top: int, seconds: float) -> None:
    per_10k = tally.masks / max(tally.lines, 1) * 10_000
    print(
        f"\n{name}: {tally.lines} lines, {tally.masks} masks on {tally.masked_lines} lines, "
        f"{per_10k:.1f} masks per 10k lines ({seconds:.1f} s)"
    )
    for (kind, value), n in tally.examples.most_common(top):
        shown = value if len(value) <= 90 else value[:87] + "..."
        print(f"  {n:6d}  {kind:9s} {shown!r}")
        print(f"          in: {_around(tally.seen_in[(kind, value)], value)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=15, help="examples shown per dataset")
    parser.add_argument("--per-file", type=int, default=1_500, help="lines kept per zip member")
    parser.add_argument("--only", help="run only datasets whose name contains this")
    args = parser.parse_args()
    masked, shapes, changed = recall()
    print(f"recall: {masked}/{shapes} secret shapes masked; {changed} non-secret settings changed")
    summary: list[tuple[str, int, int]] = []
    for name, lines in datasets(args.per_file):
        if args.only and args.only not in name:
            continue
        started = time.perf_counter()
        tally = measure(lines)
        report(name, tally, args.top, time.perf_counter() - started)
        summary.append((name, tally.lines, tally.masks))
    print("\ndataset                 lines   masks  per 10k")
    for name, lines_read, masks in summary:
        print(f"{name:22s} {lines_read:6d} {masks:7d} {masks / max(lines_read, 1) * 1e4:8.1f}")


if __name__ == "__main__":
    main()
