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
