-- +goose Up
-- PostgreSQL: the same schema as the SQLite migration of this version, with
-- BIGINT for the integer columns (Unix microseconds do not fit in INTEGER).
-- The runs table of 00001 was a placeholder and never held rows; this is
-- the shape the runs API and the dispatcher store. The dispatch columns
-- (lease, attempt, wake-up, checkpoint) are used by the dispatcher.
DROP TABLE runs;
CREATE TABLE runs (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    automation_id        TEXT NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
    status               TEXT NOT NULL,
    context              TEXT NOT NULL,
    title                TEXT NOT NULL DEFAULT '',
    owner_id             TEXT NOT NULL,
    space_id             TEXT NOT NULL DEFAULT '',
    executed_by_id       TEXT NOT NULL DEFAULT '',
    test_run             BIGINT NOT NULL DEFAULT 0,
    inputs               TEXT NOT NULL DEFAULT 'null',
    output               TEXT NOT NULL DEFAULT '[]',
    errors               TEXT NOT NULL DEFAULT '[]',
    metrics              TEXT NOT NULL DEFAULT '{}',
    scheduled_start_time BIGINT NOT NULL DEFAULT 0,
    start_time           BIGINT NOT NULL DEFAULT 0,
    stop_time            BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    lease_owner          TEXT NOT NULL DEFAULT '',
    lease_expires_at     BIGINT NOT NULL DEFAULT 0,
    attempt              BIGINT NOT NULL DEFAULT 0,
    wake_at              BIGINT NOT NULL DEFAULT 0,
    checkpoint           TEXT
);
CREATE INDEX runs_automation ON runs (automation_id, id);
CREATE INDEX runs_live ON runs (status, automation_id, id);

-- One row per executed block: the journal the debug log is rendered from.
CREATE TABLE run_journal (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq    BIGINT NOT NULL,
    entry  TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- +goose Down
DROP TABLE run_journal;
DROP TABLE runs;
CREATE TABLE runs (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    automation_id TEXT NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX runs_automation ON runs (automation_id, id);
