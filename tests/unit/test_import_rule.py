"""engine/ must stay chat-agnostic (DESIGN.md section 2): no Slack imports anywhere in it."""

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"


def test_engine_never_imports_slack() -> None:
    offenders = []
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] in {"slack_bolt", "slack_sdk", "bot"}
            ]
    assert offenders == [], f"engine/ imports Slack or bot/: {offenders}"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_llm_module_imports_litellm() -> None:
    root = ENGINE.parent
    users = sorted(
        str(p.relative_to(root))
        for folder in ("engine", "bot")
        for p in (root / folder).rglob("*.py")
        if "litellm" in _imports(p)
    )
    assert users == ["engine/investigate/llm.py"]


def test_bot_runs_no_sql() -> None:
    """Listeners reach the database only through engine/ (DESIGN.md section 2)."""
    bot = ENGINE.parent / "bot"
    users = sorted(p.name for p in bot.rglob("*.py") if {"psycopg", "psycopg_pool"} & _imports(p))
    assert users == ["runtime.py"]


# Runs SQL without engine/store: the embedded server's set-up (`psql` on the server it starts).
SQL_OUTSIDE_THE_STORE = {"engine/ops/embedded.py"}
RUNS_SQL = {"execute", "executemany", "cursor", "psql"}
# What may be passed around outside the store: connections, for the store's functions.
PSYCOPG_TYPES = {"AsyncConnection", "Connection"}


def _sql_uses(path: Path) -> list[str]:
    uses = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in RUNS_SQL
            and (node.args or node.keywords)  # a Redis pipeline's execute() takes nothing
        ):
            uses.append(f"{node.lineno}: .{node.func.attr}(...)")
        elif isinstance(node, ast.Import):
            uses += [
                f"{node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name == "psycopg" or alias.name.startswith("psycopg.")
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("psycopg."):
                uses.append(f"{node.lineno}: from {node.module} import ...")
            elif node.module == "psycopg":
                uses += [
                    f"{node.lineno}: from psycopg import {alias.name}"
                    for alias in node.names
                    if alias.name not in PSYCOPG_TYPES
                ]
    return uses


def test_only_the_store_runs_sql() -> None:
    """Every statement is in engine/store/ (DESIGN.md section 4, rule 6), where
    tests/integration/test_sql_statements.py prepares each one; other modules pass a pool or
    a connection to the store's functions."""
    root = ENGINE.parent
    offenders = [
        f"{relative}:{use}"
        for folder in ("engine", "bot")
        for path in sorted((root / folder).rglob("*.py"))
        if not (relative := str(path.relative_to(root))).startswith("engine/store/")
        and relative not in SQL_OUTSIDE_THE_STORE
        for use in _sql_uses(path)
    ]
    assert offenders == [], "SQL outside engine/store/:\n" + "\n".join(offenders)
