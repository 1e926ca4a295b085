-- Knowledge: documents (runbooks, team notes, closed cases), their versions, and the chunks
-- that search reads (engine/knowledge/).

CREATE EXTENSION IF NOT EXISTS vector;

-- A document is one source (file path, URL, Slack permalink) in one tier (and channel).
-- Tier and channel never change for a document; chunks carry a copy so that search filters
-- them without a join.
CREATE TABLE knowledge_documents (
    id               bigserial PRIMARY KEY,
    tier             text NOT NULL CHECK (tier IN ('global', 'channel', 'case')),
    channel_id       text,
    source           text NOT NULL,
    title            text NOT NULL,
    tags             text[] NOT NULL DEFAULT '{}',
    current_version  integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (tier <> 'global' OR channel_id IS NULL),
    CHECK (tier <> 'channel' OR channel_id IS NOT NULL)
);
CREATE UNIQUE INDEX knowledge_documents_identity
    ON knowledge_documents (tier, coalesce(channel_id, ''), source);

-- Every content a document had; re-importing the same content adds nothing.
CREATE TABLE knowledge_versions (
    id           bigserial PRIMARY KEY,
    document_id  bigint NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,
    version      integer NOT NULL,
    sha256       text NOT NULL,
    text         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (document_id, version)
);

-- The dimension is read from the model and the schema follows it. Migrations are static SQL
-- and the model is a setting, so the vector column is untyped (`vector`) and each embedding
-- model gets a row here with its dimension, recorded at its first use. At that moment the
-- store creates that model's HNSW index as a partial expression index over its rows:
--   CREATE INDEX knowledge_chunks_embedding_<id> ON knowledge_chunks
--     USING hnsw ((embedding::vector(<dimension>)) vector_cosine_ops)
--     WHERE embedding_space = <id>
-- and search queries repeat that cast and predicate (as literals) so the planner uses it.
-- Vectors of two models are never compared: changing EMBEDDING_MODEL re-embeds the current
-- chunks into the new space (engine/knowledge/store.py).
CREATE TABLE knowledge_embedding_spaces (
    id          serial PRIMARY KEY,
    model       text NOT NULL UNIQUE,
    dimension   integer NOT NULL CHECK (dimension BETWEEN 1 AND 16000),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Chunks of the current version of each document only: a new version replaces them (the
-- older versions keep their text), so search sees the latest content and nothing else.
CREATE TABLE knowledge_chunks (
    id               bigserial PRIMARY KEY,
    version_id       bigint NOT NULL REFERENCES knowledge_versions (id) ON DELETE CASCADE,
    document_id      bigint NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,
    tier             text NOT NULL,
    channel_id       text,
    ordinal          integer NOT NULL,
    heading          text NOT NULL DEFAULT '',
    text             text NOT NULL,
    tsv              tsvector GENERATED ALWAYS AS (
                         setweight(to_tsvector('english', heading), 'A')
                         || setweight(to_tsvector('english', text), 'B')
                     ) STORED,
    embedding_space  integer REFERENCES knowledge_embedding_spaces (id),
    embedding        vector,
    UNIQUE (version_id, ordinal)
);
CREATE INDEX knowledge_chunks_tsv ON knowledge_chunks USING gin (tsv);
CREATE INDEX knowledge_chunks_document ON knowledge_chunks (document_id);
