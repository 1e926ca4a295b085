"""What people ask of the knowledge base from chat: search it, add to it, judge what it cited.

`/faultmaven search` answers only the person who asked (the results may not interest the
channel). `kb add` stores text, a web page (fetched with engine/knowledge/url_fetch.py, which
refuses addresses inside the network) or shared files, in the channel's tier by default; the global
tier is for admins (engine/core/authz.py). Every change lands in the audit log.
"""

from __future__ import annotations

import re

from psycopg_pool import AsyncConnectionPool

from engine.cases.posting import Poster
from engine.core.authz import Authorizer
from engine.core.config import Settings
from engine.core.errors import FaultMavenError
from engine.core.models import (
    FileRef,
    KnowledgeAddRequest,
    KnowledgeSearchRequest,
    KnowledgeVoteRequest,
)
from engine.core.ports import FileSource
from engine.core.redact import describe_counts
from engine.core.replies import KnowledgeLine, KnowledgeReply, NoticeReply
from engine.core.wording import clip, linked, plural
from engine.knowledge.base import KnowledgeBase, case_id_of, text_source
from engine.knowledge.documents import KnowledgeError
from engine.knowledge.files import MAX_DOCUMENT_BYTES, decode_text, document_title
from engine.knowledge.search import Hit
from engine.knowledge.url_fetch import fetch_public_url
from engine.store import audit
from engine.store.knowledge import Tier

URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
SNIPPET_CHARS = 220
TITLE_CHARS = 80
KNOWLEDGE_ADD = "knowledge.add"
KNOWLEDGE_VOTE = "knowledge.vote"


def _hit_line(hit: Hit) -> KnowledgeLine:
    case_id = case_id_of(hit.source)
    where = "past case" if case_id is not None else {"global": "runbook"}.get(hit.tier, "team note")
    heading = hit.section
    text = f"*{linked(hit.title, hit.link)}*" + (f" › {heading}" if heading else "")
    text += f"  _({where})_"
    return KnowledgeLine(
        document_id=hit.document_id,
        kind="case" if case_id is not None else "runbook",
        text=text,
        snippet=clip(hit.text, SNIPPET_CHARS),
        votable=case_id is None,
    )


def results_reply(query: str, hits: list[Hit]) -> KnowledgeReply:
    heading = f"🔎 Knowledge for “{clip(query, 60)}”"
    if not hits:
        return KnowledgeReply(
            heading=heading,
            text=f"{heading}: nothing found. Add runbooks with `/faultmaven kb add <url|text>`; "
            "closed cases are added on their own.",
        )
    lines = [_hit_line(h) for h in hits]
    text = "\n".join([heading, *(f"• {line.text}\n  {line.snippet}" for line in lines)])
    return KnowledgeReply(heading=heading, lines=lines, text=text)


