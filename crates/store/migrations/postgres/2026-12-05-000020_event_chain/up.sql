-- The tamper-evident audit trail (docs/adr/0006-audit-chain.md): every event carries the
-- SHA-256 of its canonical form, which includes the hash of the previous event of its chain
-- (one chain per supervision area, and one, "city", for events without an area). Events
-- stored before this migration are chained by the first start after it.
ALTER TABLE events ADD COLUMN prev_hash TEXT;
ALTER TABLE events ADD COLUMN hash TEXT;

-- The head of each chain: its last event, that event's hash and the chain's length, kept
-- in the transaction that appends to the chain. A deleted last event shows as a head that
-- no longer matches the log.
CREATE TABLE event_chains (
    chain TEXT PRIMARY KEY NOT NULL,
    last_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    length BIGINT NOT NULL
);
