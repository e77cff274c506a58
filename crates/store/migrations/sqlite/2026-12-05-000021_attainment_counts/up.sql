-- Today's attainment statistics without a pass over the ledger (docs/BENCHMARKS.md, issue
-- 13): per area, sector, standardization status, grade in force and "expires within the
-- window", how many enterprises, as of the day in attainment_anchor. The transactions that
-- change an enterprise's summary or place move its count; a new day (or another window)
-- recounts once from the grade summaries.
CREATE TABLE attainment_counts (
    area_code TEXT NOT NULL,
    sector TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The grade in force, '' without one.
    grade TEXT NOT NULL,
    expiring BOOLEAN NOT NULL,
    -- Writers on different threads (and nodes) add to different stripes of a counter, so
    -- they never wait on one another's row; readers add the stripes up.
    stripe INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (area_code, sector, status, grade, expiring, stripe)
);

-- The day and the end of the expiring window the counters are for (one row, or none before
-- the first count).
CREATE TABLE attainment_anchor (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    day DATE NOT NULL,
    window_end DATE NOT NULL
);
