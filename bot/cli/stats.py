"""`faultmaven stats`: how right FaultMaven was on graded closed cases (the figures of
`/faultmaven stats`), for a terminal or, with --json, for a script."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import warnings
from typing import TYPE_CHECKING, Annotated

import typer

from bot.terminal import echo
from engine.core.config import Settings

if TYPE_CHECKING:
    from engine.cases.accuracy import AccuracyStats


def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    team: Annotated[
        str | None, typer.Option("--team", help="Only this Slack team's cases (team id).")
    ] = None,
) -> None:
    """How often the first hypothesis was right, the median time to the right one, and the
    failure signatures it gets wrong, from the grades given at close."""
    from bot.runtime import Backends
    from engine.cases.accuracy import accuracy

    async def _read() -> AccuracyStats:
        backends = await Backends.start(Settings(), with_redis=False)
        try:
            return await accuracy(backends.pool, team)
        finally:
            await backends.close()

    logging.basicConfig(level="WARNING", stream=sys.stderr)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    figures = asyncio.run(_read())
    if as_json:
        echo(json.dumps(figures.model_dump(mode="json"), indent=2))
        return
    from engine.cases.accuracy import describe_accuracy

    echo(describe_accuracy(figures).replace("*", ""))
