"""The engine's use cases against real Postgres, with in-memory chat ports."""

from __future__ import annotations

import pytest
from psycopg_pool import AsyncConnectionPool

from engine.cases.service import CaseService
from engine.core.errors import AmbiguousCase, CaseNotFound
from engine.core.models import (
    CloseCaseRequest,
    FilesRequest,
    MentionRequest,
    MessageRequest,
    OpenCaseRequest,
    ThreadRef,
)
from engine.core.replies import (
    AnswerReply,
    CaseClosedReply,
    CaseOpenedReply,
    EvidenceReply,
    NoticeReply,
)
from engine.store import evidence as evidence_store
from engine.store import messages
from tests.fakes.memory import MemoryFiles, MemoryReplier
from tests.samples import checkout_log, healthy_log

pytestmark = pytest.mark.integration

THREAD = ThreadRef(team_id="T1", channel_id="C1", thread_ts="1700000000.000001")


def mention(text: str, ts: str = "1700000000.000001", **extra: object) -> MentionRequest:
    return MentionRequest(thread=THREAD, ts=ts, user="U1", text=text, **extra)  # type: ignore[arg-type]


async def ask(
    service: CaseService, replier: MemoryReplier, request: MentionRequest, *, key: str
) -> AnswerReply:
    """Mention the bot and return the answer it posted in the thread."""
    await service.answer_mention(request, key=key)
    return replier.answers(request.thread.thread_ts)[-1]


async def test_a_mention_opens_a_case_and_gets_an_offline_answer(
    service: CaseService, replier: MemoryReplier
) -> None:
    answer = await ask(
        service, replier, mention("checkout is throwing 502s since 14:00"), key="Ev1"
    )

    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None and case.title == "checkout is throwing 502s since 14:00"
    assert answer.engine == "offline" and "no LLM was used" in answer.footer
    [summary] = replier.summaries(THREAD.thread_ts)  # the case summary, pinned
    assert (summary.channel_id, summary.ts) in replier.pinned
    assert len(replier.answers(THREAD.thread_ts)) == 1
    # No evidence yet: the answer asks for logs rather than guessing.
    assert "Upload the logs" in answer.text
    # The question from the description is still a lead: 502s point at upstream 5xx.
    assert "5xx" in answer.text


async def test_redelivered_mention_gives_one_case_one_reply(
    service: CaseService, replier: MemoryReplier, pool: AsyncConnectionPool
) -> None:
    await service.answer_mention(mention("db is down"), key="Ev1")
    await service.answer_mention(mention("db is down"), key="Ev1")  # Slack retry / job retry

    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None
    assert len(replier.answers(THREAD.thread_ts)) == 1, "a retry updates, never posts again"
    assert len(replier.summaries(THREAD.thread_ts)) == 1
    history = await messages.history(pool, case.id, limit=100)
    assert [m.role for m in history] == ["user", "assistant"]


async def test_thread_messages_become_history_only_in_case_threads(
    service: CaseService, pool: AsyncConnectionPool
) -> None:
    other = ThreadRef(channel_id="C1", thread_ts="1699999999.000009")
    assert not await service.record_message(
        MessageRequest(thread=other, ts="1.1", user="U2", text="hi")
    )

    await service.answer_mention(mention("orders failing"), key="Ev1")
    assert await service.record_message(
        MessageRequest(
            thread=THREAD, ts="1700000001.000001", user="U2", text="we deployed at 13:58"
        )
    )
    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None
    texts = [m.text for m in await messages.history(pool, case.id, limit=100)]
    assert "we deployed at 13:58" in texts


