"""Every SQL statement in engine/store/ is prepared against the migrated database, so a
misspelt column or table fails here rather than in production at the first call.

The statements are found at their call sites: the first argument of every `execute` and
`executemany` in engine/store/. It must be an expression of the module's own names (a
literal, a constant, an f-string of constants), evaluated here in the module's namespace, or
a call of a statement builder listed in BUILDERS, built here with sample identifiers (an
embedding space, a search filter). Anything else (a statement in a local variable, composed
inline from arguments) fails `test_every_statement_in_the_store_is_collected`, so a new
statement cannot escape the check.

Postgres prepares SELECT, INSERT, UPDATE, DELETE and WITH (parse, analyse, plan: unknown
columns and tables, type errors, wrong placeholders); other statements (SET, CREATE INDEX)
are only parsed when prepared, so they are run in a transaction that is rolled back.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from psycopg import pq, sql

from engine.store.diagnostics import CATALOGUE, check_statement
from engine.store.knowledge_search import (
    ChunkFilter,
    chunks_with_documents_statement,
    count_candidates_statement,
    term_frequencies_statement,
    vector_ranking_statement,
)
from engine.store.knowledge_spaces import Space, create_index_statement

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "engine" / "store"
EXECUTING = {"execute", "executemany"}

# What no code of ours writes: a migration file's text (checked by being applied).
NOT_STATEMENTS = {("engine.store.migrate", "path.read_text()")}

# Within vector's HNSW limit, within halfvec's, and past both (searched without an index).
SAMPLE_SPACES = [Space(1, "sample-small", 384), Space(2, "sample-large", 3072)]
SAMPLE_SPACES_UNINDEXED = [Space(3, "sample-huge", 4096)]
SAMPLE_FILTERS = [ChunkFilter(), ChunkFilter(tiers=["global", "channel"], channel_id="C1")]

# Statement builders (module.function) and the statements they make from sample values.
BUILDERS: dict[str, Callable[[], list[sql.Composable]]] = {
    "engine.store.knowledge_spaces.create_index_statement": lambda: [
        create_index_statement(space) for space in SAMPLE_SPACES
    ],
    "engine.store.knowledge_search.vector_ranking_statement": lambda: [
        vector_ranking_statement(space, filters)
        for space in SAMPLE_SPACES + SAMPLE_SPACES_UNINDEXED
        for filters in SAMPLE_FILTERS
    ],
    "engine.store.knowledge_search.count_candidates_statement": lambda: [
        count_candidates_statement(filters) for filters in SAMPLE_FILTERS
    ],
    "engine.store.knowledge_search.term_frequencies_statement": lambda: [
        term_frequencies_statement(filters) for filters in SAMPLE_FILTERS
    ],
    # The diagnostics catalogue, run against a user's database (engine/store/diagnostics.py).
    "engine.store.diagnostics.check_statement": lambda: [check_statement(c) for c in CATALOGUE],
    "engine.store.knowledge_search.chunks_with_documents_statement": lambda: [
        chunks_with_documents_statement(space)
        for space in [None, *SAMPLE_SPACES, *SAMPLE_SPACES_UNINDEXED]
    ],
}

PREPARABLE = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES"}
NAMED_PLACEHOLDER = re.compile(r"%\((?P<name>\w+)\)s|%(?P<other>.)", re.DOTALL)


@dataclass(frozen=True)
class Statement:
    where: str  # engine/store/module.py:line
    query: str | sql.Composable


@dataclass
class Collected:
    statements: list[Statement]
    problems: list[str]
    builders_used: set[str]


def _builder(argument: ast.expr, namespace: dict[str, Any]) -> str | None:
    """The BUILDERS key of the function `argument` calls, None when it calls none of them."""
    if not isinstance(argument, ast.Call):
        return None
    try:
        func = eval(ast.unparse(argument.func), namespace)
    except (NameError, AttributeError):  # a method of a local value: not a builder
        return None
    name = f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', '')}"
    return name if name in BUILDERS else None


def collect(module_name: str, source: str, namespace: dict[str, Any], path: str) -> Collected:
    """The statements that `execute`/`executemany` calls in `source` run, and the call sites
    whose statement cannot be known without running the code."""
    found = Collected([], [], set())
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in EXECUTING
            and node.args
        ):
            continue
        where = f"{path}:{node.lineno}"
        argument = node.args[0]
        text = ast.unparse(argument)
        if (module_name, text) in NOT_STATEMENTS:
            continue
        builder = _builder(argument, namespace)
        if builder is not None:
            found.builders_used.add(builder)
            found.statements += [Statement(where, q) for q in BUILDERS[builder]()]
            continue
        unknown = {
            n.id
            for n in ast.walk(argument)
            if isinstance(n, ast.Name) and n.id not in namespace and not hasattr(builtins, n.id)
        }
        if unknown:
            found.problems.append(
                f"{where}: the statement `{text}` depends on {', '.join(sorted(unknown))}: write"
                " it at the call or as a module constant, or build it with a function listed,"
                " with sample arguments, in BUILDERS"
            )
            continue
        query = eval(compile(ast.Expression(argument), path, "eval"), namespace)
        if not isinstance(query, str | sql.Composable):
            found.problems.append(f"{where}: `{text}` is a {type(query).__name__}, not SQL")
            continue
        found.statements.append(Statement(where, query))
    return found


def store_modules() -> list[tuple[ModuleType, Path]]:
    modules = []
    for path in sorted(STORE.glob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        modules.append((importlib.import_module(name), path))
    return modules


def collect_store() -> Collected:
    everything = Collected([], [], set())
    for module, path in store_modules():
        found = collect(
            module.__name__, path.read_text(), vars(module), str(path.relative_to(ROOT))
        )
        everything.statements += found.statements
        everything.problems += found.problems
        everything.builders_used |= found.builders_used
    return everything


def as_text(query: str | sql.Composable, conn: psycopg.Connection[Any] | None) -> str:
    return query if isinstance(query, str) else query.as_string(conn)


def numbered(text: str) -> str:
    """`%(name)s` placeholders as Postgres's $1, $2... (one number per name), `%%` as `%`."""
    numbers: dict[str, int] = {}

    def replace(match: re.Match[str]) -> str:
        if match["name"]:
            return f"${numbers.setdefault(match['name'], len(numbers) + 1)}"
        if match["other"] == "%":
            return "%"
        raise ValueError(f"%{match['other']} is not a named placeholder")

    return NAMED_PLACEHOLDER.sub(replace, text)


