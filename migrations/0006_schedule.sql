-- What the scheduler (engine/schedule.py) needs: the channels that asked for a daily digest,
-- and when retention purged an evidence row's content (the row and its findings stay).
-- Reminders and digests need no table of their own: each is posted under a reply key
-- (replies.key) that names its period, which is what keeps them to one post.

CREATE TABLE digest_channels (
    channel_id  text PRIMARY KEY,
    team_id     text NOT NULL DEFAULT '',
    enabled_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE evidence ADD COLUMN purged_at timestamptz;
-- Retention looks for old rows that still hold content; purged rows drop out of the index.
CREATE INDEX evidence_content_by_age ON evidence (created_at) WHERE content IS NOT NULL;
