-- +goose Up
-- PostgreSQL: the same schema as the SQLite migration of this version, with
-- BIGINT for the integer columns (Unix microseconds do not fit in INTEGER).
-- Shared spaces; a space's name is unique in its tenant.
CREATE TABLE spaces (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    type        TEXT NOT NULL,
    owner_id    TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX spaces_owner ON spaces (tenant_id, owner_id, id);

-- Members of spaces: one assignment per user and space; roles is a JSON
-- array of Qlik space role names.
CREATE TABLE space_assignments (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    space_id    TEXT NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    assignee_id TEXT NOT NULL,
    roles       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (space_id, assignee_id)
);
CREATE INDEX space_assignments_assignee ON space_assignments (tenant_id, assignee_id, space_id);

-- The automations of a space (a space holding any cannot be deleted; the
-- list shows a member the automations of its spaces).
CREATE INDEX automations_space ON automations (tenant_id, space_id, id);

-- Users, recorded when first seen and refreshed as they come back.
CREATE TABLE users (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    roles        TEXT NOT NULL DEFAULT '[]',
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- API keys: only the SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    description TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    roles       TEXT NOT NULL,
    revoked     BIGINT NOT NULL DEFAULT 0,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX api_keys_user ON api_keys (tenant_id, user_id, id);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE users;
DROP INDEX automations_space;
DROP TABLE space_assignments;
DROP TABLE spaces;
