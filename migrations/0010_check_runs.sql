-- Live checks of hypotheses (engine/cases/live_checks.py): what ran against which source for
-- which hypothesis, and what it said about it. Every later turn applies them, as it applies
-- people's feedback, so a check's verdict outlives the turn that followed it.

CREATE TABLE check_runs (
    id              bigserial PRIMARY KEY,
    case_id         bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    hypothesis_key  text NOT NULL,
    tool            text NOT NULL,
    call            text NOT NULL,
    query           text,
    ok              boolean NOT NULL,
    verdict         text NOT NULL CHECK (verdict IN ('supports', 'contradicts', 'unclear')),
    summary         text NOT NULL,
    output          text NOT NULL DEFAULT '',
    requested_by    text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX check_runs_by_case ON check_runs (case_id, id);
