"""Template mining under headers no one tuned for: our miner against Drain3, per log layout.

Run: .venv/bin/python tests/bench/bench_log_formats.py [--lines N] [--layouts a,b]
     [--seed S] [--jobs J]

Every layout of tests/bench/log_formats.py (real tools' line formats: log4j, Python logging,
Go, zap, klog, syslog, journald, nginx, Apache, Windows, CRI/docker, logfmt, Rails, .NET, ...)
writes the messages of each of the 8 Loghub-2k sets (first N lines, 2,000 by default) under
its header, with header values drawn from a seeded generator. Both miners get the same
rendered file, header included, as a user would hand it over:

- ours: `mine_log` on the file's bytes, the entry point tests/bench/bench_templates.py uses
  for raw Loghub files; it must learn the header itself;
- Drain3: configured as in bench_templates.py, one `add_log_message` per record (the whole
  record: only `dotnet_console` writes two lines per record, so Drain3 is given the record
  boundaries there).

A true record is scored with the mined record that covers its first line, so a miner that
glues records together or splits one in two pays for it in GA and PA. GA and PA are those of
tests/bench/loghub.py against the Loghub ground truth. "records" is how many records our
miner found per true record (1.00 when every record was split out right).

Prints, as Markdown: per layout the mean over the 8 sets; the overall mean; and per set the
mean over all layouts, next to the mean of the other 7 sets (nothing was tuned to any one
set: each figure stands on its own) and the two references of bench_templates.py (ours on
Loghub's own file, Drain3 on the Content column). Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from bisect import bisect_right
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.evidence.logs.mining import MinedLog, mine_log  # noqa: E402
from tests.bench import loghub  # noqa: E402
from tests.bench.bench_templates import run_drain3, run_ours  # noqa: E402
from tests.bench.log_formats import LAYOUTS, Rendered, render  # noqa: E402

NO_RECORD = -1  # the prediction for a true record no mined record covers


@dataclass(frozen=True)
class Score:
    layout: str
    dataset: str
    ga_ours: float
    ga_drain3: float
    pa_ours: float
    pa_drain3: float
    records: float  # mined records per true record

    def figures(self) -> tuple[float, ...]:
        return (self.ga_ours, self.ga_drain3, self.pa_ours, self.pa_drain3, self.records)


@cache
def _dataset(name: str) -> loghub.Dataset:
    return loghub.load(name)  # once per worker process


def covering(rendered: Rendered, mined: MinedLog) -> tuple[list[int], list[str]]:
    """Each true record's template id and template: the mined record's over its first line."""
    text = {t.template_id: t.template for t in mined.templates}
    ids, templates = [], []
    for line in rendered.first_lines():
        index = bisect_right(mined.lines, line) - 1
        template_id = mined.template_ids[index] if index >= 0 else NO_RECORD
        ids.append(template_id)
        templates.append(text.get(template_id, ""))
    return ids, templates


def score(layout: str, dataset: str, lines: int, seed: int) -> Score:
    """Both miners on one set written under one layout."""
    rendered = render(LAYOUTS[layout], _dataset(dataset), lines, seed)
    mined = mine_log(rendered.data())
    ours_ids, ours_templates = covering(rendered, mined)
    drain_ids, drain_templates = run_drain3(rendered.records)
    truth_ids, truth_templates = rendered.event_ids, rendered.templates
    return Score(
        layout,
        dataset,
        loghub.grouping_accuracy(truth_ids, ours_ids),
        loghub.grouping_accuracy(truth_ids, drain_ids),
        loghub.parsing_accuracy(truth_templates, ours_templates),
        loghub.parsing_accuracy(truth_templates, drain_templates),
        len(mined.lines) / len(rendered.records),
    )


def reference(dataset: str, lines: int) -> tuple[float, ...]:
    """bench_templates.py's figures: ours on Loghub's own file, Drain3 on its Content column."""
    data = _dataset(dataset)
    raw = ("\n".join(data.raw.decode().splitlines()[:lines]) + "\n").encode()
    ours_ids, ours_templates = run_ours(raw)
    drain_ids, drain_templates = run_drain3(data.contents[:lines])
    ids, templates = data.event_ids[:lines], data.templates[:lines]
    return (
        loghub.grouping_accuracy(ids, ours_ids),
        loghub.parsing_accuracy(templates, ours_templates),
        loghub.grouping_accuracy(ids, drain_ids),
        loghub.parsing_accuracy(templates, drain_templates),
    )


def mean(rows: Sequence[Sequence[float]]) -> list[float]:
    return [sum(column) / len(rows) for column in zip(*rows, strict=True)]


def layout_table(scores: list[Score], layouts: Sequence[str]) -> None:
    print("| Layout | GA ours | GA Drain3 | PA ours | PA Drain3 | records ours |")
    print("|---|---:|---:|---:|---:|---:|")
    for layout in layouts:
        print(_row(layout, mean([s.figures() for s in scores if s.layout == layout])))
    print(_row("**Mean**", mean([s.figures() for s in scores])))


def dataset_table(scores: list[Score], references: dict[str, tuple[float, ...]]) -> None:
    print(
        "| Dataset | GA ours | GA Drain3 | PA ours | PA Drain3 | records ours "
        "| GA / PA ours, other sets | GA / PA ours, Loghub file | GA / PA Drain3, Content |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, ref in references.items():
        own = mean([s.figures() for s in scores if s.dataset == name])
        rest = [s.figures() for s in scores if s.dataset != name]
        others = mean(rest) if rest else own
        pairs = ((others[0], others[2]), (ref[0], ref[1]), (ref[2], ref[3]))
        print(_row(name, own) + "".join(f" {ga:.3f} / {pa:.3f} |" for ga, pa in pairs))


def hardest(scores: list[Score], layouts: Sequence[str], count: int = 8) -> str:
    """The layouts where our GA is lowest, with that GA."""
    ga = {
        layout: mean([s.figures() for s in scores if s.layout == layout])[0] for layout in layouts
    }
    worst = sorted(ga, key=ga.__getitem__)[:count]
    return ", ".join(f"{layout} ({ga[layout]:.3f})" for layout in worst)


def _row(label: str, figures: Sequence[float]) -> str:
    return f"| {label} | " + " | ".join(f"{f:.3f}" for f in figures) + " |"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=2000, help="lines per Loghub set")
    parser.add_argument("--layouts", default="", help="comma-separated layout names (all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the header values")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    if not loghub.available():
        sys.exit(f"Loghub-2k not found at {loghub.DATA_DIR}")
    layouts = [name for name in args.layouts.split(",") if name] or list(LAYOUTS)
    unknown = [name for name in layouts if name not in LAYOUTS]
    if unknown:
        sys.exit(f"unknown layouts {unknown}; known: {', '.join(LAYOUTS)}")
    started = time.perf_counter()
    pairs = [(layout, name) for layout in layouts for name in loghub.DATASETS]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        # Each pair draws from its own seeded generator, so the order of work changes nothing.
        futures = [
            pool.submit(score, layout, name, args.lines, args.seed) for layout, name in pairs
        ]
        refs = {name: pool.submit(reference, name, args.lines) for name in loghub.DATASETS}
        scores = [future.result() for future in futures]
        references = {name: future.result() for name, future in refs.items()}
    sets = len(loghub.DATASETS)
    print(
        f"{len(layouts)} layouts x {sets} Loghub sets, {args.lines} lines each, seed {args.seed}\n"
    )
    layout_table(scores, layouts)
    print()
    dataset_table(scores, references)
    print(f"\nHardest for ours (lowest GA): {hardest(scores, layouts)}")
    print(f"Took {time.perf_counter() - started:.0f} s with {args.jobs} worker(s).")


if __name__ == "__main__":
    main()
