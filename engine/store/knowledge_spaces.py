"""Embedding spaces: one per embedding model, with the model's dimension and its HNSW index.

Migrations cannot know the model's dimension, so `knowledge_chunks.embedding` is an untyped
`vector` and each model gets a row of `knowledge_embedding_spaces` at its first use, with a
partial expression index over its rows (see migrations/0003_knowledge.sql). Queries must
repeat the index's cast and predicate literally, which `Space.distance` and `Space.predicate`
give them: the only SQL here composed with `psycopg.sql`, since a type modifier and an index
name cannot be parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from psycopg import AsyncConnection, sql
from psycopg.rows import class_row

# pgvector's HNSW indexes at most 2,000 dimensions of `vector` and 4,000 of `halfvec`;
# a bigger model is searched exactly (no index), which is slow but right.
MAX_VECTOR_DIMS = 2000
MAX_HALFVEC_DIMS = 4000


@dataclass(frozen=True)
class Space:
    id: int
    model: str
    dimension: int

    @property
    def vector_type(self) -> sql.Composable:
        kind = "vector" if self.dimension <= MAX_VECTOR_DIMS else "halfvec"
        return sql.SQL("{}({})").format(sql.SQL(kind), sql.SQL(str(int(self.dimension))))

    @property
    def indexed(self) -> bool:
        return self.dimension <= MAX_HALFVEC_DIMS

    @property
    def index_name(self) -> sql.Identifier:
        return sql.Identifier(f"knowledge_chunks_embedding_{int(self.id)}")

    @property
    def predicate(self) -> sql.Composable:
        """The index's WHERE clause, as a literal so the planner can match it."""
        return sql.SQL("embedding_space = {}").format(sql.Literal(int(self.id)))

    def distance(self, param: str) -> sql.Composable:
        """Cosine distance from the chunk's embedding to the query vector `%(param)s`."""
        return sql.SQL("(embedding::{t} <=> {p}::{t})").format(
            t=self.vector_type, p=sql.Placeholder(param)
        )


async def find_space(conn: AsyncConnection, model: str) -> Space | None:
    async with conn.cursor(row_factory=class_row(Space)) as cur:
        await cur.execute(
            "SELECT id, model, dimension FROM knowledge_embedding_spaces WHERE model = %(model)s",
            {"model": model},
        )
        return await cur.fetchone()


async def ensure_space(conn: AsyncConnection, model: str, dimension: int) -> Space:
    """The space of `model`, created with its index at first use. A model whose dimension
    changed (another model under the same name) is refused rather than mixed."""
    space = await find_space(conn, model)
    if space is None:
        async with conn.transaction():
            cur = await conn.execute(
                "INSERT INTO knowledge_embedding_spaces (model, dimension)"
                " VALUES (%(model)s, %(dimension)s) ON CONFLICT (model) DO NOTHING RETURNING id",
                {"model": model, "dimension": dimension},
            )
            row = await cur.fetchone()
            if row is not None:  # ours: the index goes in the same transaction
                created = Space(row[0], model, dimension)
                if created.indexed:
                    await conn.execute(create_index_statement(created))
        space = await find_space(conn, model)
        assert space is not None
    if space.dimension != dimension:
        raise ValueError(
            f"embedding model {model!r} gives {dimension} dimensions but its stored embeddings"
            f" have {space.dimension}"
        )
    return space


def create_index_statement(space: Space) -> sql.Composed:
    """The HNSW index of one space: over its rows only, on the cast its queries repeat."""
    ops = "vector_cosine_ops" if space.dimension <= MAX_VECTOR_DIMS else "halfvec_cosine_ops"
    return sql.SQL(
        "CREATE INDEX IF NOT EXISTS {name} ON knowledge_chunks"
        " USING hnsw ((embedding::{t}) {ops}) WHERE {predicate}"
    ).format(
        name=space.index_name, t=space.vector_type, ops=sql.SQL(ops), predicate=space.predicate
    )


def vector_literal(vector: NDArray[np.float32] | Sequence[float]) -> str:
    """pgvector's text form, '[0.1,0.2,...]': it needs no type registered on the connection
    (the pool may have opened connections before the extension existed)."""
    return "[" + ",".join(f"{x:.8g}" for x in np.asarray(vector, dtype=np.float32).tolist()) + "]"
