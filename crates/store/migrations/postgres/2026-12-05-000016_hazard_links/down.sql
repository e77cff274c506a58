ALTER TABLE hazards DROP COLUMN closed_on;
ALTER TABLE hazards DROP COLUMN record_id;
ALTER TABLE hazards DROP COLUMN measure_id;
ALTER TABLE hazards DROP COLUMN risk_id;