async def test_uploaded_log_is_summarised_and_used_in_the_next_answer(
    service: CaseService, replier: MemoryReplier, files: MemoryFiles
) -> None:
    await service.answer_mention(mention("checkout 502s"), key="Ev1")
    ref = files.add("F1", "checkout.log", checkout_log())

    reply = await service.add_files(
        FilesRequest(thread=THREAD, ts="1700000002.0", user="U1", files=[ref]), key="Ev2"
    )

    assert isinstance(reply, EvidenceReply) and not reply.rejected
    [summary] = reply.accepted
    assert summary.startswith("checkout.log:")
    assert "40 ERROR" in summary and "15 WARN" in summary
    assert "upstream payments-db: connection pool exhausted" in summary
    assert "14:02" in summary  # errors start

    answer = await ask(service, replier, mention("what is wrong?", ts="1700000003.0"), key="Ev3")
    assert "connection pool is exhausted" in answer.text
    assert "checkout.log" in answer.text  # the evidence is cited


async def test_same_file_twice_is_one_evidence_row(
    service: CaseService, files: MemoryFiles, pool: AsyncConnectionPool
) -> None:
    await service.answer_mention(mention("x"), key="Ev1")
    ref = files.add("F1", "app.log", healthy_log())
    request = FilesRequest(thread=THREAD, ts="1700000002.0", user="U1", files=[ref])
    await service.add_files(request, key="Ev2")
    await service.add_files(request, key="Ev2")
    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None
    stored = await evidence_store.list_for_case(pool, case.id)
    assert len(stored) == 1 and stored[0].sha256 and stored[0].size_bytes == len(healthy_log())
    assert files.fetches == ["F1"], "the second delivery must not download again"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02\x03PK\x00\x00" * 100, "binary"),
    ],
)
async def test_bad_files_get_a_clear_reason_and_keep_earlier_evidence(
    service: CaseService,
    files: MemoryFiles,
    pool: AsyncConnectionPool,
    content: bytes,
    expected: str,
) -> None:
    await service.answer_mention(mention("x"), key="Ev1")
    good = files.add("F1", "good.log", checkout_log())
    await service.add_files(
        FilesRequest(thread=THREAD, ts="2.0", user="U1", files=[good]), key="Ev2"
    )
    bad = files.add("F2", "bad.log", content)
    missing = files.add("F3", "gone.log", b"x")
    del files.files["F3"]

    reply = await service.add_files(
        FilesRequest(thread=THREAD, ts="3.0", user="U1", files=[bad, missing]), key="Ev3"
    )

    assert reply is not None and not reply.accepted
    assert any(expected in r.lower() for r in reply.rejected), reply.rejected
    assert any("could not download gone.log" in r.lower() for r in reply.rejected)
    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None
    stored = {e.name: e for e in await evidence_store.list_for_case(pool, case.id)}
    assert stored["good.log"].status == "analysed"
    assert "gone.log" not in stored  # a failed download stores nothing, so a retry can work


async def test_open_posts_a_root_message_whose_thread_is_the_case(
    service: CaseService, replier: MemoryReplier
) -> None:
    case = await service.open_case(
        OpenCaseRequest(channel_id="C9", user="U1", title="search latency"), key="trig1"
    )
    [root] = replier.posted
    assert root.thread_ts is None and case.thread_ts == root.ts
    assert isinstance(root.latest, CaseOpenedReply) and f"Case #{case.id}" in root.latest.text

    again = await service.open_case(
        OpenCaseRequest(channel_id="C9", user="U1", title="search latency"), key="trig1"
    )
    assert again.id == case.id and len(replier.posted) == 1


async def test_close_picks_the_only_open_case_or_asks(
    service: CaseService, replier: MemoryReplier
) -> None:
    with pytest.raises(CaseNotFound, match="no open case"):
        await service.find_case_to_close("C9", None)
    first = await service.open_case(
        OpenCaseRequest(channel_id="C9", user="U1", title="one"), key="t1"
    )
    assert (await service.find_case_to_close("C9", None)).id == first.id
    second = await service.open_case(
        OpenCaseRequest(channel_id="C9", user="U1", title="two"), key="t2"
    )
    with pytest.raises(AmbiguousCase) as asked:
        await service.find_case_to_close("C9", None)
    assert set(asked.value.case_ids) == {first.id, second.id}
    assert (
        f"#{first.id}" in asked.value.user_message and f"#{second.id}" in asked.value.user_message
    )
    assert (await service.find_case_to_close("C9", second.id)).id == second.id
    with pytest.raises(CaseNotFound):
        await service.find_case_to_close("C-other", second.id)


