ALTER TABLE checklist_records ALTER COLUMN checklist_id TYPE TEXT COLLATE "default";
ALTER TABLE checklists ALTER COLUMN enterprise_id TYPE TEXT COLLATE "default";
ALTER TABLE inspection_records ALTER COLUMN enterprise_id TYPE TEXT COLLATE "default", ALTER COLUMN task_id TYPE TEXT COLLATE "default";
ALTER TABLE inspection_tasks ALTER COLUMN enterprise_id TYPE TEXT COLLATE "default", ALTER COLUMN unit_id TYPE TEXT COLLATE "default", ALTER COLUMN measure_id TYPE TEXT COLLATE "default";
ALTER TABLE risk_measures ALTER COLUMN enterprise_id TYPE TEXT COLLATE "default", ALTER COLUMN risk_id TYPE TEXT COLLATE "default";
ALTER TABLE risks ALTER COLUMN enterprise_id TYPE TEXT COLLATE "default", ALTER COLUMN unit_id TYPE TEXT COLLATE "default";
ALTER TABLE risk_units ALTER COLUMN enterprise_id TYPE TEXT COLLATE "default";
ALTER TABLE hazards ALTER COLUMN enterprise_id TYPE TEXT COLLATE "default", ALTER COLUMN risk_id TYPE TEXT COLLATE "default", ALTER COLUMN measure_id TYPE TEXT COLLATE "default", ALTER COLUMN record_id TYPE TEXT COLLATE "default";
