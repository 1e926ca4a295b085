"""Loghub-2k datasets with corrected ground truth, and the two accuracy measures used on them.

The data is read from `../shared/data/loghub-2k/` next to the repository (never copied into it):
`<Name>/<Name>_2k.log` holds the raw lines, `<Name>_2k.log_structured_corrected.csv` one row
per line with the header fields, `Content`, `EventId` and `EventTemplate`.

- Grouping accuracy (GA, Zhu et al., "Tools and Benchmarks for Automated Log Parsing",
  ICSE-SEIP 2019): a line is correct when the set of lines in its predicted group equals the
  set of lines in its ground-truth group; GA = correct lines / all lines.
- Parsing accuracy (PA): the share of lines whose predicted template equals the ground-truth
  `EventTemplate` exactly, after collapsing runs of whitespace (and nothing else).
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT.parent / "shared" / "data" / "loghub-2k"
DATASETS = ("Apache", "BGL", "HDFS", "Hadoop", "Linux", "OpenSSH", "Spark", "Zookeeper")


@dataclass(frozen=True)
class Dataset:
    name: str
    raw: bytes  # the log file as shipped
    contents: list[str]  # the Content column, one per line
    event_ids: list[str]
    templates: list[str]  # the corrected EventTemplate of each line


def available(data_dir: Path = DATA_DIR) -> bool:
    return (data_dir / DATASETS[0] / f"{DATASETS[0]}_2k.log").is_file()


def load(name: str, data_dir: Path = DATA_DIR) -> Dataset:
    folder = data_dir / name
    raw = (folder / f"{name}_2k.log").read_bytes()
    contents, event_ids, templates = [], [], []
    with (folder / f"{name}_2k.log_structured_corrected.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            contents.append(row["Content"])
            event_ids.append(row["EventId"])
            templates.append(row["EventTemplate"])
    return Dataset(name, raw, contents, event_ids, templates)


def grouping_accuracy(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Share of lines whose predicted group holds exactly the lines of their true group."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(predicted)} predictions for {len(truth)} lines")
    truth_sizes = Counter(truth)
    members: defaultdict[Hashable, list[Hashable]] = defaultdict(list)
    for true_id, predicted_id in zip(truth, predicted, strict=True):
        members[predicted_id].append(true_id)
    correct = 0
    for group in members.values():
        true_ids = set(group)
        # One true event in the group, and all of that event's lines are here.
        if len(true_ids) == 1 and truth_sizes[group[0]] == len(group):
            correct += len(group)
    return correct / len(truth) if truth else 1.0


def _squash(text: str) -> str:
    return " ".join(text.split())


def parsing_accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of lines whose template equals the true one, whitespace runs collapsed."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(predicted)} predictions for {len(truth)} lines")
    same = sum(_squash(t) == _squash(p) for t, p in zip(truth, predicted, strict=True))
    return same / len(truth) if truth else 1.0
