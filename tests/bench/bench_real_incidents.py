"""Suspects on real incidents nobody here wrote: AC@1, AC@3, AC@5 per dataset, beside a naive
baseline and (ChangeRCA) three published methods, in one run.

Data: `../shared/data/real-incidents/` (see its README for sources and citations):
- ChangeRCA (Yu et al., FSE 2024): 51 Online Boutique releases with a fault; each case's
  per-pod metric CSVs, per-call success rates and call graph are uploaded with the question
  "users report failing and slow requests since about HH:MM UTC on DATE; which component is
  the root cause?" (the case's detection time). Label: `fault_release_service`.
- RCD Sock Shop (Ikram et al., NeurIPS 2022): 50 runs of a CPU hog or memory leak; the run's
  `anomalous.csv` is uploaded with "the shop is slow; which service is the root cause?".
  Label: the folder's service.
- DeepTraLog (Zhang et al., ICSE 2022): each ERROR_ span table of the fault archives, read
  in-process; a reading check (services, UTC times, the first suspect a service whose
  errors are its own), not scored: no file names the faulty service.

Tuning and reporting are kept apart, decided before any result was seen: ChangeRCA cases of
2023-09-22 are for tuning, those of 2023-09-23 and 2023-09-24 only reported; Sock Shop runs
1 and 2 of each fault are for tuning, runs 3 to 5 only reported.

Each case goes through `faultmaven investigate FILES -q QUESTION --json`, as a user would run
it, in a process of its own. A suspect names the root cause when its component, reduced to
its workload (pod and version suffixes dropped), is the label.

Naive baselines, the bar any method must clear:
- ChangeRCA: the service whose pod shows the largest shift of latency or success rate after
  the detection time, in MADs of its own series before it.
- Sock Shop: the service whose metric column shifts most from the first third of the run to
  the last third, in MADs of the first third.

    .venv/bin/python tests/bench/bench_real_incidents.py [-v]
        [--only changerca|sockshop|deeptralog] [--split tune|report]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "real-incidents"
FAULTMAVEN = ROOT / ".venv" / "bin" / "faultmaven"
KS = (1, 3, 5)
# Kubernetes' random name suffixes use these characters (no vowels): a word is never one.
_POD_CHARS = "[bcdfghjklmnpqrstvwxz2456789]"


@dataclass
class Case:
    dataset: str
    name: str
    split: str  # "tune" or "report"
    label: str
    question: str
    files: list[Path]
    baseline: list[str]  # the naive baseline's ranking
    published: dict[str, str] = field(default_factory=dict)  # method -> its answer


def workload(name: str) -> str:
    """A pod or version name reduced to its service: "adservice-v2-fd6989b7c-x4r9m" ->
    "adservice", "carts-db" stays; compared case-insensitively."""
    name = name.lower()
    name = re.sub(rf"-{_POD_CHARS}{{6,10}}-{_POD_CHARS}{{5}}$", "", name)  # Deployment pod
    name = re.sub(rf"-{_POD_CHARS}{{5}}$", "", name)  # DaemonSet pod
    name = re.sub(r"-\d+$", "", name)  # StatefulSet pod
    return re.sub(r"-v\d+$", "", name)  # a version label


def _robust_shift(before: list[float], after: list[float]) -> float:
    if len(before) < 3 or not after:
        return 0.0
    centre = statistics.median(before)
    spread = statistics.median(abs(v - centre) for v in before) or 1e-9
    return abs(statistics.median(after) - centre) / spread


def _floats(rows: list[dict[str, str]], column: str) -> list[float]:
    values = []
    for row in rows:
        try:
            values.append(float(row[column]))
        except (KeyError, TypeError, ValueError):
            continue
    return values


# --- ChangeRCA -----------------------------------------------------------------------------


def changerca_cases() -> Iterator[Case]:
    for label_file in sorted((DATA / "changerca" / "data").glob("*/*/*.json")):
        if label_file.name == "gied.json":
            continue  # another method's working data, not a label
        folder = label_file.parent
        label = json.loads(label_file.read_text())
        detect = datetime.strptime(label["detect_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        files = sorted(p for p in folder.glob("*.csv"))
        question = (
            f"users report failing and slow requests since about {detect:%H:%M} UTC on "
            f"{detect:%Y-%m-%d}; which component is the root cause?"
        )
        yield Case(
            dataset="ChangeRCA",
            name=folder.name,
            split="tune" if folder.parent.name == "2023-09-22" else "report",
            label=workload(label["fault_release_service"]),
            question=question,
            files=files,
            baseline=_changerca_baseline(files, int(label["detect_timestamp"])),
            published={
                method: workload(str(label.get(f"{method}_result", "")))
                for method in ("GIED", "Microscope", "Microrca")
            },
        )


def _changerca_baseline(files: list[Path], detect_ts: int) -> list[str]:
    scores: dict[str, float] = {}
    for path in files:
        if path.name.count("_") < 2:
            continue  # the success-rate tables and the call graph
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        before = [r for r in rows if int(float(r.get("Timestamp") or 0)) < detect_ts]
        after = [r for r in rows if int(float(r.get("Timestamp") or 0)) >= detect_ts]
        shift = max(
            _robust_shift(_floats(before, column), _floats(after, column))
            for column in ("Latency", "SuccessRate")
        )
        service = workload(path.name.split("_", 1)[0])
        scores[service] = max(scores.get(service, 0.0), shift)
    return sorted(scores, key=lambda s: -scores[s])


# --- RCD Sock Shop ---------------------------------------------------------------------------


def sockshop_cases() -> Iterator[Case]:
    for anomalous in sorted((DATA / "rcd-sockshop" / "sock-shop-data").glob("*/*/anomalous.csv")):
        run = anomalous.parent
        service = run.parent.name.rsplit("-", 1)[0]
        yield Case(
            dataset="Sock Shop",
            name=f"{run.parent.name}/{run.name}",
            split="tune" if run.name in ("1", "2") else "report",
            label=workload(service),
            question="the shop is slow; which service is the root cause?",
            files=[anomalous],
            baseline=_sockshop_baseline(anomalous),
        )


def _sockshop_baseline(path: Path) -> list[str]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    third = max(1, len(rows) // 3)
    scores: dict[str, float] = {}
    for column in rows[0]:
        if column == "time":
            continue
        service = re.sub(r"_(cpu|mem|lod|lat_\d+)$", "", column)
        values = _floats(rows, column)
        shift = _robust_shift(values[:third], values[-third:])
        scores[service] = max(scores.get(service, 0.0), shift)
    return sorted(scores, key=lambda s: -scores[s])


# --- DeepTraLog: traces read right (no scored label) ----------------------------------------


def deeptralog_rows() -> Iterator[str]:
    """One row per ERROR_ span table of each fault archive: what `faultmaven investigate`
    makes of it, and whether its first suspect is a failing service whose errors are its own
    (the erroring callee, not a caller echoing it). The fault list (README) says what each
    fault is; there is no per-run label naming the service, so nothing is scored."""
    import tempfile
    import zipfile

    sys.path.insert(0, str(ROOT))
    from engine.evidence.analyze import analyze
    from engine.evidence.traces.report import TraceReport

    for archive in sorted((DATA / "deeptralog" / "TraceLogData").glob("F*.zip")):
        with zipfile.ZipFile(archive) as bundle, tempfile.TemporaryDirectory() as tmp:
            for member in sorted(bundle.namelist()):
                if not Path(member).name.startswith("ERROR_"):
                    continue
                path = Path(bundle.extract(member, tmp))
                report = analyze(path.name, path.read_bytes())
                if not isinstance(report, TraceReport):
                    yield f"| {Path(member).parent.name} | read as {report.kind} | | | | |"
                    continue
                services = {s.service: s for s in report.services}
                top = report.suspects[0].service if report.suspects else "(none)"
                own = top in services and services[top].errors and not services[top].errors_from
                span = f"{report.first_ts:%Y-%m-%d %H:%M}–{report.last_ts:%H:%M}"
                unknown = sum(1 for name in services if name in ("", "unknown"))
                yield (
                    f"| {Path(member).parent.name} | {report.span_count:,} | {span} | "
                    f"{len(services)} ({unknown} unknown) | {top} | {'yes' if own else 'no'} |"
                )


# --- Running and scoring ---------------------------------------------------------------------


def faultmaven_ranking(case: Case) -> tuple[list[str], str]:
    """The workloads of FaultMaven's suspects, best first, and its working conclusion."""
    command = [str(FAULTMAVEN), "investigate", *map(str, case.files), "-q", case.question]
    done = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=900)
    start = done.stdout.find("{")
    if start < 0:
        return [], f"no answer (exit {done.returncode}): {done.stderr.strip()[-200:]}"
    result = json.loads(done.stdout[start:])
    ranking: list[str] = []
    for suspect in result.get("suspects", []):
        name = workload(str(suspect.get("component", "")))
        if name and name not in ranking:
            ranking.append(name)
    return ranking, str(result.get("working_conclusion", ""))


