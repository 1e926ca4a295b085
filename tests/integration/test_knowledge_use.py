"""Knowledge in a case's life, on real Postgres + pgvector with the real MiniLM model: a
closed case's postmortem is posted and stored, the next case that looks alike is shown it,
people's Helpful / Outdated verdicts move documents, and `kb add` / search work from chat."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from psycopg_pool import AsyncConnectionPool

from engine.cases.service import CaseService
from engine.core.config import Settings
from engine.core.models import (
    CloseCaseRequest,
    FilesRequest,
    KnowledgeAddRequest,
    KnowledgeSearchRequest,
    KnowledgeVoteRequest,
    MentionRequest,
    OpenCaseRequest,
    ReopenCaseRequest,
    ThreadRef,
)
from engine.core.replies import CaseClosedReply, CaseSummaryReply, KnowledgeReply, NoticeReply
from engine.knowledge.base import case_source
from engine.store import audit
from engine.store.knowledge import list_documents
from tests.fakes.memory import MemoryFiles, MemoryReplier, Uploaded

pytestmark = pytest.mark.integration

CASES = Path(__file__).parents[1] / "scenarios" / "cases"
FIX = "raised the payments-db pool from 20 to 50 connections"


async def incident(
    service: CaseService,
    files: MemoryFiles,
    *,
    scenario: str,
    channel: str,
    thread_ts: str,
    question: str = "what broke?",
) -> ThreadRef:
    """A case opened by a mention, with the scenario's files uploaded into its thread."""
    thread = ThreadRef(team_id="T1", channel_id=channel, thread_ts=thread_ts)
    await service.answer_mention(
        MentionRequest(thread=thread, ts=thread_ts, user="U1", text=question),
        key=f"mention:{thread_ts}",
    )
    refs = [
        files.add(f"{thread_ts}:{path.name}", path.name, path.read_bytes())
        for path in sorted((CASES / scenario).iterdir())
        if path.is_file() and not path.name.startswith("answer")
    ]
    await service.add_files(
        FilesRequest(thread=thread, ts=f"{thread_ts}1", user="U1", text="", files=refs),
        key=f"files:{thread_ts}",
    )
    return thread


async def close(service: CaseService, thread: ThreadRef, resolution: str) -> int:
    case = await service.case_for_thread(thread.channel_id, thread.thread_ts)
    assert case is not None
    await service.close_case(
        CloseCaseRequest(case_id=case.id, user="U1", resolution=resolution), key=f"close:{case.id}"
    )
    return case.id


def postmortems(replier: MemoryReplier) -> list[Uploaded]:
    return [u for u in replier.uploads if u.filename.startswith("postmortem-")]


def related_lines(replier: MemoryReplier, thread: ThreadRef) -> list[str]:
    return [
        line.text
        for posted in replier.in_thread(thread.thread_ts)
        if isinstance(posted.latest, KnowledgeReply)
        for line in posted.latest.lines
    ]


async def test_a_closed_case_posts_its_postmortem_and_becomes_knowledge(
    service: CaseService, files: MemoryFiles, replier: MemoryReplier, pool: AsyncConnectionPool
) -> None:
    thread = await incident(
        service, files, scenario="payments-pool-exhausted", channel="C1", thread_ts="1700000000.1"
    )
    case_id = await close(service, thread, FIX)

    [upload] = postmortems(replier)
    assert (upload.channel_id, upload.thread_ts) == ("C1", thread.thread_ts)
    assert upload.filename == f"postmortem-case-{case_id}.md"
    markdown = upload.content.decode()
    for section in ("## Summary", "## Impact", "## Timeline (UTC)", "## Root cause"):
        assert section in markdown
    assert "## Resolution\n\n" + FIX in markdown
    root_cause = markdown.split("## Root cause", 1)[1].split("##", 1)[0]
    assert "pool" in root_cause.lower() and "payments" in root_cause
    timeline = markdown.split("## Timeline (UTC)", 1)[1].split("##", 1)[0]
    assert "case opened by U1" in timeline and "resolved by U1" in timeline
    assert "first error" in timeline  # the merged evidence timeline is in it
    closed = [p.latest for p in replier.in_thread(thread.thread_ts)]
    assert any(isinstance(r, CaseClosedReply) and "Postmortem" in r.text for r in closed)

    [document] = await list_documents(pool, tier="case")
    assert document.source == case_source(case_id) and document.channel_id == "C1"
    hits = await service.knowledge.search("payments database connection pool exhausted")
    assert hits and hits[0].source == case_source(case_id)
    assert hits[0].link == f"https://memory.example/C1/{thread.thread_ts}"

    # A retried close job posts nothing twice and stores no second version.
    await service.close_case(
        CloseCaseRequest(case_id=case_id, user="U1", resolution=FIX), key=f"close:{case_id}"
    )
    assert len(postmortems(replier)) == 1
    [document] = await list_documents(pool, tier="case")
    assert document.version == 1


