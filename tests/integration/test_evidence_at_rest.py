"""Uploaded files are sealed in the database, still usable by the engine, and re-sealable."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from engine.cases.service import CaseService
from engine.core.config import Settings
from engine.core.crypto import new_key_text
from engine.core.models import FilesRequest, MentionRequest, ThreadRef
from tests.fakes.memory import MemoryFiles, MemoryReplier
from tests.samples.configs import NEW_DEPLOYMENT, OLD_DEPLOYMENT

pytestmark = pytest.mark.integration

THREAD = ThreadRef(team_id="T1", channel_id="C1", thread_ts="1700000000.000001")


async def rotate_key(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`faultmaven db rotate-key` as an operator runs it (in a thread: it blocks)."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "db", "rotate-key"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def stored_blobs(pool: AsyncConnectionPool) -> list[bytes]:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT content FROM evidence ORDER BY id")
        return [bytes(row[0]) for row in await cur.fetchall()]


async def upload_two_versions(service: CaseService, files: MemoryFiles) -> list[str]:
    await service.answer_mention(
        MentionRequest(thread=THREAD, ts="1.0", user="U1", text="pods restarting"), key="E1"
    )
    details: list[str] = []
    for i, content in enumerate((OLD_DEPLOYMENT, NEW_DEPLOYMENT), 2):
        ref = files.add(f"F{i}", "deployment.yaml", content)
        reply = await service.add_files(
            FilesRequest(thread=THREAD, ts=f"{i}.0", user="U1", files=[ref]), key=f"E{i}"
        )
        assert reply is not None
        details = reply.details
    return details


async def test_uploads_are_sealed_at_rest_and_diffs_still_work(
    pool: AsyncConnectionPool, settings: Settings
) -> None:
    files = MemoryFiles()
    service = CaseService(pool, settings, replier=MemoryReplier(), files=files)

    details = await upload_two_versions(service, files)

    # The second version was compared with the first, read back through the seal.
    assert "spec.replicas: 3 → 1" in details
    for blob in await stored_blobs(pool):
        assert blob.startswith(b"FMe1")
        assert b"replicas" not in blob and b"acme/checkout" not in blob


async def test_rotating_the_key_reseals_every_file(
    pool: AsyncConnectionPool, settings: Settings, db_url: str, tmp_path: Path
) -> None:
    old_key, new_key = new_key_text(), new_key_text()
    before = settings.model_copy(update={"evidence_key": SecretStr(old_key)})
    files = MemoryFiles()
    await upload_two_versions(
        CaseService(pool, before, replier=MemoryReplier(), files=files), files
    )
    sealed_before = await stored_blobs(pool)

    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        DATABASE_URL=db_url,
        FAULTMAVEN_DATA_DIR=str(tmp_path / "data"),
        FAULTMAVEN_EVIDENCE_KEY=new_key,
        FAULTMAVEN_EVIDENCE_OLD_KEYS=old_key,
    )
    done = await rotate_key(env)
    assert done.returncode == 0, done.stderr
    assert "sealed with the current key: 2 evidence file(s)" in done.stdout

    after = await stored_blobs(pool)
    assert all(a != b for a, b in zip(after, sealed_before, strict=True))
    # Only the new key is needed now: the engine reads the files with it alone.
    rotated = settings.model_copy(update={"evidence_key": SecretStr(new_key)})
    cipher = rotated.evidence_cipher()
    assert b"replicas" in cipher.open(after[0], row="evidence:1:F2")

    # Without the key that sealed them, the command says which setting is missing.
    env.update(FAULTMAVEN_EVIDENCE_KEY=new_key_text(), FAULTMAVEN_EVIDENCE_OLD_KEYS="")
    lost = await rotate_key(env)
    assert lost.returncode != 0
    assert "FAULTMAVEN_EVIDENCE_OLD_KEYS" in lost.stderr
