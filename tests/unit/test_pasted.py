"""Which messages carry pasted command output, read as evidence."""

from __future__ import annotations

from engine.cases.pasted import pasted_outputs

GET_PODS = """NAME                        READY   STATUS             RESTARTS      AGE
checkout-7d9f8c6b5-x2k4p    0/1     CrashLoopBackOff   7 (2m ago)    20m
payments-6c7d8e9f5-fghij    1/1     Running            0             3d
"""


def test_a_fenced_block_of_a_few_lines_is_evidence() -> None:
    message = f"pods look like this:\n```\n{GET_PODS}```\nany idea?"
    [data] = pasted_outputs(message)
    assert data.decode().startswith("NAME") and b"CrashLoopBackOff" in data


def test_slack_escapes_are_undone() -> None:
    message = "```\nEnvironment:  &lt;none&gt;\nMounts:  &lt;none&gt;\nQoS Class: Burstable\n```"
    [data] = pasted_outputs(message)
    assert b"<none>" in data and b"&lt;" not in data


def test_conversation_is_not_evidence() -> None:
    assert pasted_outputs("checkout is down since 14:05, we rolled back at 14:20") == []
    prose = "first we checked DNS\nthen the pool\nthen we restarted payments\nno luck"
    assert pasted_outputs(prose) == []
    assert pasted_outputs("```\nkubectl get pods\n```") == []  # a command, not its output


def test_each_block_is_its_own_output() -> None:
    message = f"```\n{GET_PODS}```\nand the logs:\n```\nline one\nline two\nline three\n```"
    assert len(pasted_outputs(message)) == 2


def test_a_one_line_kubectl_reply_is_evidence_and_a_chat_line_that_looks_alike_is_not() -> None:
    for reply in (
        'Error from server (NotFound): pods "video-streamer" not found',
        'error: the server doesn\'t have a resource type "scaledobject"',
        "No resources found in shop namespace.",
    ):
        [data] = pasted_outputs(reply)
        assert data.decode() == reply + "\n"
    assert pasted_outputs("error: something broke after the deploy") == []


def test_output_after_a_line_of_the_person_s_own_words_is_evidence() -> None:
    for intro in ("kubectl get pods says:", "here is what hpa shows"):
        [data] = pasted_outputs(f"{intro}\n{GET_PODS}")
        assert GET_PODS in data.decode()
