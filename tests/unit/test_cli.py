"""The `faultmaven` command as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from tests.samples import checkout_log

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for var in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)


def test_run_without_tokens_names_the_variables_and_points_to_the_shell() -> None:
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    message = result.output
    assert "SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set" in message
    assert "manifest.yml" in message and "faultmaven shell" in message


def test_worker_role_needs_only_the_bot_token(monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["run", "--role", "worker"])
    assert result.exit_code == 2
    assert (
        "SLACK_BOT_TOKEN is not set" in result.output
        and "SLACK_APP_TOKEN" not in result.output.split(".")[0]
    )


def test_run_rejects_an_unknown_role() -> None:
    result = runner.invoke(app, ["run", "--role", "boss"])
    assert result.exit_code == 2 and "Unknown role 'boss'" in result.output


def test_analyze_prints_the_summary(tmp_path: Path) -> None:
    log = tmp_path / "checkout.log"
    log.write_bytes(checkout_log())
    result = runner.invoke(app, ["analyze", str(log)])
    assert result.exit_code == 0
    first = result.output.splitlines()[0]
    assert first.startswith("checkout.log: 458 lines, 14:00–14:09 UTC, 40 ERROR")
    assert "upstream payments-db: connection pool exhausted" in result.output


def test_analyze_json_is_the_full_report(tmp_path: Path) -> None:
    log = tmp_path / "checkout.log"
    log.write_bytes(checkout_log())
    result = runner.invoke(app, ["analyze", "--json", str(log)])
    assert result.exit_code == 0
    [report] = json.loads(result.stdout)["reports"]
    assert report["level_counts"]["ERROR"] == 40
    assert report["error_groups"][0]["count"] == 40
    assert report["busiest_error_minute"]["minute"].startswith("2026-11-21T14:03")


def test_analyze_reports_bad_files_and_keeps_going(tmp_path: Path) -> None:
    good = tmp_path / "good.log"
    good.write_bytes(checkout_log())
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["analyze", str(empty), str(tmp_path / "missing.log"), str(good)])
    assert result.exit_code == 1
    assert "empty.log" in result.output and "empty" in result.output.lower()
    assert "No such file" in result.output
    assert "good.log: 458 lines" in result.output


def test_analyze_opens_archives_like_uploads(tmp_path: Path) -> None:
    import zipfile

    bundle = tmp_path / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("logs/checkout.log", checkout_log())
        archive.writestr("logs/empty.log", b"")
    result = runner.invoke(app, ["analyze", str(bundle)])
    assert result.exit_code == 1  # one member could not be used
    assert "bundle.zip/logs/checkout.log: 458 lines" in result.output
    assert "bundle.zip/logs/empty.log:" in result.output and "empty" in result.output
