-- Cases, their conversation, their evidence, and the replies the bot posted.
-- Unique constraints are what make Slack redeliveries and job retries harmless.

CREATE TABLE cases (
    id          bigserial PRIMARY KEY,
    team_id     text NOT NULL DEFAULT '',
    channel_id  text NOT NULL,
    thread_ts   text NOT NULL,
    title       text NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'closed')),
    phase       text NOT NULL DEFAULT 'consulting',
    opened_by   text NOT NULL DEFAULT '',
    resolution  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz,
    UNIQUE (channel_id, thread_ts)
);
CREATE INDEX cases_open_by_channel ON cases (channel_id) WHERE status = 'open';

CREATE TABLE messages (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    ts          text NOT NULL,
    author      text NOT NULL,
    role        text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    text        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, ts)
);

CREATE TABLE evidence (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    source_id   text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL,
    size_bytes  bigint NOT NULL,
    sha256      text,
    content     bytea,
    status      text NOT NULL CHECK (status IN ('analysed', 'rejected')),
    summary     text NOT NULL,
    report      jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, source_id)
);

-- One row per reply the bot owes (keyed by what triggered it), so a retried job updates
-- the message it already posted instead of posting a second one.
CREATE TABLE replies (
    key         text PRIMARY KEY,
    case_id     bigint REFERENCES cases (id) ON DELETE CASCADE,
    channel_id  text NOT NULL,
    message_ts  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    case_id     bigint REFERENCES cases (id) ON DELETE SET NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
