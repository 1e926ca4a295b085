"""The engine with in-memory chat ports: what most integration tests drive."""

from __future__ import annotations

import pytest
from psycopg_pool import AsyncConnectionPool

from engine.cases.service import CaseService
from engine.core.config import Settings
from tests.fakes.memory import MemoryFiles, MemoryReplier


@pytest.fixture
def replier() -> MemoryReplier:
    return MemoryReplier()


@pytest.fixture
def files() -> MemoryFiles:
    return MemoryFiles()


@pytest.fixture
def service(
    pool: AsyncConnectionPool, settings: Settings, replier: MemoryReplier, files: MemoryFiles
) -> CaseService:
    return CaseService(pool, settings, replier=replier, files=files)
