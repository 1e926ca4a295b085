-- The audit log (created in 0001, engine/store/audit.py) gets what authorisation needs: the
-- workspace, what an action was aimed at (a channel, a document), and a key so a retried job
-- records its action once. Entries: case.open, case.close, hypothesis.confirmed/ruled_out,
-- evidence.add, knowledge.*, digest.*, and `denied` for every refused action.
ALTER TABLE audit_log RENAME COLUMN created_at TO at;
ALTER TABLE audit_log
    ADD COLUMN team_id text,
    ADD COLUMN target  text,
    ADD COLUMN key     text UNIQUE;
CREATE INDEX audit_log_case ON audit_log (case_id, id) WHERE case_id IS NOT NULL;
CREATE INDEX audit_log_at ON audit_log (at);
