-- +goose Up
-- PostgreSQL: the same schema as the SQLite migration of this version, with
-- BIGINT for the integer columns (Unix microseconds do not fit in INTEGER).
-- One schedule per automation. next_run_at (Unix microseconds, 0: nothing
-- to fire, because the series ended or the automation is disabled) is
-- precomputed, so the scheduler reads only the earliest due row and never
-- scans idle schedules.
CREATE TABLE schedules (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    automation_id   TEXT NOT NULL UNIQUE REFERENCES automations (id) ON DELETE CASCADE,
    interval_s      BIGINT NOT NULL DEFAULT -1,
    recurrence      TEXT NOT NULL DEFAULT '',
    start_at        TEXT NOT NULL,
    stop_at         TEXT NOT NULL DEFAULT '',
    timezone        TEXT NOT NULL,
    last_started_at BIGINT NOT NULL DEFAULT 0,
    next_run_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX schedules_due ON schedules (next_run_at, id) WHERE next_run_at > 0;

-- A run names the schedule that fired it; one occurrence of a schedule can
-- create one run at most, whatever the scheduler does.
ALTER TABLE runs ADD COLUMN schedule_id TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX runs_schedule_occurrence ON runs (schedule_id, scheduled_start_time) WHERE schedule_id <> '';

-- +goose Down
DROP INDEX runs_schedule_occurrence;
ALTER TABLE runs DROP COLUMN schedule_id;
DROP INDEX schedules_due;
DROP TABLE schedules;
