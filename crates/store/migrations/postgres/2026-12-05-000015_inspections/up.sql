-- Inspection tasks and records (隐患排查任务与排查记录, postgres): a task's schedule (its due
-- occurrences are computed, never stored), the records made against it, and the links of a
-- hazard to the risk, measure and record it came from.
CREATE TABLE inspection_tasks (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    unit_id TEXT NOT NULL REFERENCES risk_units (id),
    measure_id TEXT REFERENCES risk_measures (id),
    content TEXT NOT NULL,
    every INTEGER NOT NULL,
    cycle_unit TEXT NOT NULL,
    day_type TEXT NOT NULL,
    window_start TEXT,
    window_end TEXT,
    task_type TEXT NOT NULL,
    item_no INTEGER,
    assignee TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX inspection_tasks_enterprise ON inspection_tasks (enterprise_id, id);

CREATE TABLE inspection_records (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    task_id TEXT NOT NULL REFERENCES inspection_tasks (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    performed_at TIMESTAMP NOT NULL,
    performed_by TEXT NOT NULL,
    result TEXT NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX inspection_records_task ON inspection_records (task_id, performed_at);
CREATE INDEX inspection_records_enterprise ON inspection_records (enterprise_id, id);
