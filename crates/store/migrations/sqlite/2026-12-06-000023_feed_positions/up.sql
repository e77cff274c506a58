-- A webhook subscription's place in the event log per audit chain (issue 13, Citus-ready
-- layout): appends are ordered per supervision area, so a single `seq` could pass over an
-- event that committed late in another area (docs/adr/0004-event-feed-ordering.md).
-- `position` is the text form of the position (`rest;chain=seq;…`); `cursor` stays as its
-- lowest `seq`, what the subscription is caught up to in every area.
ALTER TABLE webhooks ADD COLUMN position TEXT NOT NULL DEFAULT '0';
UPDATE webhooks SET position = CAST(cursor AS TEXT);