def hits(ranking: list[str], label: str, k: int) -> bool:
    return label in ranking[:k]


def table(rows: list[tuple[str, list[Case], Callable[[Case], list[str]]]]) -> None:
    print("| Dataset | Split | Cases | Method | AC@1 | AC@3 | AC@5 |")
    print("|---|---|---:|---|---:|---:|---:|")
    for title, cases, rank in rows:
        if not cases:
            continue
        rankings = [(rank(case), case.label) for case in cases]
        dataset, split, method = title.split(" · ")
        cells = [f"{sum(hits(r, label, k) for r, label in rankings) / len(cases):.2f}" for k in KS]
        print(f"| {dataset} | {split} | {len(cases)} | {method} | {' | '.join(cells)} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("changerca", "sockshop", "deeptralog"))
    parser.add_argument("--split", choices=("tune", "report"), help="only these cases")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} is not there")
        return 0
    if args.only in (None, "deeptralog"):
        print("| DeepTraLog run | Spans | UTC | Services | First suspect | Its own errors |")
        print("|---|---:|---|---|---|---|")
        for row in deeptralog_rows():
            print(row, flush=True)
        print()
    cases: list[Case] = []
    if args.only in (None, "changerca"):
        cases += changerca_cases()
    if args.only in (None, "sockshop"):
        cases += sockshop_cases()
    if args.split:
        cases = [c for c in cases if c.split == args.split]
    ours: dict[str, list[str]] = {}
    for case in cases:
        ranking, conclusion = faultmaven_ranking(case)
        ours[case.name] = ranking
        if args.verbose:
            mark = (
                "✓"
                if hits(ranking, case.label, 1)
                else ("~" if hits(ranking, case.label, 5) else "✗")
            )
            print(
                f"{mark} {case.dataset} {case.name} [{case.split}] label={case.label} "
                f"ours={ranking[:5]} baseline={case.baseline[:3]} — {conclusion[:100]}",
                flush=True,
            )
    rows: list[tuple[str, list[Case], Callable[[Case], list[str]]]] = []
    for dataset in ("ChangeRCA", "Sock Shop"):
        for split in ("tune", "report"):
            chosen = [c for c in cases if c.dataset == dataset and c.split == split]
            rows.append((f"{dataset} · {split} · FaultMaven", chosen, lambda c: ours[c.name]))
            rows.append((f"{dataset} · {split} · naive baseline", chosen, lambda c: c.baseline))
            if dataset == "ChangeRCA":
                for method in ("GIED", "Microscope", "Microrca"):
                    rows.append(
                        (
                            f"{dataset} · {split} · {method} (published)",
                            chosen,
                            lambda c, m=method: [c.published[m]],  # type: ignore[misc]
                        )
                    )
    if cases:
        table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
