"""Admin-defined command templates, run for real: argv only, values checked, time-limited.

The safety tests prove a refused value never ran: the template's program would write a
marker file if started, and the file is not there afterwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.tools.commands import MAX_OUTPUT_BYTES, command_tools
from engine.tools.registry import ToolRegistry
from engine.tools.sources import Source, SourcesError

PY = sys.executable  # an absolute path to a real interpreter
UNIT = "^[a-z0-9@._-]{1,64}$"
# Writes argv[2] into the file argv[1]: if the marker exists, the program ran.
WRITE_MARKER = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])"


def _tools(*templates: dict[str, Any], source: str = "host-checks") -> ToolRegistry:
    return ToolRegistry(
        command_tools(
            [Source(name=source, kind="commands", options={"templates": list(templates)})]
        )
    )


def _marker_template(marker: Path, pattern: str = UNIT) -> dict[str, Any]:
    return {
        "name": "touch_marker",
        "description": "Write a value into a marker file (a test's witness that it ran)",
        "argv": [PY, "-c", WRITE_MARKER, str(marker), "{unit}"],
        "params": {"unit": pattern},
    }


async def test_a_template_runs_a_real_program() -> None:
    tools = _tools(
        {
            "name": "unit_status",
            "description": "Say a unit's name",
            "argv": ["echo", "status of", "--unit={unit}"],
            "params": {"unit": UNIT},
        }
    )

    run = await tools.run("cmd_unit_status", {"unit": "nginx.service"})

    assert run.ok, run.error
    assert run.output.splitlines() == [
        "$ /usr/bin/echo 'status of' --unit=nginx.service",
        "exit code 0",
        "status of --unit=nginx.service",
    ]
    assert run.query == "/usr/bin/echo 'status of' --unit=nginx.service"
    spec = next(s for s in tools.specs() if s["function"]["name"] == "cmd_unit_status")
    assert spec["function"]["parameters"]["properties"]["unit"]["pattern"] == UNIT
    assert "Say a unit's name" in spec["function"]["description"]


async def test_exit_code_and_both_streams_are_said() -> None:
    tools = _tools(
        {
            "name": "check",
            "description": "A check that fails",
            "argv": [
                PY,
                "-c",
                "import sys; print('out: ' + sys.argv[1]); "
                "print('err: disk full', file=sys.stderr, flush=True); sys.exit(3)",
                "{word}",
            ],
            "params": {"word": "^[a-z]+$"},
        }
    )

    run = await tools.run("cmd_check", {"word": "db"})

    assert run.ok, run.error
    lines = run.output.splitlines()
    assert lines[1] == "exit code 3"
    assert "out: db" in lines and "err: disk full" in lines


@pytest.mark.parametrize(
    "value",
    ["nginx; rm -rf /", "$(touch /tmp/owned)", "`id`", "a b", "nginx\nrm", "x" * 65],
)
async def test_a_value_outside_its_pattern_is_refused_and_never_run(
    tmp_path: Path, value: str
) -> None:
    marker = tmp_path / "ran"
    tools = _tools(_marker_template(marker))

    run = await tools.run("cmd_touch_marker", {"unit": value})

    assert not run.ok
    assert "parameter 'unit' of command 'touch_marker'" in (run.error or "")
    assert not marker.exists()


@pytest.mark.parametrize("value", ["-rf", "--help", "-"])
async def test_a_leading_dash_is_refused_unless_the_pattern_asks_for_it(
    tmp_path: Path, value: str
) -> None:
    marker = tmp_path / "ran"
    tools = _tools(_marker_template(marker))  # [a-z0-9@._-] admits a dash: not an option

    run = await tools.run("cmd_touch_marker", {"unit": value})

    assert not run.ok
    assert "may not start with '-' (it would read as an option)" in (run.error or "")
    assert not marker.exists()


async def test_a_pattern_that_starts_with_a_dash_allows_one(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    tools = _tools(_marker_template(marker, pattern="^-?[0-9]{1,3}$"))

    run = await tools.run("cmd_touch_marker", {"unit": "-5"})

    assert run.ok, run.error
    assert marker.read_text() == "-5"


async def test_shell_characters_a_loose_pattern_admits_stay_one_plain_argument(
    tmp_path: Path,
) -> None:
    witness = tmp_path / "shell-ran"
    value = f"x; touch {witness} $(touch {witness}) `touch {witness}`"
    tools = _tools(
        {
            "name": "say",
            "description": "Echo a text",
            "argv": ["echo", "{text}"],
            "params": {"text": "^.{1,300}$"},
        }
    )

    run = await tools.run("cmd_say", {"text": value})

    assert run.ok, run.error
    assert run.output.splitlines()[-1] == value
    assert not witness.exists()


async def test_an_unknown_template_or_parameter_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    tools = _tools(_marker_template(marker))

    unknown = await tools.run("cmd_reboot", {"unit": "now"})
    extra = await tools.run("cmd_touch_marker", {"unit": "nginx", "flags": "-f"})
    missing = await tools.run("cmd_touch_marker", {})

    assert not unknown.ok
    assert "no tool named 'cmd_reboot'; tools: cmd_touch_marker" in (unknown.error or "")
    assert not extra.ok and "flags" in (extra.error or "")
    assert not missing.ok and "unit" in (missing.error or "")
    assert not marker.exists()


async def _until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll what nothing signals (another process's exit) until a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _gone(pid: int) -> bool:
    """True once the process is gone (or a zombie nobody has reaped yet: dead all the same)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