async def test_close_posts_a_resolution_summary_once(
    service: CaseService, replier: MemoryReplier, files: MemoryFiles
) -> None:
    await service.answer_mention(mention("checkout 502s"), key="Ev1")
    ref = files.add("F1", "checkout.log", checkout_log())
    await service.add_files(
        FilesRequest(thread=THREAD, ts="2.0", user="U1", files=[ref]), key="Ev2"
    )
    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None

    request = CloseCaseRequest(
        case_id=case.id, user="U1", resolution="raised payments-db pool to 50"
    )
    summary = await service.close_case(request, key="close1")
    again = await service.close_case(request, key="close1")  # job retry

    assert isinstance(summary, CaseClosedReply) and isinstance(again, CaseClosedReply)
    assert "raised payments-db pool to 50" in summary.text
    assert "checkout.log" in summary.text and "connection pool exhausted" in summary.text
    closing = [
        p for p in replier.in_thread(THREAD.thread_ts) if isinstance(p.reply, CaseClosedReply)
    ]
    assert len(closing) == 1
    other = await service.close_case(request, key="close2")  # someone else closes it again
    assert isinstance(other, NoticeReply) and "already resolved" in other.text
    with pytest.raises(CaseNotFound):
        await service.find_case_to_close("C1", None)


async def test_case_numbers_do_not_skip(service: CaseService) -> None:
    """A mention in an existing case thread must not burn a case number."""
    first = await service.open_case(
        OpenCaseRequest(channel_id="C9", user="U1", title="one"), key="t1"
    )
    on_first = MentionRequest(thread=first.thread, ts="5.0", user="U1", text="any news?")
    await service.answer_mention(on_first, key="Ev9")
    second = await service.open_case(
        OpenCaseRequest(channel_id="C9", user="U1", title="two"), key="t2"
    )
    assert second.id == first.id + 1


async def test_an_archive_upload_is_analysed_member_by_member(
    service: CaseService, files: MemoryFiles, pool: AsyncConnectionPool
) -> None:
    import gzip
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app/checkout.log", checkout_log())
        archive.writestr("app/worker.log", healthy_log())
        archive.writestr("core.bin", b"\x00\x01\x02" * 500)
    await service.answer_mention(mention("x"), key="Ev1")
    zipped = files.add("F1", "logs.zip", buffer.getvalue())
    bomb = files.add("F2", "bomb.log.gz", gzip.compress(bytes(60 * 1024 * 1024)))
    request = FilesRequest(thread=THREAD, ts="2.0", user="U1", files=[zipped, bomb])

    reply = await service.add_files(request, key="Ev2")
    again = await service.add_files(request, key="Ev2")  # redelivery

    assert reply is not None and again is not None
    assert reply.accepted[0] == "logs.zip: archive of 3 files"
    assert any(a.startswith("logs.zip/app/checkout.log: 458 lines") for a in reply.accepted)
    assert any(a.startswith("logs.zip/app/worker.log: 50 lines") for a in reply.accepted)
    assert any(r.startswith("logs.zip/core.bin:") and "binary" in r for r in reply.rejected)
    assert any(r.startswith("bomb.log.gz:") and "zip bomb" in r for r in reply.rejected)
    assert again.accepted == reply.accepted and again.rejected == reply.rejected
    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None
    rows = await evidence_store.list_for_case(pool, case.id)
    assert len(rows) == 5  # the archive, its 3 members, the refused bomb
    assert files.fetches == ["F1", "F2"]  # the redelivery downloaded nothing


async def test_an_error_rate_chart_is_uploaded_once_in_the_thread(
    service: CaseService, replier: MemoryReplier, files: MemoryFiles
) -> None:
    await service.answer_mention(mention("x"), key="Ev1")
    request = FilesRequest(
        thread=THREAD,
        ts="2.0",
        user="U1",
        files=[
            files.add("F1", "checkout.log", checkout_log()),
            files.add("F2", "ok.log", healthy_log()),
        ],
    )
    await service.add_files(request, key="Ev2")
    await service.add_files(request, key="Ev2")  # retry

    [chart] = replier.uploads
    assert chart.thread_ts == THREAD.thread_ts and chart.content.startswith(b"\x89PNG")
    assert chart.title == "Errors per minute: checkout.log"


