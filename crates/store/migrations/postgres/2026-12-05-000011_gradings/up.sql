-- Grading applications (定级申请, postgres): where each stands and since when (its deadline counts
-- from there), and the steps taken, in order.
CREATE TABLE gradings (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    kind TEXT NOT NULL,
    grade TEXT NOT NULL,
    self_assessment_id TEXT NOT NULL REFERENCES assessments (id),
    state TEXT NOT NULL,
    since DATE NOT NULL,
    applied_on DATE NOT NULL,
    corrected BOOLEAN NOT NULL,
    extended_by INTEGER,
    false_commitment BOOLEAN NOT NULL,
    certificate_id TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX gradings_enterprise ON gradings (enterprise_id, state);

CREATE TABLE grading_steps (
    grading_id TEXT COLLATE "C" NOT NULL REFERENCES gradings (id),
    seq INTEGER NOT NULL,
    step TEXT NOT NULL,
    taken_on DATE NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (grading_id, seq)
);
