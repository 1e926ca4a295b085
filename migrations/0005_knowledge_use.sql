-- Knowledge in use: where a document can be read, what people said of it, and what each case
-- has already been shown (engine/knowledge/).

-- A link people can open: the thread of a past case, the page a runbook came from.
ALTER TABLE knowledge_documents ADD COLUMN link text;

-- Helpful / Outdated on a cited document: one verdict per person per document, the latest
-- wins. Search weighs documents by these (engine/knowledge/votes.py).
CREATE TABLE knowledge_votes (
    document_id  bigint NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,
    user_id      text NOT NULL,
    verdict      text NOT NULL CHECK (verdict IN ('helpful', 'outdated')),
    case_id      bigint REFERENCES cases (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, user_id)
);

-- Documents already shown in a case's thread, so later turns only mention new ones.
CREATE TABLE case_related_shown (
    case_id      bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    document_id  bigint NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,
    shown_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, document_id)
);
