"""Write the incident scenarios under tests/scenarios/cases/: evidence files and answer.yaml.

    .venv/bin/python -m tests.scenarios.generate            # all scenarios
    .venv/bin/python -m tests.scenarios.generate NAME...    # only these

Deterministic: every scenario draws from its own random.Random seeded with its name, so a
re-run writes identical bytes. Folders of scenarios that no longer exist are removed.
"""

from __future__ import annotations

import random
import shutil
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.scenarios import catalog_exhaustion, catalog_more, catalog_network, catalog_tricky
from tests.scenarios.kit import Case
from tests.scenarios.render import iso

CASES = Path(__file__).resolve().parent / "cases"
MAX_BYTES = 400 * 1024
Builder = Callable[[random.Random], Case]
SIGNATURES = {
    "db-pool-exhausted": "resource-exhaustion",
    "oom": "resource-exhaustion",
    "disk-full": "resource-exhaustion",
    "dns": "network",
    "tls": "security",
    "conn-refused": "network",
    "timeout": "latency",
    "http-5xx": "availability",
    "rate-limit": "capacity",
    "deadlock": "concurrency",
    "crash-loop": "availability",
    "auth": "security",
    "null-deref": "code",
    "config": "configuration",
}


def builders() -> dict[str, Builder]:
    found: dict[str, Builder] = {}
    for module in (catalog_exhaustion, catalog_network, catalog_more, catalog_tricky):
        for name, builder in module.SCENARIOS.items():
            assert name not in found, f"duplicate scenario {name}"
            found[name] = builder
    return found


def seed(name: str) -> int:
    return zlib.crc32(name.encode())


def answer_doc(case: Case) -> dict[str, Any]:
    if case.signature is not None:
        assert SIGNATURES[case.signature] == case.category, case.name
    incident = case.window.incident
    assert (case.kind == "healthy") == (case.component is None), case.name
    return {
        "title": case.title,
        "type": case.kind,
        "question": case.question,
        "root_cause": {
            "component": case.component,
            "category": case.category,
            "signature": case.signature,
        },
        "acceptable_components": case.acceptable,
        "incident_start": iso(incident, digits=0) if incident is not None else None,
        "forbidden": case.forbidden,
        "forbidden_signatures": case.forbidden_signatures,
        "notes": case.notes,
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
