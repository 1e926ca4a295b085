"""The CLI on hostile files: no secret printed by any command, nothing a terminal would obey,
a clear line for what is not a file, and embedded services stopped when it is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from tests.hostile.corpus import corpus
from tests.hostile.secret_shapes import SHAPES

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout + result.stderr


def hostile_file(folder: Path, label: str, name: str) -> Path:
    [item] = [h for h in corpus() if h.label == label]
    path = folder / name
    path.write_bytes(item.data)
    return path


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("FAULTMAVEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LLM_MODEL", raising=False)
    return tmp_path


@pytest.fixture
def kb_env(cli_env: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """The CLI with a database of its own, and no starter runbooks."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FAULTMAVEN_STARTER_KNOWLEDGE", "false")
    return cli_env


COMMANDS = [
    ("analyze",),
    ("analyze", "--json"),
    ("investigate",),
    ("investigate", "--json"),
    ("templates",),
    ("templates", "--csv"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_no_command_prints_a_secret(cli_env: Path, command: tuple[str, ...]) -> None:
    log = hostile_file(cli_env, "34 secret shapes", "secrets.log")
    code, out = run(command[0], str(log), *command[1:])
    assert code == 0, out
    leaked = [shape.secret for shape in SHAPES if shape.secret in out]
    assert leaked == []


def test_knowledge_keeps_no_secret(kb_env: Path) -> None:
    page = kb_env / "runbook.md"
    page.write_text("# Database access\n\n" + "\n".join(f"- {s.line}" for s in SHAPES) + "\n")
    code, out = run("kb", "import", str(page))
    assert code == 0, out
    assert "masked" in out  # the receipt says what was masked
    code, out = run("kb", "search", "database password token key", "--json")
    assert code == 0, out
    assert "Database access" in out
    assert [s.secret for s in SHAPES if s.secret in out] == []


def test_a_folder_import_does_not_follow_links_out_of_it(kb_env: Path) -> None:
    outside = kb_env / "private.md"
    outside.write_text("# Private\n\nroot:x:0:0:root:/root:/bin/bash\n")
    docs = kb_env / "runbooks"
    docs.mkdir()
    (docs / "disk.md").write_text("# Disk full\n\nRotate the logs.\n")
    (docs / "passwd.md").symlink_to(outside)
    (docs / "utf16.md").write_bytes("# Cache\n\nFlush the cache.\n".encode("utf-16"))
    code, out = run("kb", "import", str(docs))
    assert code == 1  # one document could not be imported, and it says which
    assert "a link to outside the folder, not followed" in out
    assert out.count("imported: ") == 2  # disk.md and the UTF-16 page
    code, out = run("kb", "search", "root bin bash", "--json")
    assert code == 0, out
    assert "/root:/bin/bash" not in out


def test_nothing_a_terminal_would_obey_is_printed(cli_env: Path) -> None:
    log = hostile_file(cli_env, "OSC and CSI escapes in log lines", "escapes.log")
    for command in ("analyze", "templates", "investigate"):
        code, out = run(command, str(log))
        assert code == 0, out
        assert "\x1b" not in out and "\x07" not in out and "\x08" not in out, repr(out)
        if command != "investigate":  # nothing in it looks like an incident: no quote
            assert "payment failed" in out


def test_folders_pipes_and_big_files_get_a_clear_line(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = cli_env / "logs"
    folder.mkdir()
    pipe = cli_env / "pipe.log"
    os.mkfifo(pipe)
    big = cli_env / "big.log"
    big.write_bytes(b"2026-11-21T14:00:00Z INFO ok\n" * 50_000)
    monkeypatch.setenv("FAULTMAVEN_MAX_FILE_MB", "1")
    code, out = run("analyze", str(folder), str(pipe), str(big))
    assert code == 1
    assert f"{folder} is a folder: give the files in it" in out
    assert f"{pipe} is not a regular file (a pipe, a device or a socket)" in out
    assert "is 1 MB, more than FAULTMAVEN_MAX_FILE_MB (1 MB)" in out
    assert "No such file" not in out


@pytest.fixture
def stopped_cli(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(20):
        (docs / f"r{i}.md").write_text(f"# Runbook {i}\n\nRestart pod {i}.\n")
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["FAULTMAVEN_DATA_DIR"] = str(data)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "kb", "import", str(docs)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process, data / "pgdata" / "postmaster.pid"
    if process.poll() is None:
        process.kill()


def _wait_for(check: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return True
        time.sleep(0.1)
    return False


def test_a_stopped_cli_stops_the_embedded_postgres(
    stopped_cli: tuple[subprocess.Popen[bytes], Path],
) -> None:
    process, postmaster = stopped_cli
    assert _wait_for(postmaster.exists, 60), "the embedded PostgreSQL never started"
    postgres_pid = int(postmaster.read_text().split()[0])
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) != 0

    def postgres_gone() -> bool:
        try:
            os.kill(postgres_pid, 0)
        except ProcessLookupError:
            return True
        return False

    assert _wait_for(postgres_gone, 30), "the embedded PostgreSQL outlived the command"


def test_a_huge_single_page_is_refused_with_its_size(kb_env: Path) -> None:
    page = kb_env / "dump.md"
    page.write_text(" ".join(["restart the pod when memory is high"] * 130_000))  # 4.7 MB
    code, out = run("kb", "import", str(page))
    assert code == 1
    assert "too long for one document" in out and "split it into pages" in out


def test_a_search_of_18000_words_answers(kb_env: Path) -> None:
    page = kb_env / "pool.md"
    page.write_text("# Connection pool exhausted\n\nRaise the pool size of the database client.\n")
    assert run("kb", "import", str(page))[0] == 0
    words = " ".join(f"connection{i} pool timeout" for i in range(6000))  # 18,000 words
    code, out = run("kb", "search", words, "--json")
    assert code == 0, out[-500:]
    assert "Connection pool exhausted" in out
