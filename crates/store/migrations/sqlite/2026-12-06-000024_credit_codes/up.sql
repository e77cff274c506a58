-- Credit-code uniqueness through a lookup table (issue 13, docs/adr/0007): once enterprises
-- are distributed by supervision area, a unique index on enterprises.credit_code alone can no
-- longer be enforced (Citus requires the distribution column in every unique constraint), so
-- one row per enterprise here, keyed by its credit code, is written in the enterprise's
-- transaction, before the enterprise. It is a reference table, small and rarely written. It
-- is also where an import looks up an enterprise by its credit code without knowing its area.
-- Its one index is its key (the row is found by the enterprise's current code when that
-- changes): every new enterprise pays one more index entry, not two.
-- SQLite keeps the unique constraint on enterprises.credit_code as well (dropping a table
-- constraint there means rebuilding the table); this table's key is checked first.
CREATE TABLE credit_codes (
    credit_code TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    area_code TEXT NOT NULL,
    CONSTRAINT credit_codes_credit_code_key PRIMARY KEY (credit_code)
) WITHOUT ROWID;

INSERT INTO credit_codes (credit_code, enterprise_id, area_code)
SELECT credit_code, id, area_code FROM enterprises;
