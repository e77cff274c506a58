-- Assessments (评分, sqlite): a self-assessment, review or supervisory check of one enterprise
-- against one standard version; the item results as JSON text, the score computed on read.
CREATE TABLE assessments (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    standard_id TEXT NOT NULL REFERENCES standards (id),
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    assessors TEXT,
    results TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    submitted_on DATE
);

CREATE INDEX assessments_enterprise ON assessments (enterprise_id, kind, state);
