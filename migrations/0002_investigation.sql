-- The investigation's state per case: the latest conclusion, the hypotheses people act on, their
-- feedback, the history of phase changes, and one row per investigation turn (what it read,
-- which engine answered, how many prompt tokens it cost).

ALTER TABLE cases
    ADD COLUMN working_conclusion text NOT NULL DEFAULT '',
    ADD COLUMN confidence real NOT NULL DEFAULT 0 CHECK (confidence BETWEEN 0 AND 1),
    ADD COLUMN next_steps jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD CONSTRAINT cases_phase_known
        CHECK (phase IN ('consulting', 'diagnosing', 'analyzing', 'resolved'));

-- A message that asked the bot something: a turn owes it an answer until `answered_in` says
-- which turn gave it. (Not "ids after the last turn's": ids commit out of order.)
ALTER TABLE messages
    ADD COLUMN asks boolean NOT NULL DEFAULT false,
    ADD COLUMN answered_in integer;
CREATE INDEX messages_unanswered ON messages (case_id) WHERE asks AND answered_in IS NULL;

CREATE TABLE hypotheses (
    id            bigserial PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    key           text NOT NULL,  -- stable across turns, e.g. 'db-pool:payments'
    statement     text NOT NULL,
    category      text,
    component     text,
    status        text NOT NULL DEFAULT 'proposed'
                  CHECK (status IN ('proposed', 'testing', 'confirmed', 'ruled_out')),
    confidence    real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    evidence_confidence real,  -- the evidence's own score, before people's verdict
    supporting    jsonb NOT NULL DEFAULT '[]'::jsonb,
    contradicting jsonb NOT NULL DEFAULT '[]'::jsonb,
    checks        jsonb NOT NULL DEFAULT '[]'::jsonb,
    rank          integer,  -- position in the latest turn; NULL when that turn left it out
    decided_by    text,     -- who confirmed or ruled it out; people's word outranks the engine's
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, key)
);

CREATE TABLE feedback (
    id              bigserial PRIMARY KEY,
    case_id         bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    key             text NOT NULL UNIQUE,  -- the trigger (button click, message), once only
    hypothesis_key  text,
    kind            text NOT NULL CHECK (kind IN ('confirm', 'rule_out', 'note')),
    author          text NOT NULL,
    text            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_by_case ON feedback (case_id, id);

CREATE TABLE phase_changes (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    from_phase  text NOT NULL,
    to_phase    text NOT NULL,
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX phase_changes_by_case ON phase_changes (case_id, id);

CREATE TABLE turns (
    id                  bigserial PRIMARY KEY,
    case_id             bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    number              integer NOT NULL,
    engine              text NOT NULL CHECK (engine IN ('llm', 'offline')),
    model               text,
    response_type       text NOT NULL,
    phase               text NOT NULL,
    last_message_id     bigint NOT NULL DEFAULT 0,  -- messages up to here were read
    evidence_count      integer NOT NULL DEFAULT 0,
    prompt_tokens       integer NOT NULL DEFAULT 0,
    completion_tokens   integer NOT NULL DEFAULT 0,
    full_history_tokens integer NOT NULL DEFAULT 0,  -- what sending everything would cost
    result              jsonb NOT NULL,
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, number)
);
