-- Runs: every invocation that writes is one run (a whole batch is one), so
-- that it can be found again, reviewed and undone. The log's batch_id
-- becomes the run id, for commands too; detail holds what a row needs
-- beyond its before/after (the id of a row the change created).
CREATE TABLE api_operationrun (
    id                 uuid PRIMARY KEY,
    started_at         timestamptz NOT NULL,
    ended_at           timestamptz NULL,
    actor              varchar(255) NOT NULL,
    command            text NOT NULL,
    target             text NOT NULL,
    mode               varchar(32) NOT NULL,
    outcome            varchar(32) NOT NULL,
    users_changed      integer NULL,
    changes            integer NOT NULL,
    tokens_blacklisted integer NOT NULL,
    sessions_deleted   integer NOT NULL,
    devices_deleted    integer NOT NULL,
    batch_file         text NOT NULL,
    batch_sha256       varchar(64) NOT NULL,
    last_line          integer NULL,
    reverts_id         uuid NULL REFERENCES api_operationrun (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX api_operationrun_started_at_idx ON api_operationrun (started_at);
CREATE INDEX api_operationrun_reverts_id_idx ON api_operationrun (reverts_id);

ALTER TABLE api_operationlog RENAME COLUMN batch_id TO run_id;
ALTER TABLE api_operationlog ADD COLUMN detail jsonb NULL;
UPDATE api_operationlog SET detail = '{}';
ALTER TABLE api_operationlog ALTER COLUMN detail SET NOT NULL;

-- Batches logged before runs existed become runs of their own.
INSERT INTO api_operationrun (id, started_at, ended_at, actor, command, target, mode, outcome, users_changed, changes,
    tokens_blacklisted, sessions_deleted, devices_deleted, batch_file, batch_sha256, last_line, reverts_id)
SELECT run_id, min(created_at), max(created_at), min(actor), 'b2badmin batch ' || min(batch_file), '', 'batch', 'committed',
       count(DISTINCT target_user_id), count(*), 0, 0, 0, min(batch_file), '', max(batch_line), NULL
FROM api_operationlog WHERE run_id IS NOT NULL GROUP BY run_id;

CREATE INDEX api_operationlog_run_id_idx ON api_operationlog (run_id);
ALTER TABLE api_operationlog ADD CONSTRAINT api_operationlog_run_id_fk
    FOREIGN KEY (run_id) REFERENCES api_operationrun (id) DEFERRABLE INITIALLY DEFERRED;
