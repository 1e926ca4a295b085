"""`faultmaven investigate` with an LLM configured: the same structured turn as in a thread."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.fakes.openai import FakeOpenAI, Reply
from tests.samples.incident import json_lines, plain_log

pytestmark = pytest.mark.integration

LLM_TURN = {
    "response_type": "answer",
    "answer": "*Likely:* the payments pool is exhausted.",
    "working_conclusion": "payments exhausted its connection pool at 14:05",
    "confidence": 0.8,
    "hypotheses": [
        {
            "statement": "payments' database connection pool is exhausted",
            "component": "payments",
            "category": "resource-exhaustion",
            "confidence": 0.8,
            "supporting": [{"source": "payments.json", "text": "pool exhausted"}],
            "checks": ["compare pool size with max_connections"],
        }
    ],
    "next_steps": ["compare pool size with max_connections"],
    "commands": ["kubectl -n shop logs deploy/payments --since=1h"],
}


async def test_investigate_uses_the_llm_and_prints_its_tokens(tmp_path: Path) -> None:
    (tmp_path / "checkout.log").write_bytes(plain_log("checkout"))
    (tmp_path / "payments.json").write_bytes(json_lines("payments"))
    async with FakeOpenAI() as openai:
        openai.script(Reply(json.dumps(LLM_TURN), prompt_tokens=1800, completion_tokens=120))
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(
            {
                "LLM_MODEL": "openai/fake-model",
                "LLM_API_BASE": openai.base_url,
                "LLM_API_KEY": "sk-fake",
                "FAULTMAVEN_DATA_DIR": str(tmp_path / "data"),
            }
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "investigate",
            str(tmp_path / "checkout.log"),
            str(tmp_path / "payments.json"),
            "-q",
            "where does it start?",
            "--json",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["working_conclusion"] == "payments exhausted its connection pool at 14:05"
    assert result["hypotheses"][0]["component"] == "payments"
    assert result["commands"] == ["kubectl -n shop logs deploy/payments --since=1h"]
    # The suspects still come from the evidence itself, whatever the model said.
    assert result["suspects"][0]["component"] == "payments"
    assert result["usage"] == [
        {"model": "openai/fake-model", "prompt_tokens": 1800, "completion_tokens": 120}
    ]
    [request] = openai.requests
    prompt = "\n".join(m["content"] for m in request.messages)
    assert "payments.json" in prompt and "where does it start?" in prompt