def _first_word(text: str) -> str:
    without_comments = re.sub(r"--[^\n]*", "", text)
    words = without_comments.split(None, 1)
    return words[0].upper() if words else ""


def problem_preparing(conn: psycopg.Connection[Any], statement: Statement) -> str | None:
    """Why Postgres refuses the statement, None when it takes it."""
    text = as_text(statement.query, conn)
    try:
        postgres_text = numbered(text)
    except ValueError as exc:
        return f"{statement.where}: {exc}"
    if _first_word(text) in PREPARABLE:
        result = conn.pgconn.prepare(b"", postgres_text.encode())
        if result.status != pq.ExecStatus.COMMAND_OK:
            message = (result.error_message or b"").decode(errors="replace").strip()
            return f"{statement.where}: {message}\n    {text.strip()}"
        return None
    if postgres_text != text.replace("%%", "%"):
        return f"{statement.where}: a {_first_word(text)} statement cannot take parameters"
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(postgres_text.encode())
    except psycopg.Error as exc:
        return f"{statement.where}: {str(exc).strip()}\n    {text.strip()}"
    return None


def test_every_statement_in_the_store_is_collected() -> None:
    collected = collect_store()
    assert collected.problems == [], "\n".join(collected.problems)
    unused = sorted(set(BUILDERS) - collected.builders_used)
    assert unused == [], f"BUILDERS lists builders no execute() calls: {unused}"
    # A collector that silently read nothing would pass the checks above.
    assert len(collected.statements) > 50


def test_statements_use_named_placeholders() -> None:
    positional = []
    for statement in collect_store().statements:
        text = as_text(statement.query, None)
        try:
            numbered(text)
        except ValueError as exc:
            positional.append(f"{statement.where}: {exc}: {text}")
    assert positional == [], "use %(name)s placeholders:\n" + "\n".join(positional)


def test_every_statement_prepares_against_the_migrated_database(db_url: str) -> None:
    statements = collect_store().statements
    with psycopg.connect(db_url, autocommit=True) as conn:
        problems = [p for s in statements if (p := problem_preparing(conn, s)) is not None]
    assert problems == [], "\n".join(problems)


def test_a_missing_column_or_a_positional_placeholder_is_caught(db_url: str) -> None:
    """The check itself: what Postgres would refuse at run time is refused here."""
    broken = [
        Statement("probe:1", "SELECT id, no_such_column FROM cases WHERE id = %(id)s"),
        Statement("probe:2", "SELECT 1 FROM no_such_table"),
        Statement("probe:3", "SELECT id FROM cases WHERE id = %s"),
        Statement("probe:4", sql.SQL("CREATE INDEX ON cases ({})").format(sql.Identifier("nope"))),
    ]
    with psycopg.connect(db_url, autocommit=True) as conn:
        problems = [problem_preparing(conn, s) for s in broken]
        assert problem_preparing(conn, Statement("probe:5", "SELECT %(id)s::int")) is None
    assert problems[0] is not None and "no_such_column" in problems[0]
    assert problems[1] is not None and "no_such_table" in problems[1]
    assert problems[2] is not None and "%s is not a named placeholder" in problems[2]
    assert problems[3] is not None and '"nope" does not exist' in problems[3]


def test_a_statement_the_collector_cannot_see_is_reported() -> None:
    source = (
        "async def f(conn, column):\n"
        "    query = 'SELECT 1'\n"
        "    await conn.execute(query)\n"
        "    await conn.execute(f'SELECT {column} FROM cases')\n"
        "    await conn.execute(CONSTANT)\n"
    )
    found = collect("probe", source, {"CONSTANT": "SELECT 2"}, "probe.py")
    assert [s.query for s in found.statements] == ["SELECT 2"]
    assert [p.split(": ")[0] for p in found.problems] == ["probe.py:3", "probe.py:4"]
