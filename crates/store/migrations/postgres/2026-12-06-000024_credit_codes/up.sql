-- Credit-code uniqueness through a lookup table (issue 13, docs/adr/0007): once enterprises
-- are distributed by supervision area, a unique index on enterprises.credit_code alone can no
-- longer be enforced (Citus requires the distribution column in every unique constraint), so
-- one row per enterprise here, keyed by its credit code, is written in the enterprise's
-- transaction, before the enterprise. It is a reference table, small and rarely written. It
-- is also where an import looks up an enterprise by its credit code without knowing its area.
-- Its one index is its key (the row is found by the enterprise's current code when that
-- changes): every new enterprise pays one more index entry, not two.
-- The unique constraint on enterprises.credit_code gives way to this table's key; a plain
-- index keeps the list filter by credit code fast.
CREATE TABLE credit_codes (
    credit_code TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    area_code TEXT NOT NULL,
    CONSTRAINT credit_codes_credit_code_key PRIMARY KEY (credit_code)
);

INSERT INTO credit_codes (credit_code, enterprise_id, area_code)
SELECT credit_code, id, area_code FROM enterprises;

ALTER TABLE enterprises DROP CONSTRAINT enterprises_credit_code_key;
CREATE INDEX enterprises_credit_code ON enterprises (credit_code);
