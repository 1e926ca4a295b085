"""Commands an admin defines, and only those: each template is one tool, `cmd_<name>`.

Off unless a source of kind `commands` lists templates:

    - name: host-checks
      kind: commands
      channels: ["#ops"]
      options:
        templates:
          - name: unit_status
            description: State and last log lines of a systemd unit
            argv: [systemctl, status, --no-pager, "{unit}"]
            params: {unit: "^[a-z0-9@._-]{1,64}$"}
            timeout_s: 10

Why one tool per template rather than one `run_command(template, params)`: a model then sees
each command as a function of its own, with the admin's description and named arguments
whose patterns are in the schema, instead of a catalogue to read and a nested dict to guess;
an unknown template or parameter is refused by the tool registry before anything runs.

What keeps it safe:
- argv only: the program is executed directly, never through a shell, so `;`, `$(…)` and
  quotes in a value are plain characters of one argument. A template may not run a shell.
- a parameter fills a whole argv element or part of one, never adds or splits elements; its
  value must fully match the template's pattern, has no control characters, and may not
  start with `-` (it would read as an option) unless its pattern begins with a literal `-`
  (`^-?[0-9]+$`): allowing a dash inside a character class is not asking for options.
- the program is an absolute path, or a name found on PATH when the templates are loaded,
  and is run by that absolute path.
- stdin is closed, the environment is minimal, the working directory is `/`; the process
  runs in its own process group, killed whole when the time limit passes (or the run is
  cancelled); stdout and stderr together are capped, and the exit code is said.
Templates are checked when the tools are built: a malformed one is refused naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import shutil
import signal
import string
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from engine.tools.base import Tool, ToolAnswer, ToolError
from engine.tools.sources import Source, SourcesError

MAX_TIMEOUT_S = 25.0  # under the registry's 30 s, so the command is killed with a clear line
MAX_OUTPUT_BYTES = 64 * 1024
MAX_VALUE_CHARS = 1_024
_CHUNK = 8 * 1024
_REAP_S = 2.0  # how long to wait for a killed command to be gone
SHELLS = frozenset(
    {"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "busybox"}
)
MINIMAL_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TERM": "dumb",
    "PAGER": "cat",
}
_NAME = r"^[a-z][a-z0-9_]{0,39}$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TemplateSpec(BaseModel):
    """A template as the admin writes it in the source's `options.templates`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    description: str = Field(min_length=1, max_length=500)
    argv: list[str] = Field(min_length=1, max_length=64)
    params: dict[str, str] = Field(default_factory=dict)  # parameter → its regular expression
    timeout_s: float = Field(default=10.0, gt=0, le=MAX_TIMEOUT_S)


@dataclass(frozen=True)
class Piece:
    """Part of an argv element: literal text, or the value of a parameter."""

    text: str
    param: str | None = None


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    executable: str  # an absolute path
    elements: tuple[tuple[Piece, ...], ...]  # argv[1:], each element as its pieces
    patterns: dict[str, re.Pattern[str]]
    timeout_s: float
    source: str

    def argv(self, values: dict[str, str]) -> list[str]:
        """The argv with each value checked and put in place; ToolError naming the first
        value refused."""
        for param, value in values.items():
            self._check(param, value)
        return [self.executable] + [
            "".join(values[p.param] if p.param else p.text for p in element)
            for element in self.elements
        ]

    def _check(self, param: str, value: str) -> None:
        pattern = self.patterns.get(param)
        if pattern is None:
            raise ToolError(f"command {self.name!r} has no parameter {param!r}")
        if len(value) > MAX_VALUE_CHARS:
            raise ToolError(f"parameter {param!r} of command {self.name!r} is too long")
        if _CONTROL.search(value):
            raise ToolError(
                f"parameter {param!r} of command {self.name!r} contains a control character"
            )
        if pattern.fullmatch(value) is None:
            raise ToolError(
                f"parameter {param!r} of command {self.name!r} must match {pattern.pattern}; "
                f"{value!r} does not"
            )
        if value.startswith("-") and not _asks_for_dash(pattern.pattern):
            raise ToolError(
                f"parameter {param!r} of command {self.name!r} may not start with '-' "
                f"(it would read as an option): {value!r}"
            )


