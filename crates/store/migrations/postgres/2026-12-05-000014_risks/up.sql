-- Risk graded control (安全风险分级管控, postgres): analysis units of an enterprise (post, process
-- step, device, place, activity) with their stop periods as JSON; risks of a unit with the
-- inherent and residual assessments as JSON beside the level columns the registers and the
-- four-colour counts filter on; control measures of a risk.
CREATE TABLE risk_units (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    location TEXT,
    department TEXT NOT NULL,
    responsible TEXT NOT NULL,
    control_level TEXT NOT NULL,
    installation TEXT,
    stops TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX risk_units_enterprise ON risk_units (enterprise_id, id);

CREATE TABLE risks (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    unit_id TEXT NOT NULL REFERENCES risk_units (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    name TEXT NOT NULL,
    accident_kinds TEXT NOT NULL,
    inherent_level TEXT NOT NULL,
    residual_level TEXT,
    assessment TEXT NOT NULL,
    criterion TEXT,
    criteria_version TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX risks_enterprise ON risks (enterprise_id, inherent_level);
CREATE INDEX risks_unit ON risks (unit_id);

CREATE TABLE risk_measures (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    risk_id TEXT NOT NULL REFERENCES risks (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    description TEXT NOT NULL,
    mode TEXT NOT NULL,
    class TEXT NOT NULL,
    subclass TEXT,
    check_content TEXT,
    owner TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX risk_measures_risk ON risk_measures (risk_id);
