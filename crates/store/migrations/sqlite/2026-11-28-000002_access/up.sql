-- Principals (API callers), their tokens, and the event log (SQLite).
CREATE TABLE principals (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    -- Supervision area codes, comma-separated (validated by the domain).
    area_codes TEXT NOT NULL,
    enterprise_id TEXT REFERENCES enterprises (id),
    read_only BOOLEAN NOT NULL,
    disabled BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY NOT NULL,
    principal_id TEXT NOT NULL REFERENCES principals (id),
    -- SHA-256 of the whole token, hex; the token itself is never stored.
    secret_hash TEXT NOT NULL,
    -- The first characters of the token, to recognise it in lists.
    hint TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    last_used_at TIMESTAMP,
    CONSTRAINT tokens_secret_hash_key UNIQUE (secret_hash)
);

CREATE INDEX tokens_principal_id ON tokens (principal_id, id);

-- One row per change, appended in the transaction of the change. seq is assigned in commit
-- order (one writer on SQLite; see docs/adr/0004-event-feed-ordering.md).
CREATE TABLE events (
    seq INTEGER PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_principal_id TEXT,
    actor_role TEXT,
    request_id TEXT,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    area_code TEXT,
    enterprise_id TEXT,
    data TEXT NOT NULL,
    reason TEXT
);

CREATE INDEX events_resource ON events (resource_type, resource_id, seq);
CREATE INDEX events_area ON events (area_code, seq);
CREATE INDEX events_enterprise ON events (enterprise_id, seq);
