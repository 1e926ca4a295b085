"""`faultmaven shell`, the newcomer's first run, driven through a pipe as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.samples import checkout_log

pytestmark = pytest.mark.integration


def run_shell(script: str, tmp_path: Path, db_url: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LLM_"))}
    env.update({"DATABASE_URL": db_url, "FAULTMAVEN_DATA_DIR": str(tmp_path / "data")})
    done = subprocess.run(
        [sys.executable, "-m", "bot", "shell"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_whole_case_in_the_shell(tmp_path: Path, db_url: str) -> None:
    log = tmp_path / "checkout.log"
    log.write_bytes(checkout_log())
    out = run_shell(
        f"/open checkout 502s since 14:00\n/upload {log} {tmp_path / 'nope.log'}\n"
        "what is going on?\n/status\n/confirm 1\n/confirm 9\n/status\n"
        "/close raised the payments-db pool to 50\n/close\n/stats\n/grade 1 sideways\n"
        "/grade 1 root\n/stats\n/quit\n",
        tmp_path,
        db_url,
    )
    assert "Case #1 opened: checkout 502s since 14:00" in out
    assert "checkout.log: 458 lines, 14:00–14:09 UTC, 40 ERROR" in out
    assert "No such file" in out and "nope.log" in out
    assert "*Most likely:* The database connection pool is exhausted" in out
    assert "Offline analysis — no LLM was used" in out
    # The summary is printed after each turn, with the phase and numbered hypotheses.
    assert "📌 *Case #1: checkout 502s since 14:00* · 🔍 diagnosing" in out
    assert "*#1* checkout 502s since 14:00 — diagnosing, 1 file, 40 errors" in out
    # Confirming hypothesis 1 moves the case on to analysis and says who confirmed it.
    assert "(confirmed by you)" in out
    assert "*#1* checkout 502s since 14:00 — analyzing, 1 file, 40 errors" in out
    assert "Usage: /confirm N, N from 1 to" in out
    assert "*Case #1 resolved:* checkout 502s since 14:00" in out
    assert "There is no open case to close" in out
    # Graded at close, as the buttons do in Slack; the figures then count it.
    assert "Usage: /grade ID root|contributing|symptom|wrong" in out
    assert "📊 Recorded for case #1: its leading hypothesis was the root cause (grade 100)" in out
    before, after = out.split("📊 Recorded for case #1")
    assert "First hypothesis right: *1/1*" not in before
    assert "First hypothesis right: *1/1* (100%) · right at close: *1/1* (100%)" in after


def test_free_text_opens_a_case_and_unknown_commands_are_explained(
    tmp_path: Path, db_url: str
) -> None:
    out = run_shell("redis latency spikes every hour\n/frob\n/upload\n", tmp_path, db_url)
    assert "Case #1 opened: redis latency spikes every hour" in out
    assert "Unknown command /frob. Type /help." in out
    assert "Usage: /upload PATH" in out
