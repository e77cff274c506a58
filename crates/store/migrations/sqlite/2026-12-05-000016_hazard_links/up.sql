-- The risk, control measure and inspection record a hazard came from (sqlite; checked by the
-- store to be the same enterprise's).
ALTER TABLE hazards ADD COLUMN risk_id TEXT;
ALTER TABLE hazards ADD COLUMN measure_id TEXT;
ALTER TABLE hazards ADD COLUMN record_id TEXT;
-- The day it was closed (accepted, or fixed on the spot), for the period statistics.
ALTER TABLE hazards ADD COLUMN closed_on DATE;