async def test_traces_are_analysed_and_the_deepest_failing_service_leads(
    service: CaseService, files: MemoryFiles, replier: MemoryReplier
) -> None:
    from tests.samples.traces import incident, jaeger

    await service.answer_mention(mention("checkout errors"), key="Ev1")
    spans = incident(client_spans=False, db_instrumented=True)
    ref = files.add("F1", "trace.json", jaeger(spans))
    reply = await service.add_files(
        FilesRequest(thread=THREAD, ts="2.0", user="U1", files=[ref]), key="Ev2"
    )
    answer = await ask(service, replier, mention("where does it start?", ts="3.0"), key="Ev3")

    assert reply is not None and reply.accepted[0].startswith("trace.json: ")
    assert "traces" in reply.accepted[0] and "payments-db" in reply.accepted[0]
    assert "payments-db is where the failures start" in answer.text
    assert "(trace.json)" in answer.text
    # Callers whose errors come from payments-db are not offered as where it starts.
    assert "payments is where" not in answer.text and "checkout is where" not in answer.text


async def test_a_new_version_of_a_config_shows_what_changed(
    service: CaseService, files: MemoryFiles
) -> None:
    from tests.samples.configs import NEW_DEPLOYMENT, OLD_DEPLOYMENT

    await service.answer_mention(mention("checkout pods restarting"), key="Ev1")
    first = files.add("F1", "deployment.yaml", OLD_DEPLOYMENT)
    second = files.add("F2", "deployment.yaml", NEW_DEPLOYMENT)

    before = await service.add_files(
        FilesRequest(thread=THREAD, ts="2.0", user="U1", files=[first]), key="Ev2"
    )
    after = await service.add_files(
        FilesRequest(thread=THREAD, ts="3.0", user="U1", files=[second]), key="Ev3"
    )

    assert before is not None and after is not None
    assert before.accepted[0].startswith("deployment.yaml: Kubernetes YAML")
    assert "since the earlier upload" not in before.accepted[0]
    assert "since the earlier upload: deployment.yaml: 2 changes" in after.accepted[0]
    assert "spec.replicas: 3 → 1" in after.details
    assert (
        "spec.template.spec.containers[app].image: acme/checkout:1.41 → acme/checkout:1.42"
        in after.details
    )


async def test_each_kind_of_file_goes_to_its_own_analysis(
    service: CaseService, files: MemoryFiles
) -> None:
    """Metrics, a span table (also numeric CSV!), a config and a log, uploaded together."""
    from tests.samples.configs import NEW_DEPLOYMENT
    from tests.samples.metrics import latency_csv
    from tests.samples.traces import incident, span_table

    await service.answer_mention(mention("latency"), key="Ev1")
    uploads = [
        files.add("F1", "latency.csv", latency_csv().encode()),
        files.add(
            "F2", "spans.csv", span_table(incident(client_spans=False, db_instrumented=True))
        ),
        files.add("F3", "deployment.yaml", NEW_DEPLOYMENT),
        files.add("F4", "checkout.log", checkout_log()),
    ]
    reply = await service.add_files(
        FilesRequest(thread=THREAD, ts="2.0", user="U1", files=uploads), key="Ev2"
    )

    assert reply is not None and not reply.rejected
    by_name = {line.split(":", 1)[0]: line for line in reply.accepted}
    assert "p99_latency_ms rose 120→850 at 14:02 (level shift)" in by_name["latency.csv"]
    assert "traces" in by_name["spans.csv"] and "payments-db" in by_name["spans.csv"]
    assert "Kubernetes YAML" in by_name["deployment.yaml"]
    assert "40 ERROR" in by_name["checkout.log"]


