-- Creation and upgrade drives (创建达标、提档升级): per enterprise, and guidance visits (SQLite).
CREATE TABLE drives (
    enterprise_id TEXT PRIMARY KEY NOT NULL REFERENCES enterprises (id),
    supervision_focus BOOLEAN NOT NULL,
    focus_reason TEXT,
    focus_since DATE,
    creation_stage TEXT NOT NULL,
    stage_since DATE,
    model_enterprise BOOLEAN NOT NULL,
    model_note TEXT,
    upgrade_target_grade TEXT,
    upgrade_target_year INTEGER,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX drives_target_year ON drives (upgrade_target_year);

CREATE TABLE guidance_visits (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    visited_on DATE NOT NULL,
    visitor TEXT NOT NULL,
    findings TEXT NOT NULL,
    follow_up_on DATE,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX guidance_visits_enterprise ON guidance_visits (enterprise_id, visited_on);
CREATE INDEX guidance_visits_follow_up ON guidance_visits (follow_up_on);
