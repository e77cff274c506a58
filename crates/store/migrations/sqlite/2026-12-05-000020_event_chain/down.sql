-- Undoes the event chain migration (sqlite).
DROP TABLE event_chains;
ALTER TABLE events DROP COLUMN hash;
ALTER TABLE events DROP COLUMN prev_hash;
