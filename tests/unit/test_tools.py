"""The tools framework and the look-closer tools over a case's own files."""

from __future__ import annotations

import asyncio
import json
from typing import ClassVar

from pydantic import BaseModel

from engine.core.tool_runs import ToolRun
from engine.evidence.logs.analyze import analyze_log
from engine.tools.case_files import CaseFiles
from engine.tools.evidence_tools import evidence_tools
from engine.tools.registry import ToolRegistry

LOG = "\n".join(
    [f"2026-11-21 14:0{i}:00,000 INFO  [main] c.a.Pool - checkout ok in {i}ms" for i in range(5)]
    + [
        "2026-11-21 14:05:00,000 ERROR [main] c.a.Pool - pool exhausted (size 5) for db.internal",
        "java.sql.SQLTransientConnectionException: Connection is not available",
        "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
        "2026-11-21 14:06:00,000 INFO  [main] c.a.Pool - password=hunter2hunter2 rotated",
    ]
)
CONFIG = "DB_POOL_SIZE = 5\nDB_HOST = db.internal\n"


def _registry(**kwargs: object) -> tuple[ToolRegistry, list[ToolRun]]:
    report = analyze_log("app.log", LOG.encode())
    files = CaseFiles({"logs.zip/app.log": LOG, "values.env": CONFIG}, {"logs.zip/app.log": report})

    async def runbook(doc: str) -> str | None:
        return (
            "Raise the pool size; check for leaked connections." if "pool" in doc.lower() else None
        )

    files.runbook = runbook
    runs: list[ToolRun] = []

    async def record(run: ToolRun) -> None:
        runs.append(run)

    registry = ToolRegistry(evidence_tools(files), record=record, **kwargs)  # type: ignore[arg-type]
    return registry, runs


def _run(registry: ToolRegistry, name: str, arguments: object) -> ToolRun:
    raw = json.dumps(arguments) if not isinstance(arguments, str) else arguments
    return asyncio.run(registry.run(name, raw))


def test_grep_finds_lines_with_their_file_and_number_and_masks_secrets() -> None:
    registry, runs = _registry()
    run = _run(registry, "grep_evidence", {"pattern": "POOL"})
    assert run.ok and "logs.zip/app.log:6: 2026-11-21 14:05:00,000 ERROR" in run.output
    assert "values.env:1: DB_POOL_SIZE = 5" in run.output
    secret = _run(registry, "grep_evidence", {"pattern": "rotated"})
    assert "hunter2hunter2" not in secret.output and "rotated" in secret.output
    assert [r.call for r in runs] == [
        "grep_evidence(pattern='POOL', regex=False, max_matches=20)",
        "grep_evidence(pattern='rotated', regex=False, max_matches=20)",
    ]


def test_lines_around_numbers_lines_and_marks_the_one_asked_for() -> None:
    registry, _ = _registry()
    run = _run(registry, "lines_around", {"file": "app.log", "line": 7, "before": 1, "after": 1})
    assert run.ok
    assert run.output.splitlines() == [
        " 6: 2026-11-21 14:05:00,000 ERROR [main] c.a.Pool - pool exhausted (size 5) for "
        "db.internal",
        ">7: java.sql.SQLTransientConnectionException: Connection is not available",
        " 8: \tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
    ]


def test_template_examples_and_runbook_text() -> None:
    registry, _ = _registry()
    run = _run(registry, "template_examples", {"template": "checkout ok"})
    assert run.ok and "5× INFO" in run.output and "e.g." in run.output
    assert _run(registry, "runbook_text", {"document": "DB pool exhausted"}).output.startswith(
        "Raise"
    )


def test_mistakes_come_back_in_words_so_a_model_can_correct_itself() -> None:
    registry, runs = _registry()
    assert _run(registry, "nope", {}).error == "no tool named 'nope'; tools: " + ", ".join(
        registry.names
    )
    assert "no file 'other.log'" in (
        _run(registry, "lines_around", {"file": "other.log", "line": 1}).error or ""
    )
    assert "line: Input should be greater than or equal to 1" in (
        _run(registry, "lines_around", {"file": "app.log", "line": 0}).error or ""
    )
    assert _run(registry, "grep_evidence", "{not json").error == (
        "arguments are not JSON: Expecting property name enclosed in double quotes"
    )
    assert "bad regular expression" in (
        _run(registry, "grep_evidence", {"pattern": "(", "regex": True}).error or ""
    )
    assert len(runs) == 5 and not any(run.ok for run in runs)


def test_output_is_capped_and_says_so() -> None:
    registry, _ = _registry(max_chars=60)
    run = _run(registry, "grep_evidence", {"pattern": "2026"})
    assert run.truncated and len(run.output) == 60 and run.output_chars > 60
    assert run.for_model().endswith(f"[cut at 60 of {run.output_chars:,} characters]")


class _SlowParameters(BaseModel):
    pass


class _Slow:
    name: ClassVar[str] = "slow"
    description: ClassVar[str] = "never answers in time"
    parameters: ClassVar[type[BaseModel]] = _SlowParameters

    async def answer(self, arguments: _SlowParameters) -> str:
        await asyncio.Event().wait()
        return ""


def test_a_tool_that_does_not_answer_in_time_is_a_failed_run() -> None:
    registry = ToolRegistry([_Slow()], timeout_s=0.05)
    run = asyncio.run(registry.run("slow", "{}"))
    assert not run.ok and run.error == "no answer within 0.05 s"


def test_specs_are_function_schemas_a_model_can_call() -> None:
    registry, _ = _registry()
    specs = {spec["function"]["name"]: spec["function"] for spec in registry.specs()}
    assert set(specs) == {"grep_evidence", "lines_around", "template_examples", "runbook_text"}
    assert specs["lines_around"]["parameters"]["required"] == ["file", "line"]