def _asks_for_dash(pattern: str) -> bool:
    """Whether a pattern explicitly starts with a dash (`^-…`, `^\\-…`)."""
    body = pattern.removeprefix("^")
    return body.startswith(("-", "\\-"))


def _refuse(source: str, template: str, problem: str) -> SourcesError:
    return SourcesError(f"commands source {source!r}, template {template!r}: {problem}")


def _pieces(element: str, params: dict[str, str], refuse: Any) -> tuple[Piece, ...]:
    try:
        parsed = list(string.Formatter().parse(element))
    except ValueError as exc:
        raise refuse(f"argv element {element!r}: {exc} (write {{{{ and }}}} for braces)") from None
    pieces: list[Piece] = []
    for literal, param, spec, conversion in parsed:
        if literal:
            pieces.append(Piece(literal))
        if param is None:
            continue
        if spec or conversion or not re.fullmatch(_NAME, param):
            raise refuse(f"argv element {element!r}: write a parameter as {{name}}, nothing more")
        if param not in params:
            raise refuse(f"argv element {element!r} uses {{{param}}}, which params does not define")
        pieces.append(Piece("", param))
    return tuple(pieces)


def _executable(program: str, refuse: Any) -> str:
    if "{" in program:
        raise refuse("the program (argv[0]) may not be a parameter")
    if "/" in program:
        if not os.path.isabs(program):
            raise refuse(f"the program {program!r} must be an absolute path or a name on PATH")
        path: str | None = program
    else:
        path = shutil.which(program)
        if path is None:
            raise refuse(f"the program {program!r} is not found on PATH")
    assert path is not None
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise refuse(f"the program {path} is not an executable file")
    names = {os.path.basename(path), os.path.basename(os.path.realpath(path))}
    if names & SHELLS:
        raise refuse(f"a template may not run a shell ({path}); write the command's own argv")
    return path


def parse_template(source: str, raw: Any) -> Template:
    """One template checked, or a SourcesError naming the source, the template and the fault."""
    label = raw.get("name", "?") if isinstance(raw, dict) else "?"
    try:
        spec = TemplateSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'template'}: {err['msg']}"
            for err in exc.errors()
        )
        raise _refuse(source, str(label), problems) from None

    def refuse(problem: str) -> SourcesError:
        return _refuse(source, spec.name, problem)

    patterns: dict[str, re.Pattern[str]] = {}
    for param, pattern in spec.params.items():
        if not re.fullmatch(_NAME, param):
            raise refuse(f"parameter name {param!r}: use lowercase letters, digits and _")
        try:
            patterns[param] = re.compile(pattern)
        except re.error as exc:
            raise refuse(f"the pattern of {param!r} is not a regular expression: {exc}") from None
    executable = _executable(spec.argv[0], refuse)
    elements = tuple(_pieces(element, spec.params, refuse) for element in spec.argv[1:])
    used = {piece.param for element in elements for piece in element if piece.param}
    unused = sorted(set(spec.params) - used)
    if unused:
        raise refuse(f"params {', '.join(unused)} are not used in argv")
    return Template(
        name=spec.name,
        description=spec.description,
        executable=executable,
        elements=elements,
        patterns=patterns,
        timeout_s=spec.timeout_s,
        source=source,
    )


def templates_of(source: Source) -> list[Template]:
    raw = source.options.get("templates")
    unknown = sorted(set(source.options) - {"templates"})
    if unknown:
        raise SourcesError(f"commands source {source.name!r}: unknown options {', '.join(unknown)}")
    if not isinstance(raw, list) or not raw:
        raise SourcesError(
            f"commands source {source.name!r}: options.templates must list at least one template"
        )
    return [parse_template(source.name, entry) for entry in raw]


# --- running --------------------------------------------------------------------------------


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the command's whole process group (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def _read_capped(stream: asyncio.StreamReader) -> tuple[bytes, int]:
    """Up to MAX_OUTPUT_BYTES of the stream, and how many bytes it had in all (read to its
    end, so a talkative command never blocks on a full pipe)."""
    kept = bytearray()
    total = 0
    while chunk := await stream.read(_CHUNK):
        total += len(chunk)
        if len(kept) < MAX_OUTPUT_BYTES:
            kept += chunk[: MAX_OUTPUT_BYTES - len(kept)]
    return bytes(kept), total


