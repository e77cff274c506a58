-- The working-day calendar (工作日历, sqlite): each year's holiday arrangement of the State Council,
-- seeded from the data file shipped with SafeGrade (origin 'builtin:<version>') or loaded by a
-- city administrator (origin 'api', never overwritten by a later release's file).
CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY NOT NULL,
    origin TEXT NOT NULL,
    source TEXT,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE calendar_days (
    year INTEGER NOT NULL REFERENCES calendar_years (year),
    date DATE NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (year, date)
);
