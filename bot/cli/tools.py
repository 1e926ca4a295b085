"""`faultmaven tools`: list the live tools the configured sources give, and run one.

The terminal is the operator's own place: every configured source may be used here. Each run
is audited like a run from Slack (the same Postgres as the bot, embedded when DATABASE_URL is
unset), with the operator's login as who asked.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import sys
import warnings
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.terminal import echo
from engine.core.config import Settings
from engine.core.errors import FaultMavenError

if TYPE_CHECKING:
    from engine.core.tool_runs import ToolRun
    from engine.tools.base import Tool

tools_app = typer.Typer(
    no_args_is_help=True,
    help="Live tools: query the configured sources (FAULTMAVEN_SOURCES_FILE) read-only.",
)


def _quiet() -> None:
    logging.basicConfig(level="WARNING", stream=sys.stderr)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def terminal_tools(settings: Settings) -> list[Tool]:
    from engine.cases.live_toolbox import place_tools
    from engine.tools.sources import TERMINAL, load_sources

    return place_tools(load_sources(settings.sources_file), TERMINAL)


def _tools_or_exit(settings: Settings) -> list[Tool]:
    try:
        return terminal_tools(settings)
    except FaultMavenError as exc:
        echo(str(exc), err=True)
        raise typer.Exit(2) from None


def parse_args(pairs: list[str]) -> dict[str, Any]:
    from engine.tools.base import ToolError
    from engine.tools.registry import parse_pairs

    try:
        return parse_pairs(pairs)
    except ToolError as exc:
        raise typer.BadParameter(str(exc)) from None


@tools_app.command("list")
def list_tools(
    as_json: Annotated[
        bool, typer.Option("--json", help="names, descriptions, parameters")
    ] = False,
) -> None:
    """The tools the configured sources give, with their parameters."""
    tools = _tools_or_exit(Settings())
    if as_json:
        echo(
            json.dumps(
                [
                    {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters.model_json_schema(),
                    }
                    for tool in tools
                ],
                indent=2,
            )
        )
        return
    for tool in tools:
        schema = tool.parameters.model_json_schema()
        required = set(schema.get("required", []))
        params = " ".join(
            name if name in required else f"[{name}]" for name in schema.get("properties", {})
        )
        echo(f"{tool.name} {params}".rstrip())
        echo(f"    {tool.description}")


async def _run(settings: Settings, name: str, arguments: dict[str, Any]) -> ToolRun:
    from bot.runtime import Backends
    from engine.cases.live_toolbox import place_registry
    from engine.core.redact import Redactor

    tools = _tools_or_exit(settings)
    backends = await Backends.start(settings, with_redis=False)
    try:
        registry = place_registry(
            tools,
            pool=backends.pool,
            case_id=None,
            redactor=Redactor(mask_ips=settings.redact_ips),
        )
        return await registry.run(name, arguments, requested_by=f"terminal:{getpass.getuser()}")
    finally:
        await backends.close()


@tools_app.command("run")
def run_tool(
    name: Annotated[str, typer.Argument(help="a tool from `faultmaven tools list`")],
    arg: Annotated[
        list[str] | None, typer.Option("--arg", help="name=value; repeat for each argument")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the run as JSON")] = False,
) -> None:
    """Run one tool, as a model or a person in Slack would; exits 1 when it failed."""
    _quiet()
    arguments = parse_args(arg or [])
    run = asyncio.run(_run(Settings(), name, arguments))
    if as_json:
        echo(run.model_dump_json(indent=2))
    else:
        echo(f"$ {run.query or run.call}")
        echo(run.output if run.ok else f"error: {run.error}")
        if run.evidence_name:
            echo(f"(in a case this would be kept as evidence: {run.evidence_name})")
    if not run.ok:
        raise typer.Exit(1)
