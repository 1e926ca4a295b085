-- How cases ended, as people graded them at close (engine/cases/outcomes.py): how good the
-- leading hypothesis was, which runbook or past case helped, and the fix. Related knowledge
-- ranks by them, the offline reasoner's confidences are calibrated by them, and
-- `/faultmaven stats` counts them.
--
-- A table of its own, not columns on `cases`: an outcome is written after the close, by
-- clicks of other people at other times (each with who and when), it points at a knowledge
-- document (kept when the document goes: SET NULL), and the per-signature counts read only
-- it. A case has one outcome: grading it again (after a reopen and a new close, or a changed
-- mind) replaces it.
CREATE TABLE case_outcomes (
    case_id             bigint PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    team_id             text NOT NULL DEFAULT '',
    -- The leading hypothesis at close and what it was: root cause 100, contributing 65,
    -- a symptom of the cause 35, wrong 0. NULL until someone grades it (a "this helped"
    -- click may come first).
    verdict             text CHECK (verdict IN ('root_cause', 'contributing', 'symptom', 'wrong')),
    grade               smallint CHECK (grade IN (100, 65, 35, 0)),
    hypothesis_key      text,
    signature           text,  -- its failure signature (engine/investigate/signatures.py)
    statement           text,
    confidence          real,  -- the evidence's score for it at close
    first_seen_at       timestamptz,  -- when it first appeared in the case (hypotheses)
    first_lead_key      text,  -- the first turn's leading hypothesis: was the first guess right?
    graded_by           text,
    graded_at           timestamptz,
    helped_document_id  bigint REFERENCES knowledge_documents (id) ON DELETE SET NULL,
    helped_by           text,
    fix                 text NOT NULL DEFAULT '',  -- the resolution given at close
    closed_at           timestamptz NOT NULL,      -- the close it grades
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((verdict IS NULL) = (grade IS NULL))
);
CREATE INDEX case_outcomes_by_signature ON case_outcomes (team_id, signature)
    WHERE verdict IS NOT NULL;
CREATE INDEX case_outcomes_by_helped ON case_outcomes (helped_document_id)
    WHERE helped_document_id IS NOT NULL;
