-- What each enterprise's certificates and accidents say about its grade (PostgreSQL), kept in
-- the transaction of every certificate or accident change. The status itself depends on the
-- day and is derived at read time from these columns.
CREATE TABLE grade_summaries (
    enterprise_id TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES enterprises (id),
    current_grade TEXT,
    grade_valid_until DATE,
    restart_required BOOLEAN NOT NULL,
    revoked_on DATE
);

CREATE INDEX grade_summaries_valid_until ON grade_summaries (grade_valid_until);
