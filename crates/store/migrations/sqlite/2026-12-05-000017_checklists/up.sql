-- List-based management (清单制管理, sqlite): lists of an enterprise (or post), or of a
-- government or department in a supervision area, with their items as JSON; performance
-- records (履职记录) against the items.
CREATE TABLE checklists (
    id TEXT PRIMARY KEY NOT NULL,
    checklist_type TEXT NOT NULL,
    owner_scope TEXT NOT NULL,
    enterprise_id TEXT REFERENCES enterprises (id),
    area_code TEXT NOT NULL REFERENCES areas (code),
    title TEXT NOT NULL,
    owner TEXT NOT NULL,
    items TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX checklists_area ON checklists (area_code, id);
CREATE INDEX checklists_enterprise ON checklists (enterprise_id);

CREATE TABLE checklist_records (
    id TEXT PRIMARY KEY NOT NULL,
    checklist_id TEXT NOT NULL REFERENCES checklists (id),
    item_code TEXT NOT NULL,
    performed_on DATE NOT NULL,
    performed_by TEXT NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX checklist_records_list ON checklist_records (checklist_id, id);