async def test_files_of_several_services_give_the_case_suspects_and_timeline(
    service: CaseService, files: MemoryFiles, replier: MemoryReplier
) -> None:
    from tests.samples.incident import json_lines, plain_log

    await service.answer_mention(mention("checkout is failing"), key="Ev1")
    refs = [
        files.add("F1", "checkout.log", plain_log("checkout", offset_hours=2)),
        files.add("F2", "search.log", plain_log("search")),
    ]
    first = await service.add_files(
        FilesRequest(thread=THREAD, ts="2.0", user="U1", files=refs), key="Ev2"
    )
    later = files.add("F3", "payments.json", json_lines("payments"))
    second = await service.add_files(
        FilesRequest(thread=THREAD, ts="3.0", user="U1", files=[later]), key="Ev3"
    )

    assert first is not None and second is not None
    assert first.suspects[0].startswith("checkout")  # all that is known so far
    # The later file joins the earlier ones: payments leads, checkout is its victim.
    assert second.suspects[0].startswith("payments (")
    assert "likely a victim" in second.suspects[1]
    assert any("14:05 error rate" in line and "checkout.log" in line for line in second.timeline)
    assert not any(line.startswith("search") for line in second.suspects)
    # The answer leads with the suspect's own failure, not the victim's 503s.
    answer = await ask(service, replier, mention("where does it start?", ts="4.0"), key="Ev4")
    first_line = answer.text.splitlines()[0]
    assert first_line.startswith("*Most likely:* The database connection pool is exhausted")
    assert "in payments" in first_line


async def test_a_question_first_seen_as_history_is_still_answered(
    service: CaseService, replier: MemoryReplier
) -> None:
    """Two mentions seconds apart may be handled out of order: the later one reads the earlier
    one back from the thread as history first. It is a question all the same."""
    await service.answer_mention(mention("checkout errors", ts="1.0"), key="E1")
    said = MessageRequest(thread=THREAD, ts="2.0", user="U2", text="what about payments?")
    await service.record_message(said)  # as _read_earlier_thread would store it

    await service.answer_mention(mention("what about payments?", ts="2.0"), key="E2")

    assert len(replier.answers(THREAD.thread_ts)) == 2


async def test_files_shared_together_are_read_side_by_side_and_kept_in_the_order_shared(
    service: CaseService, files: MemoryFiles, pool: AsyncConnectionPool
) -> None:
    """The first file is by far the longest to read; the rest finish first, yet the reply's
    lines and the stored rows follow the order shared, and the config's second version is
    compared with the first one shared beside it."""
    from tests.samples.configs import NEW_DEPLOYMENT, OLD_DEPLOYMENT

    service.evidence.parallel_reads = 4
    await service.answer_mention(mention("checkout pods restarting"), key="Ev1")
    shared = [
        files.add("F1", "big.log", checkout_log() * 200),
        files.add("F2", "deployment.yaml", OLD_DEPLOYMENT),
        files.add("F3", "gone.log", b"x"),
        files.add("F4", "deployment.yaml", NEW_DEPLOYMENT),
        files.add("F5", "healthy.log", healthy_log()),
    ]
    del files.files["F3"]

    reply = await service.add_files(
        FilesRequest(thread=THREAD, ts="2.0", user="U1", files=shared), key="Ev2"
    )

    assert reply is not None
    assert [line.split(":")[0] for line in reply.accepted] == [
        "big.log",
        "deployment.yaml",
        "deployment.yaml",
        "healthy.log",
    ]
    assert "since the earlier upload" not in reply.accepted[1]
    assert "since the earlier upload: deployment.yaml: 2 changes" in reply.accepted[2]
    assert any("could not download gone.log" in r.lower() for r in reply.rejected)
    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None
    stored = await evidence_store.list_for_case(pool, case.id)
    assert [(e.source_id, e.name) for e in sorted(stored, key=lambda e: e.id)] == [
        ("F1", "big.log"),
        ("F2", "deployment.yaml"),
        ("F4", "deployment.yaml"),
        ("F5", "healthy.log"),
    ]
