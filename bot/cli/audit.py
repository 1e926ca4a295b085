"""`faultmaven audit`: the latest audit log entries (who opened, closed, confirmed, uploaded,
changed knowledge, and what was refused), newest first."""

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
    from engine.store.audit import AuditEntry


def format_entry(entry: AuditEntry) -> str:
    """One line: when, case, who, what, on what, details."""
    parts = [
        entry.at.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
        f"case #{entry.case_id}" if entry.case_id is not None else "-",
        entry.actor or "?",
        entry.action,
    ]
    if entry.target:
        parts.append(entry.target)
    if entry.detail:
        parts.append(json.dumps(entry.detail, ensure_ascii=False, sort_keys=True))
    return "  ".join(parts)


def audit(
    case: Annotated[int | None, typer.Option("--case", help="Only this case's entries.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many entries.")] = 50,
) -> None:
    """Show the latest audit log entries, newest first."""
    from bot.runtime import Backends
    from engine.store import audit as audit_store

    async def _read() -> list[AuditEntry]:
        backends = await Backends.start(Settings(), with_redis=False)
        try:
            return await audit_store.recent(backends.pool, limit=limit, case_id=case)
        finally:
            await backends.close()

    logging.basicConfig(level="WARNING", stream=sys.stderr)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    entries = asyncio.run(_read())
    if not entries:
        echo(f"No audit entries for case #{case}." if case else "The audit log is empty.")
        return
    for entry in entries:
        echo(format_entry(entry))
