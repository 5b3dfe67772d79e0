-- +goose Up
-- PostgreSQL: the same schema as the SQLite migration of this version, with
-- BIGINT for the integer columns (Unix microseconds do not fit in INTEGER).
-- Times are integer Unix microseconds (UTC); 0 means "never". Absent text is
-- '' so that every sort column is NOT NULL and keyset pagination stays simple.
CREATE TABLE automations (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL,
    owner_id            TEXT NOT NULL,
    space_id            TEXT NOT NULL DEFAULT '',
    run_mode            TEXT NOT NULL,
    workspace           TEXT NOT NULL,
    snippet_ids         TEXT NOT NULL DEFAULT '[]',
    endpoint_ids        TEXT NOT NULL DEFAULT '[]',
    connector_ids       TEXT NOT NULL DEFAULT '[]',
    execution_token     TEXT NOT NULL,
    max_concurrent_runs BIGINT NOT NULL,
    last_run_id         TEXT NOT NULL DEFAULT '',
    last_run_at         BIGINT NOT NULL DEFAULT 0,
    last_run_status     TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

-- Keyset indexes: a user's own list by every sort field, and the tenant-wide
-- (listAll) list by the common ones.
CREATE INDEX automations_owner_id        ON automations (tenant_id, owner_id, id);
CREATE INDEX automations_owner_name      ON automations (tenant_id, owner_id, name, id);
CREATE INDEX automations_owner_run_mode  ON automations (tenant_id, owner_id, run_mode, id);
CREATE INDEX automations_owner_state     ON automations (tenant_id, owner_id, state, id);
CREATE INDEX automations_owner_created   ON automations (tenant_id, owner_id, created_at, id);
CREATE INDEX automations_owner_updated   ON automations (tenant_id, owner_id, updated_at, id);
CREATE INDEX automations_owner_last_run  ON automations (tenant_id, owner_id, last_run_at, id);
CREATE INDEX automations_owner_status    ON automations (tenant_id, owner_id, last_run_status, id);
CREATE INDEX automations_owner_max_runs  ON automations (tenant_id, owner_id, max_concurrent_runs, id);
CREATE INDEX automations_tenant_id       ON automations (tenant_id, id);
CREATE INDEX automations_tenant_name     ON automations (tenant_id, name, id);
CREATE INDEX automations_tenant_created  ON automations (tenant_id, created_at, id);
CREATE INDEX automations_tenant_updated  ON automations (tenant_id, updated_at, id);
CREATE INDEX automations_tenant_max_runs ON automations (tenant_id, max_concurrent_runs);

CREATE TABLE tenant_settings (
    tenant_id                          TEXT PRIMARY KEY,
    max_concurrent_runs_per_automation BIGINT NOT NULL,
    updated_at                         BIGINT NOT NULL
);

-- The run history. Issue 4 fills it in; change-owner already clears it.
CREATE TABLE runs (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    automation_id TEXT NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX runs_automation ON runs (automation_id, id);

-- +goose Down
DROP TABLE runs;
DROP TABLE tenant_settings;
DROP TABLE automations;