async def test_the_next_similar_case_is_shown_the_past_one_once(
    service: CaseService, files: MemoryFiles, replier: MemoryReplier
) -> None:
    first = await incident(
        service, files, scenario="payments-pool-exhausted", channel="C1", thread_ts="1700000000.1"
    )
    past_id = await close(service, first, FIX)

    # Another channel, weeks later: the same failure (incident channels come and go).
    again = await incident(
        service, files, scenario="payments-pool-exhausted", channel="C7", thread_ts="1700900000.1"
    )
    lines = related_lines(replier, again)
    [past] = [line for line in lines if f"case #{past_id}" in line]
    assert past.startswith("Looks like <https://memory.example/C1/")
    assert f"— fix: {FIX}" in past
    summary = [p.latest for p in replier.summaries(again.thread_ts)][-1]
    assert isinstance(summary, CaseSummaryReply)
    assert any(f"case #{past_id}" in step for step in summary.next_steps)

    # More talk in the thread: the past case is not announced again.
    await service.answer_mention(
        MentionRequest(thread=again, ts="1700900050.1", user="U3", text="anything else?"),
        key="mention:more",
    )
    assert sum(f"case #{past_id}" in line for line in related_lines(replier, again)) == 1

    # An unrelated incident is not told about it.
    other = await incident(
        service, files, scenario="kafka-disk-full", channel="C8", thread_ts="1700950000.1"
    )
    assert not any(f"case #{past_id}" in line for line in related_lines(replier, other))


async def test_a_reopened_case_is_marked_and_not_offered_while_open(
    service: CaseService, files: MemoryFiles, replier: MemoryReplier, pool: AsyncConnectionPool
) -> None:
    first = await incident(
        service, files, scenario="payments-pool-exhausted", channel="C1", thread_ts="1700000000.1"
    )
    past_id = await close(service, first, FIX)
    await service.reopen_case(
        ReopenCaseRequest(case_id=past_id, user="U3", reason="pool ran dry again"), key="re1"
    )
    [document] = await list_documents(pool, tier="case")
    assert document.version == 2
    hits = await service.knowledge.search("payments pool exhausted", tiers=["case"])
    assert (
        "Reopened" in hits[0].text
        or "Reopened"
        in (await service.knowledge.search("reopened resolution did not hold", tiers=["case"]))[
            0
        ].text
    )
    notices = [p.latest.text for p in replier.in_thread(first.thread_ts)]
    assert any("reopened by U3: pool ran dry again" in text for text in notices)

    again = await incident(
        service, files, scenario="payments-pool-exhausted", channel="C7", thread_ts="1700900000.1"
    )
    assert not any(f"case #{past_id}" in line for line in related_lines(replier, again))


async def test_kb_add_search_and_outdated_votes(
    service: CaseService, replier: MemoryReplier, pool: AsyncConnectionPool
) -> None:
    old = (
        "# Payments pool runbook (2019)\n\n"
        "When the payments pool is exhausted, restart the payments pods."
    )
    new = (
        "# Payments pool runbook\n\nWhen the payments pool is exhausted, find the leaking "
        "transactions in pg_stat_activity, then raise max pool size."
    )
    for i, text in enumerate((old, new)):
        notice = await service.add_knowledge(
            KnowledgeAddRequest(channel_id="C1", user="U1", text=text), key=f"add{i}"
        )
        assert "Added to this channel's knowledge" in notice.text
    assert [a.action for a in await audit.recent(pool)].count("knowledge.add") == 2

    query = "payments pool is exhausted what to do"
    search = KnowledgeSearchRequest(channel_id="C1", user="U1", query=query)
    first = await service.search_knowledge(search)
    assert {line.document_id for line in first.lines} >= {1, 2}
    ranked = [line.text for line in first.lines]
    old_id = next(line.document_id for line in first.lines if "2019" in line.text)
    # Another channel does not see this channel's notes.
    elsewhere = await service.search_knowledge(search.model_copy(update={"channel_id": "C2"}))
    assert not elsewhere.lines and "nothing found" in elsewhere.text
    # The search answered only the person who asked.
    assert [(c, u) for c, u, _ in replier.private][-1] == ("C2", "U1")

    said = await service.vote_on_knowledge(
        KnowledgeVoteRequest(document_id=old_id, user="U2", verdict="outdated", channel_id="C1")
    )
    assert "outdated" in said
    after = await service.search_knowledge(search)
    assert "2019" not in after.lines[0].text, (ranked, [line.text for line in after.lines])


