"""`faultmaven tools list|run` and `faultmaven investigate --live` from a terminal: the
configured sources' tools, run as the operator, each run audited."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
import yaml
from psycopg_pool import AsyncConnectionPool

from engine.store import audit
from tests.samples.incident import json_lines, plain_log

pytestmark = pytest.mark.integration


def _env(tmp_path: Path, db_url: str, sources: list[dict[str, object]]) -> dict[str, str]:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}))
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.pop("LLM_MODEL", None)
    env.update(
        {
            "FAULTMAVEN_SOURCES_FILE": str(path),
            "DATABASE_URL": db_url,  # the audit rows go where the bot's would
            "FAULTMAVEN_DATA_DIR": str(tmp_path / "data"),
        }
    )
    return env


async def _faultmaven(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_tools_list_and_run_against_a_real_database(
    tmp_path: Path, db_url: str, pool: AsyncConnectionPool
) -> None:
    env = _env(tmp_path, db_url, [{"name": "orders-db", "kind": "postgres", "url": db_url}])

    code, out, err = await _faultmaven(env, "tools", "list", "--json")
    assert code == 0, err
    names = {tool["name"] for tool in json.loads(out)}
    assert {"postgres_diagnose", "http_probe", "dns_lookup", "tcp_connect"} <= names

    code, out, err = await _faultmaven(
        env, "tools", "run", "postgres_diagnose", "--arg", "check=connections", "--json"
    )
    assert code == 0, err
    run = json.loads(out)
    assert run["ok"] is True and "connections used" in run["output"]
    assert "pg_stat_activity" in run["query"]  # the SQL, to run again in psql
    [entry] = [e for e in await audit.recent(pool, limit=20) if e.action == "tool.run"]
    assert entry.target == "postgres_diagnose" and entry.actor.startswith("terminal:")


async def test_a_query_outside_the_catalogue_is_refused_with_its_reason(
    tmp_path: Path, db_url: str, pool: AsyncConnectionPool
) -> None:
    env = _env(tmp_path, db_url, [{"name": "orders-db", "kind": "postgres", "url": db_url}])
    code, out, _ = await _faultmaven(
        env, "tools", "run", "postgres_diagnose", "--arg", "check=DROP TABLE cases"
    )
    assert code == 1
    assert "bad arguments: check:" in out
    [entry] = [e for e in await audit.recent(pool, limit=20) if e.action == "tool.run"]
    assert entry.detail["ok"] is False  # refused runs are audited too


async def test_a_broken_sources_file_is_said_at_once(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url, [{"name": "x", "kind": "graphite"}])
    code, _, err = await _faultmaven(env, "tools", "list")
    assert code == 2 and "source 'x': kind" in err


async def test_investigate_live_runs_the_hypotheses_checks_and_lists_them(
    tmp_path: Path, db_url: str
) -> None:
    (tmp_path / "checkout.log").write_bytes(plain_log("checkout"))
    (tmp_path / "payments.json").write_bytes(json_lines("payments"))
    env = _env(tmp_path, db_url, [{"name": "payments-db", "kind": "postgres", "url": db_url}])
    code, out, err = await _faultmaven(
        env,
        "investigate",
        str(tmp_path / "checkout.log"),
        str(tmp_path / "payments.json"),
        "--live",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    [run] = result["tool_runs"]
    assert run["tool"] == "postgres_diagnose"
    assert run["args"] == {"source": "payments-db", "check": "connections"}
    assert run["ok"] is True and "connections used" in run["summary"]
    # A quiet database speaks against an exhausted pool: the hypothesis is weakened and says why.
    pool_hypothesis = next(h for h in result["hypotheses"] if h["id"].startswith("db-pool"))
    assert any("connections in use" in c["text"] for c in pool_hypothesis["contradicting"])
