-- The risk, control measure and inspection record a hazard came from (sqlite; checked by the
-- store to be the same enterprise's).
ALTER TABLE hazards ADD COLUMN risk_id TEXT;
ALTER TABLE hazards ADD COLUMN measure_id TEXT;
ALTER TABLE hazards ADD COLUMN record_id TEXT;