async def test_global_knowledge_is_for_admins_and_private_urls_are_refused(
    service: CaseService, replier: MemoryReplier, pool: AsyncConnectionPool
) -> None:
    denied = await service.add_knowledge(
        KnowledgeAddRequest(channel_id="C1", user="U1", text="# Everyone\n\nhello", scope="global"),
        key="g1",
    )
    assert denied.is_error and "may change the global knowledge" in denied.text
    assert not await list_documents(pool)

    app = web.Application()

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text="<html><title>Redis failover</title><body><h1>Failover</h1>"
            "<p>Check sentinel quorum before promoting a replica.</p></body></html>",
            content_type="text/html",
        )

    app.router.add_get("/runbook", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/runbook"
    try:
        refused = await service.add_knowledge(
            KnowledgeAddRequest(channel_id="C1", user="U1", text=url), key="u1"
        )
        assert refused.is_error and "127.0.0.1" in refused.text
        service.knowledge_desk.settings = service.settings.model_copy(
            update={"url_allow_private": True}
        )
        added = await service.add_knowledge(
            KnowledgeAddRequest(channel_id="C1", user="U1", text=url), key="u2"
        )
    finally:
        await runner.cleanup()
    assert "Redis failover" in added.text, added.text
    [document] = await list_documents(pool)
    assert (document.source, document.title, document.tier) == (url, "Redis failover", "channel")
    hits = await service.knowledge.search("sentinel quorum", channel_id="C1")
    assert hits[0].link == url
    assert isinstance(replier.private[-1][2], NoticeReply)


async def test_the_llm_is_given_the_past_case_as_a_lead(
    pool: AsyncConnectionPool, settings: Settings, files: MemoryFiles
) -> None:
    """With an LLM, the related knowledge goes into the prompt's case state, marked as
    leads; the system prompt says how to use it."""
    from engine.investigate.llm import LLM
    from tests.fakes.llm_turns import FILLER
    from tests.fakes.openai import FakeOpenAI

    offline = CaseService(pool, settings, replier=MemoryReplier(), files=files)
    first = await incident(
        offline, files, scenario="payments-pool-exhausted", channel="C1", thread_ts="1700000000.1"
    )
    past_id = await close(offline, first, FIX)

    async with FakeOpenAI(default_reply=FILLER) as openai:
        llm = LLM(["gpt-4o-mini"], api_base=openai.base_url, api_key="sk-fake", retries=1)
        service = CaseService(pool, settings, replier=MemoryReplier(), files=files, llm=llm)
        await incident(
            service,
            files,
            scenario="payments-pool-exhausted",
            channel="C7",
            thread_ts="1700900000.1",
        )
        last = openai.requests[-1].messages
    system, user = last[0]["content"], last[-1]["content"]
    assert "Related knowledge (past cases, runbooks) is a lead" in system
    state = user.split("<case_state>", 1)[1].split("</case_state>", 1)[0]
    related = state.split("Related knowledge", 1)[1]
    assert f"case #{past_id}" in related and FIX in related


async def test_a_case_opened_by_command_is_shown_what_its_title_recalls(
    service: CaseService, replier: MemoryReplier
) -> None:
    await service.add_knowledge(
        KnowledgeAddRequest(
            channel_id="C1",
            user="U1",
            text="# Kafka consumer lag\n\nConsumer lag growing on the orders topic: check the "
            "consumer group's partitions and rebalances.",
        ),
        key="kafka",
    )
    case = await service.open_case(
        OpenCaseRequest(
            team_id="T1", channel_id="C1", user="U1", title="kafka consumer lag growing"
        ),
        key="open1",
    )
    shown = related_lines(
        replier, ThreadRef(team_id="T1", channel_id="C1", thread_ts=case.thread_ts)
    )
    assert shown and shown[0].startswith("Runbook: Kafka consumer lag")
