-- What each enterprise's certificates and accidents say about its grade (SQLite), kept in
-- the transaction of every certificate or accident change. The status itself depends on the
-- day and is derived at read time from these columns.
CREATE TABLE grade_summaries (
    enterprise_id TEXT PRIMARY KEY NOT NULL REFERENCES enterprises (id),
    current_certificate_id TEXT,
    current_grade TEXT,
    grade_valid_until DATE,
    restart_required BOOLEAN NOT NULL,
    -- The creation drive says creation is under way (stage after not_started).
    creating BOOLEAN NOT NULL,
    revoked_on DATE,
    -- Copies of the enterprise's area and sector, so statistics aggregate this table alone.
    area_code TEXT NOT NULL,
    sector TEXT NOT NULL
);

CREATE INDEX grade_summaries_valid_until ON grade_summaries (grade_valid_until);
CREATE INDEX grade_summaries_stats ON grade_summaries
    (area_code, sector, grade_valid_until, current_grade, revoked_on, restart_required, creating);
-- Per-area and per-sector counts of the ledger, and revocations by date.
CREATE INDEX enterprises_area_sector ON enterprises (area_code, sector);
CREATE INDEX certificates_revoked_on ON certificates (revoked_on);
