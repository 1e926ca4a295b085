-- Alertmanager groups and their cases (engine/cases/alert_cases.py): a group's later
-- notifications go to its case's thread instead of opening another case.
-- While `case_id` is NULL the group's case is being opened by the notification `opener_key`
-- (claimed at `claimed_at`); another notification of the group waits for it, and takes the
-- claim over only once it is stale (the opener's worker died).

CREATE TABLE alert_groups (
    group_key    text PRIMARY KEY,               -- Alertmanager's groupKey
    channel_id   text NOT NULL,                  -- where its case opens
    case_id      bigint REFERENCES cases (id) ON DELETE SET NULL,
    incident     integer NOT NULL DEFAULT 1,     -- cases the group has opened: it fired again
    opener_key   text NOT NULL,                  -- the notification that opens the case
    claimed_at   timestamptz NOT NULL DEFAULT now(),
    firing       jsonb NOT NULL DEFAULT '{}',    -- alert key -> how it reads, firing last time
    state        text,                           -- the last notification handled; NULL while
                                                 -- the opener's first look is still running
    resolved_at  timestamptz,                    -- the group's resolution, once noted
    updated_at   timestamptz NOT NULL DEFAULT now()
);
