-- +goose Up
-- PostgreSQL: the same schema as the SQLite migration of this version, with
-- BIGINT for the integer columns (Unix microseconds do not fit in INTEGER).
-- What the dispatcher and the usage endpoint need beyond 00002:
-- how a run was triggered (usage counts scheduled, triggered and webhook
-- runs apart), the size of its journal (retention caps it per automation),
-- indexes for the queue, the lease rescuer and the parked runs, and the
-- daily usage aggregates, updated when a run ends so /usage never scans runs.
ALTER TABLE runs ADD COLUMN trigger TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE runs ADD COLUMN journal_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN journal_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX runs_automation_status ON runs (automation_id, status, id);
CREATE INDEX runs_automation_start ON runs (automation_id, start_time, id);
CREATE INDEX runs_lease ON runs (lease_expires_at) WHERE lease_owner <> '';
CREATE INDEX runs_wake ON runs (wake_at) WHERE wake_at > 0;
-- The run URL may name an automation instead of giving its id.
CREATE INDEX automations_name ON automations (name);

CREATE TABLE usage_daily (
    tenant_id      TEXT NOT NULL,
    day            TEXT NOT NULL,
    automation_id  TEXT NOT NULL,
    runs           BIGINT NOT NULL DEFAULT 0,
    scheduled_runs BIGINT NOT NULL DEFAULT 0,
    triggered_runs BIGINT NOT NULL DEFAULT 0,
    webhook_runs   BIGINT NOT NULL DEFAULT 0,
    duration_us    BIGINT NOT NULL DEFAULT 0,
    bandwidth_in   BIGINT NOT NULL DEFAULT 0,
    bandwidth_out  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, automation_id)
);

-- +goose Down
DROP TABLE usage_daily;
DROP INDEX automations_name;
DROP INDEX runs_wake;
DROP INDEX runs_lease;
DROP INDEX runs_automation_start;
DROP INDEX runs_automation_status;
ALTER TABLE runs DROP COLUMN journal_seq;
ALTER TABLE runs DROP COLUMN journal_bytes;
ALTER TABLE runs DROP COLUMN trigger;
