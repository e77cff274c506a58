-- Hidden hazards (事故隐患, sqlite): one row per hazard with its grade (and the determination
-- criterion it matched, with the catalog version), where it stands, the deadline in force
-- (for the overdue queries) and the rest of its progress as JSON: the 五落实 plan, the listed
-- supervision, the extensions asked and the last acceptance.
CREATE TABLE hazards (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    found_on DATE NOT NULL,
    found_by TEXT NOT NULL,
    source TEXT NOT NULL,
    hazard_type TEXT NOT NULL,
    management_class TEXT NOT NULL,
    description TEXT NOT NULL,
    cause TEXT,
    location TEXT,
    grade TEXT NOT NULL,
    criterion TEXT,
    criteria_version TEXT,
    major_reason TEXT,
    state TEXT NOT NULL,
    deadline DATE,
    listed BOOLEAN NOT NULL,
    progress TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX hazards_enterprise ON hazards (enterprise_id, state);
CREATE INDEX hazards_open ON hazards (state, grade, deadline);
