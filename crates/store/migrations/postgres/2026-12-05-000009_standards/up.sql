-- Grading standards (评定标准, postgres): one row per version, the element tree as JSON text in the
-- API's format (read and written whole; a version never changes once stored).
CREATE TABLE standards (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    version TEXT NOT NULL,
    title TEXT NOT NULL,
    full_points INTEGER NOT NULL,
    item_count INTEGER NOT NULL,
    tree TEXT NOT NULL,
    builtin BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT standards_code_key UNIQUE (code, version)
);