class KnowledgeDesk:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        settings: Settings,
        knowledge: KnowledgeBase,
        poster: Poster,
        authz: Authorizer,
        files: FileSource,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.knowledge = knowledge
        self.poster = poster
        self.authz = authz
        self.files = files

    async def search(self, req: KnowledgeSearchRequest) -> KnowledgeReply:
        """Runbooks, team notes and past cases for `req.query`, shown to the asker only."""
        hits = await self.knowledge.search(req.query, k=req.k, channel_id=req.channel_id)
        # Past cases of other channels count too (as in the related knowledge of a case),
        # unless the deployment keeps cases to their channel.
        if self.settings.past_cases_scope == "workspace":
            others = await self.knowledge.search(req.query, k=req.k, tiers=["case"])
            seen = {h.document_id for h in hits}
            hits = sorted(
                [*hits, *(h for h in others if h.document_id not in seen)],
                key=lambda h: -h.score,
            )[: req.k]
        reply = results_reply(req.query, hits)
        await self.poster.replier.post_private(req.channel_id, req.user, reply)
        return reply

    async def add(self, req: KnowledgeAddRequest, *, key: str) -> NoticeReply:
        """Store text, a page or shared files; tell the person (privately, or in the thread
        the files were shared in) what was stored."""
        try:
            notice = await self._add(req, key=key)
        except FaultMavenError as exc:
            notice = NoticeReply(text=exc.user_message, is_error=True)
        await self._tell(req, notice, key=key)
        return notice

    async def check(self, req: KnowledgeAddRequest) -> None:
        """NotAllowed when `req.user` may not add to the tier asked for (global: admins)."""
        if req.scope == "global":
            await self.authz.check_global_knowledge(req.user)

    async def _add(self, req: KnowledgeAddRequest, *, key: str) -> NoticeReply:
        await self.check(req)
        tier: Tier = "global" if req.scope == "global" else "channel"
        channel = None if tier == "global" else req.channel_id
        where = "global knowledge" if tier == "global" else "this channel's knowledge"
        stored: list[str] = []
        problems: list[str] = []
        for title, source, text, link in await self._documents(req, problems):
            # The raw title goes to the store, which masks it and counts what it masked;
            # the audit log and the receipt show it masked the same way.
            shown = self.knowledge.redactor.redact(title).text
            result = await self.knowledge.add(
                title=title,
                source=source,
                text=text,
                tier=tier,
                channel_id=channel,
                tags=["slack"],
                link=link,
            )
            await audit.record(
                self.pool,
                actor=req.user,
                action=KNOWLEDGE_ADD,
                target=source,
                detail={"tier": tier, "title": shown, "version": result.version},
                key=f"{KNOWLEDGE_ADD}:{key}:{source}",
            )
            state = f"version {result.version}" if result.changed else "unchanged, already stored"
            sections = plural(result.chunks, "section")
            masked = f", {describe_counts(result.masked)}" if result.masked else ""
            stored.append(f"*{clip(shown, TITLE_CHARS)}* ({sections}, {state}{masked})")
        if not stored:
            raise KnowledgeError(
                "Nothing was added. " + (" ".join(problems) if problems else USAGE)
            )
        lines = [f"📚 Added to {where}: " + "; ".join(stored) + "."]
        lines += [f"⚠️ {p}" for p in problems]
        lines.append("Find it with `/faultmaven search <words>`.")
        return NoticeReply(text="\n".join(lines))

    async def _documents(
        self, req: KnowledgeAddRequest, problems: list[str]
    ) -> list[tuple[str, str, str, str | None]]:
        """(title, source, text, link) of what the request brings."""
        documents: list[tuple[str, str, str, str | None]] = []
        text = req.text.strip()
        if URL.match(text):
            page = await fetch_public_url(
                text.strip("<>"), allow_private=self.settings.url_allow_private
            )
            title = page.title or document_title(page.text, page.url)
            documents.append((title, text, page.text, page.url))
        elif text:
            title = clip(document_title(text, text.splitlines()[0].lstrip("# ")), TITLE_CHARS)
            documents.append((title, text_source(text), text, None))
        for file in req.files:
            document = await self._file_document(file, problems)
            if document is not None:
                documents.append(document)
        return documents

    async def _file_document(
        self, file: FileRef, problems: list[str]
    ) -> tuple[str, str, str, str | None] | None:
        try:
            data = await self.files.fetch(file, MAX_DOCUMENT_BYTES)
        except FaultMavenError as exc:
            problems.append(f"{file.name}: {exc.user_message}")
            return None
        text = decode_text(data)
        if text is None or not text.strip():
            problems.append(f"{file.name}: not a text file (Markdown or plain text only).")
            return None
        stem = file.name.rsplit(".", 1)[0]
        # The name is the identity in its channel: sharing a changed runbook.md again makes
        # a new version of the same document.
        return document_title(text, stem), f"file:{file.name}", text, None

    async def _tell(self, req: KnowledgeAddRequest, notice: NoticeReply, *, key: str) -> None:
        if req.files and req.thread_ts:
            await self.poster.post_once(f"kb:{key}", req.channel_id, notice, req.thread_ts)
        else:
            await self.poster.replier.post_private(req.channel_id, req.user, notice)

    async def vote(self, req: KnowledgeVoteRequest) -> str:
        """Record Helpful / Outdated; what to tell the person who clicked."""
        tally = await self.knowledge.vote(
            req.document_id, req.user, req.verdict, case_id=req.case_id
        )
        if tally is None:
            return "That document is no longer in the knowledge base."
        await audit.record(
            self.pool,
            actor=req.user,
            action=KNOWLEDGE_VOTE,
            case_id=req.case_id,
            target=str(req.document_id),
            detail={"verdict": req.verdict},
        )
        helpful, outdated = tally
        if req.verdict == "outdated":
            return (
                f"Thanks — marked as outdated ({outdated} so far); it will rank lower in "
                "searches and related knowledge. Fix it with `/faultmaven kb add`."
            )
        return f"Thanks — marked as helpful ({helpful} so far); it will rank higher."


USAGE = (
    "Usage: `/faultmaven kb add <url>`, `/faultmaven kb add <text>` (Markdown welcome), or "
    "share a Markdown/text file with the message `kb add`. Add `--global` for every "
    "channel (admins only)."
)
