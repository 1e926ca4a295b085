"""The layers of the code (DESIGN.md section 3): each package imports only from layers below it.

Top to bottom: the Slack adapter and CLI, the worker plumbing, the use cases, knowledge and
tools, the store (every SQL statement), the investigation, the evidence readers, operations
(logging, metrics, health), and the core vocabulary. Within evidence, the readers of each kind
sit above the template miner and the shared decoding. An import that goes upward is how a
cycle starts and how `import engine.core.models` came to load fifty analysers; this test names
the offending line.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Highest first. Packages on one line are peers: they may not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("bot",),
    ("engine.worker",),
    ("engine.cases",),
    ("engine.knowledge", "engine.tools"),
    ("engine.store",),
    ("engine.investigate",),
    ("engine.evidence",),
    ("engine.ops",),
    ("engine.core",),
]

# Inside evidence: reading in a child process, what combines kinds, the report of any kind,
# each kind's reader, the template miner, then what every reader shares.
EVIDENCE_LAYERS: list[tuple[str, ...]] = [
    ("engine.evidence.isolated", "engine.evidence.warm"),  # reading in a child process
    (
        "engine.evidence.analyze",
        "engine.evidence.suspects",
        "engine.evidence.timeline",
        "engine.evidence.charts",
    ),
    ("engine.evidence.reports",),
    (
        "engine.evidence.logs",
        "engine.evidence.metrics",
        "engine.evidence.traces",
        "engine.evidence.configs",
        "engine.evidence.topology",
        "engine.evidence.kubernetes",
        "engine.evidence.cli_state",
        "engine.evidence.alerts",
    ),
    ("engine.evidence.templates",),
    (
        "engine.evidence.kind",
        "engine.evidence.bounded",
        "engine.evidence.decode",
        "engine.evidence.timestamps",
        "engine.evidence.archives",
        "engine.evidence.components",
    ),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from engine.store import cases` imports engine.store.cases
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def rank(module: str, layers: list[tuple[str, ...]]) -> tuple[int, str] | None:
    """(depth of the layer, the package of that layer) holding `module`, None outside them."""
    for depth, packages in enumerate(layers):
        for package in packages:
            if module == package or module.startswith(package + "."):
                return depth, package
    return None


def upward_imports(sources: list[Path], layers: list[tuple[str, ...]]) -> list[str]:
    offenders = []
    for path in sources:
        importer = rank(module_name(path), layers)
        if importer is None:
            continue
        for line, module in imported_modules(path):
            imported = rank(module, layers)
            if imported is None or imported[1] == importer[1]:
                continue
            if imported[0] <= importer[0]:
                where = "a peer" if imported[0] == importer[0] else "a higher layer"
                offenders.append(
                    f"{path.relative_to(ROOT)}:{line} imports {module} ({where}: {imported[1]})"
                )
    return offenders


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def test_no_package_imports_a_layer_above_it() -> None:
    offenders = upward_imports(python_files("bot", "engine"), LAYERS)
    assert offenders == [], "\n".join(offenders)


def test_evidence_readers_do_not_import_what_combines_them() -> None:
    offenders = upward_imports(python_files("engine/evidence"), EVIDENCE_LAYERS)
    assert offenders == [], "\n".join(offenders)


def test_every_evidence_module_has_a_layer() -> None:
    modules = [module_name(p) for p in python_files("engine/evidence")]
    unplaced = sorted(
        m for m in modules if m != "engine.evidence" and rank(m, EVIDENCE_LAYERS) is None
    )
    assert unplaced == [], f"add these modules to EVIDENCE_LAYERS: {unplaced}"


def test_every_engine_package_has_a_layer() -> None:
    packages = {
        module_name(p.parent)
        for p in (ROOT / "engine").glob("*/__init__.py")
        if p.parent.name not in {"__pycache__"}
    }
    unplaced = sorted(p for p in packages if rank(p, LAYERS) is None)
    assert unplaced == [], f"add these packages to LAYERS: {unplaced}"
    top_level = sorted(p.name for p in (ROOT / "engine").glob("*.py"))
    assert top_level == ["__init__.py"], f"engine/ keeps its code in packages: {top_level}"


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: a core module importing the use cases is reported."""
    fake = ROOT / "engine" / "core" / "_layer_probe.py"
    fake.write_text("from engine.cases.service import CaseService\n")
    try:
        offenders = upward_imports([fake], LAYERS)
    finally:
        fake.unlink()
    assert offenders == [
        "engine/core/_layer_probe.py:1 imports engine.cases.service.CaseService "
        "(a higher layer: engine.cases)"
    ]