async def test_a_command_past_its_time_limit_is_killed_with_its_children(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "child.pid"
    # Starts a child that would outlive it, says the child's pid, then hangs.
    script = (
        "import pathlib, subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']); "
        "pathlib.Path(sys.argv[1]).write_text(str(child.pid)); time.sleep(300)"
    )
    tools = _tools(
        {
            "name": "hang",
            "description": "Never finishes",
            "argv": [PY, "-c", script, str(pid_file)],
            "timeout_s": 3,
        }
    )

    run = await tools.run("cmd_hang", {})

    assert not run.ok
    assert "ran past its 3 s limit and was killed (its whole process group)" in (run.error or "")
    assert pid_file.exists(), "the command had not started its child within its time limit"
    child = int(pid_file.read_text())
    try:
        await _until(lambda: _gone(child), "the command's child to be gone after the kill")
    finally:
        if not _gone(child):  # a failed run leaves nothing behind
            os.kill(child, signal.SIGKILL)


async def test_stdin_is_closed_and_the_environment_minimal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAULTMAVEN_TEST_SECRET", "hunter2")
    tools = _tools(
        {
            "name": "env",
            "description": "Show what a command inherits",
            "argv": [
                PY,
                "-c",
                "import os, sys; print('stdin:', repr(sys.stdin.read())); "
                "print(sorted(os.environ))",
            ],
        }
    )

    run = await tools.run("cmd_env", {})

    assert run.ok, run.error
    assert "stdin: ''" in run.output
    assert "PATH" in run.output
    assert "FAULTMAVEN_TEST_SECRET" not in run.output


async def test_output_is_capped_and_the_cut_said() -> None:
    tools = _tools(
        {
            "name": "chatty",
            "description": "Talks a lot",
            "argv": [PY, "-c", "import sys; sys.stdout.write('x' * 200000)"],
        }
    )

    run = await tools.run("cmd_chatty", {})

    assert run.ok, run.error
    assert (
        run.output.splitlines()[2]
        == f"[output cut: the first {MAX_OUTPUT_BYTES:,} of 200,000 bytes]"
    )


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ({"argv": ["echo", "{unit}"], "params": {}}, "uses {unit}, which params does not define"),
        ({"argv": ["echo"], "params": {"unit": UNIT}}, "params unit are not used in argv"),
        ({"argv": ["echo", "{unit}"], "params": {"unit": "[a-"}}, "is not a regular expression"),
        ({"argv": ["no-such-program-here", "x"]}, "is not found on PATH"),
        ({"argv": ["bin/echo", "x"]}, "must be an absolute path or a name on PATH"),
        (
            {"argv": ["/bin/sh", "-c", "echo {unit}"], "params": {"unit": UNIT}},
            "may not run a shell",
        ),
        ({"argv": ["bash", "-c", "echo hi"]}, "may not run a shell"),
        ({"argv": ["{unit}"], "params": {"unit": UNIT}}, "argv[0]) may not be a parameter"),
        ({"argv": ["echo", "{unit!r}"], "params": {"unit": UNIT}}, "write a parameter as {name}"),
        (
            {"argv": ["echo", "{unit.real}"], "params": {"unit": UNIT}},
            "write a parameter as {name}",
        ),
        ({"argv": ["echo", "{unit"], "params": {"unit": UNIT}}, "argv element '{unit'"),
        ({"argv": []}, "argv:"),
        ({"argv": ["echo"], "shell": True}, "shell: Extra inputs are not permitted"),
        ({"argv": ["echo"], "timeout_s": 600}, "timeout_s:"),
    ],
)
def test_a_malformed_template_is_refused_naming_it(template: dict[str, Any], problem: str) -> None:
    entry = {"name": "bad", "description": "A broken template", **template}

    with pytest.raises(SourcesError) as refused:
        command_tools([Source(name="host-checks", kind="commands", options={"templates": [entry]})])

    assert "commands source 'host-checks', template 'bad'" in str(refused.value)
    assert problem in str(refused.value)


def test_two_templates_with_one_name_are_refused() -> None:
    template = {"name": "uptime", "description": "Uptime", "argv": ["echo", "up"]}
    sources = [
        Source(name="a", kind="commands", options={"templates": [template]}),
        Source(name="b", kind="commands", options={"templates": [template]}),
    ]

    with pytest.raises(SourcesError, match="template 'uptime': a template of source 'a'"):
        command_tools(sources)


def test_commands_are_off_without_a_source() -> None:
    assert command_tools([]) == []
    with pytest.raises(SourcesError, match=r"options\.templates must list at least one"):
        command_tools([Source(name="empty", kind="commands")])
