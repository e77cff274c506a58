-- Background jobs and webhooks (sqlite). One job table serves imports and webhook deliveries: a
-- worker claims a due job by taking its lease (lease_owner, lease_until; on PostgreSQL with
-- FOR UPDATE SKIP LOCKED, so several API nodes never take the same job), reports progress
-- and a checkpoint while it holds the lease, and a job whose lease ran out (its node stopped)
-- is claimed again and resumes from its checkpoint.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    subject TEXT,
    principal_id TEXT,
    params TEXT NOT NULL,
    progress_done BIGINT NOT NULL,
    progress_total BIGINT NOT NULL,
    checkpoint TEXT,
    report TEXT,
    attempts INTEGER NOT NULL,
    run_after TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);

-- A job's input (an uploaded file) in a table of its own: progress and checkpoints update the
-- job's row often, and must not copy the file each time.
CREATE TABLE job_inputs (
    job_id TEXT PRIMARY KEY NOT NULL REFERENCES jobs (id),
    bytes BLOB NOT NULL
);

CREATE INDEX jobs_due ON jobs (kind, state, run_after);
CREATE UNIQUE INDEX jobs_subject ON jobs (kind, subject);
CREATE INDEX jobs_principal ON jobs (principal_id, id);

-- Webhook subscriptions: the owner's jurisdiction decides what it is sent; the cursor is the
-- last event (seq) delivered or passed over, so deliveries follow the event log in order.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    principal_id TEXT NOT NULL,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    description TEXT,
    secret TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    cursor BIGINT NOT NULL,
    failing_since TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX webhooks_principal ON webhooks (principal_id, id);

-- Every delivery attempt, with its answer and latency.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL,
    event_seq BIGINT NOT NULL,
    attempt INTEGER NOT NULL,
    manual BOOLEAN NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    status_code INTEGER,
    latency_ms BIGINT NOT NULL,
    succeeded BOOLEAN NOT NULL,
    error TEXT
);

CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (webhook_id, event_seq);
