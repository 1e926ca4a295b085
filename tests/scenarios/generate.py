"""Write the incident scenarios under tests/scenarios/cases/: evidence files and answer.yaml.

    .venv/bin/python -m tests.scenarios.generate            # all scenarios
    .venv/bin/python -m tests.scenarios.generate NAME...    # only these

Deterministic: every scenario draws from its own random.Random seeded with its name, so a
re-run writes identical bytes. Folders of scenarios that no longer exist are removed.
"""

from __future__ import annotations

import functools
import random
import shutil
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.scenarios.catalog import SCENARIOS
from tests.scenarios.formats import iso
from tests.scenarios.render import Case, render

CASES = Path(__file__).resolve().parent / "cases"
MAX_BYTES = 400 * 1024
Builder = Callable[[random.Random], Case]


def builders() -> dict[str, Builder]:
    """Scenario name -> a function that renders it with a given random generator."""
    found: dict[str, Builder] = {}
    for scenario in SCENARIOS:
        assert scenario.name not in found, f"duplicate scenario {scenario.name}"
        found[scenario.name] = functools.partial(render, scenario)
    return found


def seed(name: str) -> int:
    return zlib.crc32(name.encode())


def answer_doc(case: Case) -> dict[str, Any]:
    answer, incident = case.answer, case.window.incident
    assert (answer.kind == "healthy") == (answer.component is None), case.name
    return {
        "title": answer.title,
        "type": answer.kind,
        "question": answer.question,
        "root_cause": {
            "component": answer.component,
            "category": answer.category,
            "signature": answer.signature,
        },
        "acceptable_components": list(answer.acceptable),
        "incident_start": iso(incident, digits=0) if incident is not None else None,
        "forbidden": list(answer.forbidden),
        "forbidden_signatures": list(answer.forbidden_signatures),
        "notes": answer.notes,
        "window": {
            "start": iso(case.window.start, digits=0),
            "end": iso(case.window.end, digits=0),
        },
        "evidence": dict(sorted(case.kinds.items())),
    }


def build(name: str, builder: Builder) -> Case:
    case = builder(random.Random(seed(name)))
    assert case.name == name, (case.name, name)
    return case


def write(case: Case, root: Path = CASES) -> int:
    folder = root / case.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    total = 0
    for file_name, data in sorted(case.files.items()):
        (folder / file_name).write_bytes(data)
        total += len(data)
    text = yaml.safe_dump(answer_doc(case), sort_keys=False, width=100, allow_unicode=True)
    (folder / "answer.yaml").write_text(text)
    if total > MAX_BYTES:
        raise SystemExit(f"{case.name}: {total:,} bytes of evidence, over {MAX_BYTES:,}")
    return total


def main(argv: list[str]) -> int:
    table = builders()
    wanted = argv or sorted(table)
    unknown = [n for n in wanted if n not in table]
    if unknown:
        print(f"unknown scenarios: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if not argv and CASES.exists():
        for stale in sorted(CASES.iterdir()):
            if stale.is_dir() and stale.name not in table:
                shutil.rmtree(stale)
    grand = 0
    for name in wanted:
        case = build(name, table[name])
        size = write(case)
        grand += size
        print(f"{name:<40} {len(case.files)} files {size / 1024:7.1f} KiB")
    print(f"{'total':<40} {grand / 1024:15.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