async def run_argv(argv: list[str], timeout_s: float) -> tuple[int, bytes, int]:
    """(exit code, output capped, output size) of argv run without a shell; ToolError when
    it cannot start or runs past `timeout_s` (its process group is killed)."""
    shown = shlex.join(argv)
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=MINIMAL_ENV,
            cwd="/",
            start_new_session=True,
        )
    except OSError as exc:
        raise ToolError(f"cannot run {shown}: {exc.strerror or exc}") from None
    assert process.stdout is not None
    try:
        async with asyncio.timeout(timeout_s):
            output, total = await _read_capped(process.stdout)
            code = await process.wait()
    except TimeoutError:
        _kill_group(process)
        # Bounded: a descendant that left the group (setsid) may still hold the output
        # pipe, and asyncio waits for the pipe as well as the process.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), _REAP_S)
        raise ToolError(
            f"{shown} ran past its {timeout_s:g} s limit and was killed (its whole process group)"
        ) from None
    except BaseException:  # cancelled by the caller's own limit: leave nothing running
        _kill_group(process)
        raise
    _kill_group(process)  # anything it left behind in its group
    return code, output, total


def _answer_text(argv: list[str], code: int, output: bytes, total: int) -> str:
    """The command, its exit code, then its output; a cut said up front, where a cap on the
    text further on cannot hide it."""
    lines = [f"$ {shlex.join(argv)}", f"exit code {code}"]
    if total > len(output):
        lines.append(f"[output cut: the first {len(output):,} of {total:,} bytes]")
    text = output.decode("utf-8", errors="replace").rstrip("\n")
    lines.append(text if text else "(no output)")
    return "\n".join(lines)


class CommandTool:
    """A template's tool; one subclass per template (see `_tool_for`)."""

    name: ClassVar[str] = "cmd_"
    description: ClassVar[str] = ""
    parameters: ClassVar[type[BaseModel]] = BaseModel
    template: ClassVar[Template]

    async def answer(self, arguments: BaseModel) -> ToolAnswer:
        values = {key: str(value) for key, value in arguments.model_dump().items()}
        argv = self.template.argv(values)
        code, output, total = await run_argv(argv, self.template.timeout_s)
        return ToolAnswer(text=_answer_text(argv, code, output, total), query=shlex.join(argv))


def _parameters_model(template: Template) -> type[BaseModel]:
    fields: dict[str, Any] = {
        param: (
            str,
            Field(
                description=f"must match {pattern.pattern}",
                json_schema_extra={"pattern": pattern.pattern},
            ),
        )
        for param, pattern in template.patterns.items()
    }
    model: type[BaseModel] = create_model(
        f"Cmd_{template.name}_Parameters",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )
    return model


def _tool_for(template: Template) -> Tool:
    shown = " ".join(
        [os.path.basename(template.executable)]
        + ["".join(f"{{{p.param}}}" if p.param else p.text for p in e) for e in template.elements]
    )
    tool_class = type(
        f"Cmd_{template.name}",
        (CommandTool,),
        {
            "name": f"cmd_{template.name}",
            "description": f"{template.description} (runs: {shown}; from {template.source})",
            "parameters": _parameters_model(template),
            "template": template,
        },
    )
    return cast(Tool, tool_class())


def command_tools(sources: list[Source]) -> list[Tool]:
    """One tool per template of the commands sources allowed here; none without a source.
    A malformed template, or two templates with one name, is refused (SourcesError)."""
    tools: list[Tool] = []
    seen: dict[str, str] = {}
    for source in sources:
        if source.kind != "commands":
            continue
        for template in templates_of(source):
            if template.name in seen:
                raise _refuse(
                    source.name,
                    template.name,
                    f"a template of source {seen[template.name]!r} has the same name",
                )
            seen[template.name] = source.name
            tools.append(_tool_for(template))
    return tools
