"""`faultmaven kb`: import, search and list knowledge from a terminal.

The commands use the same Postgres as the bot (embedded when DATABASE_URL is unset). Each
one first makes sure the starter runbooks are loaded (unless FAULTMAVEN_STARTER_KNOWLEDGE is
false) and that every chunk is embedded by the configured model.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from bot.terminal import echo
from engine.core.config import Settings
from engine.core.errors import FaultMavenError

if TYPE_CHECKING:
    from bot.runtime import Backends
    from engine.knowledge.embed import Embedder
    from engine.knowledge.search import Hit

kb_app = typer.Typer(
    no_args_is_help=True,
    help="Knowledge: runbooks and notes, found by meaning and by words.",
)

T = TypeVar("T")


def _quiet() -> None:
    logging.basicConfig(level="WARNING", stream=sys.stderr)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _with_knowledge(
    work: Callable[[Backends, Embedder | None], Awaitable[T]],
    *,
    needs_embedder: bool,
) -> T:
    """Run `work` against the database, after preparing the knowledge."""

    async def main() -> T:
        from bot.runtime import Backends
        from engine.knowledge.embed import load_embedder
        from engine.knowledge.starter import prepare_knowledge

        settings = Settings()
        backends = await Backends.start(settings, with_redis=False)
        try:
            embedder = await prepare_knowledge(
                backends.pool, settings, notify=lambda text: echo(text, err=True)
            )
            if embedder is None and needs_embedder:
                embedder = await asyncio.to_thread(load_embedder, settings.embedding_model)
            return await work(backends, embedder)
        finally:
            await backends.close()

    _quiet()
    return asyncio.run(main())


@kb_app.command("import")
def kb_import(
    paths: Annotated[
        list[Path], typer.Argument(help="Markdown or text files, folders of them, .zip files")
    ],
    tier: Annotated[str, typer.Option(help="global | channel")] = "global",
    channel: Annotated[
        str | None, typer.Option(help="Slack channel id (for --tier channel)")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help="a tag for every document")] = None,
) -> None:
    """Import documents; one already imported gets a new version only if it changed."""
    from engine.core.redact import Redactor, describe_counts
    from engine.knowledge.documents import check_tier, import_document
    from engine.knowledge.files import LocalDocument, read_documents

    try:
        check_tier(tier, channel)
    except FaultMavenError as exc:
        echo(exc.user_message, err=True)
        raise typer.Exit(2) from None

    async def work(backends: Backends, embedder: Embedder | None) -> int:
        assert embedder is not None
        failed = 0
        redactor = Redactor(mask_ips=Settings().redact_ips)
        for document in read_documents(paths):
            if not isinstance(document, LocalDocument):
                echo(f"{document.source}: {document.reason}", err=True)
                failed += 1
                continue
            try:
                result = await import_document(
                    backends.pool,
                    embedder,
                    title=document.title,
                    source=document.source,
                    text=document.text,
                    tier=tier,  # type: ignore[arg-type]  # checked above
                    channel_id=channel,
                    tags=tag or (),
                    redactor=redactor,
                )
            except FaultMavenError as exc:
                echo(f"{document.source}: {exc.user_message}", err=True)
                failed += 1
                continue
            state = "imported" if result.changed else "unchanged"
            masked = f"; {describe_counts(result.masked)}" if result.masked else ""
            echo(
                f"{state}: {document.source} ({document.title}): version {result.version},"
                f" {result.chunks} chunks{masked}"
            )
        return failed

    if _with_knowledge(work, needs_embedder=True):
        raise typer.Exit(1)


@kb_app.command("search")
def kb_search(
    query: Annotated[str, typer.Argument(help="a symptom, an error message, a question")],
    as_json: Annotated[bool, typer.Option("--json", help="print the results as JSON")] = False,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="how many results")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid | vector | text")] = "hybrid",
    tier: Annotated[
        list[str] | None, typer.Option(help="search only this tier (repeatable)")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="only knowledge of no channel or of this one")
    ] = None,
) -> None:
    """Find the documents most relevant to QUERY, each shown by its best section."""
    from engine.knowledge.search import MODES, search

    if mode not in MODES:
        echo(f"Unknown mode {mode!r}: use hybrid, vector or text.", err=True)
        raise typer.Exit(2)

    async def work(backends: Backends, embedder: Embedder | None) -> list[Hit]:
        assert embedder is not None
        return await search(
            backends.pool, embedder, query, k=k, mode=mode, tiers=tier or None, channel_id=channel
        )

    try:
        hits = _with_knowledge(work, needs_embedder=True)
    except ValueError as exc:
        echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if as_json:
        results = [
            {
                "source": h.source,
                "title": h.title,
                "heading": h.heading,
                "score": round(h.score, 6),
                "text": h.text,
                "tier": h.tier,
                "document_id": h.document_id,
            }
            for h in hits
        ]
        echo(json.dumps({"results": results}, indent=2))
        return
    if not hits:
        echo("No knowledge matches.")
        return
    for rank, hit in enumerate(hits, 1):
        echo(f"{rank}. {hit.heading or hit.title}  ({hit.score:.3f}, {hit.source})")
        snippet = " ".join(hit.text.split())
        echo(f"   {snippet[:240]}{'…' if len(snippet) > 240 else ''}")


@kb_app.command("list")
def kb_list(
    tier: Annotated[str | None, typer.Option(help="global | channel | case")] = None,
) -> None:
    """List the documents with their latest version and chunks."""
    from engine.store.knowledge import TIERS, DocumentInfo, list_documents

    if tier is not None and tier not in TIERS:
        echo(f"Unknown tier {tier!r}: use global, channel or case.", err=True)
        raise typer.Exit(2)

    async def work(backends: Backends, _: Embedder | None) -> list[DocumentInfo]:
        return await list_documents(backends.pool, tier=tier)

    documents = _with_knowledge(work, needs_embedder=False)
    if not documents:
        echo("No knowledge yet: add some with `faultmaven kb import PATH`.")
        return
    echo(f"{'id':>4}  {'tier':<8} {'ver':>3} {'chunks':>6}  title — source")
    for d in documents:
        where = f"{d.tier}:{d.channel_id}" if d.channel_id else d.tier
        echo(f"{d.id:>4}  {where:<8} {d.version:>3} {d.chunks:>6}  {d.title} — {d.source}")
    chunks = sum(d.chunks for d in documents)
    echo(f"{len(documents)} documents, {chunks} chunks")
