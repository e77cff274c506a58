-- Counters for the hazard statistics (postgres), kept in the same transactions that change a
-- hazard, a risk or an enterprise's area or sector, so the quarterly and yearly figures of
-- the city read a few thousand counter rows instead of every hazard. Per area, sector and
-- grade and per month (stored as its first day): hazards found, hazards closed, hazards
-- that became overdue (on the day after the deadline in force, for those not closed by it)
-- and overdue hazards closed. Statistics periods are whole months (quarters, years), so at
-- a month's end: open = found − closed up to it; overdue = became overdue − closed while
-- overdue.
CREATE TABLE hazard_month_counts (
    area_code TEXT NOT NULL,
    sector TEXT NOT NULL,
    grade TEXT NOT NULL,
    month DATE NOT NULL,
    found BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    overdue_from BIGINT NOT NULL,
    overdue_to BIGINT NOT NULL,
    PRIMARY KEY (area_code, sector, grade, month)
);

-- Risks per area, sector and level (the residual level where assessed, else the inherent).
CREATE TABLE risk_level_counts (
    area_code TEXT NOT NULL,
    sector TEXT NOT NULL,
    level TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (area_code, sector, level)
);

-- The counters of the records already there.
INSERT INTO hazard_month_counts (area_code, sector, grade, month, found, closed, overdue_from, overdue_to)
SELECT area_code, sector, grade, month, SUM(found), SUM(closed), SUM(overdue_from), SUM(overdue_to)
FROM (
    SELECT e.area_code, e.sector, h.grade, CAST(date_trunc('month', h.found_on) AS DATE) AS month, 1 AS found, 0 AS closed, 0 AS overdue_from, 0 AS overdue_to
    FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id
    UNION ALL
    SELECT e.area_code, e.sector, h.grade, CAST(date_trunc('month', h.closed_on) AS DATE), 0, 1, 0, 0
    FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id WHERE h.closed_on IS NOT NULL
    UNION ALL
    SELECT e.area_code, e.sector, h.grade, CAST(date_trunc('month', h.deadline + 1) AS DATE), 0, 0, 1, 0
    FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id
    WHERE h.deadline IS NOT NULL AND (h.closed_on IS NULL OR h.closed_on > h.deadline)
    UNION ALL
    SELECT e.area_code, e.sector, h.grade, CAST(date_trunc('month', h.closed_on) AS DATE), 0, 0, 0, 1
    FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id
    WHERE h.deadline IS NOT NULL AND h.closed_on > h.deadline
) AS marks
GROUP BY area_code, sector, grade, month;

INSERT INTO risk_level_counts (area_code, sector, level, n)
SELECT e.area_code, e.sector, COALESCE(r.residual_level, r.inherent_level), COUNT(*)
FROM risks r JOIN enterprises e ON e.id = r.enterprise_id
GROUP BY 1, 2, 3;

-- The weekly operation scores read the dates and grade of every hazard of an area's
-- enterprises: from this index alone, without the rows.
CREATE INDEX hazards_dates ON hazards (enterprise_id, found_on, deadline, closed_on, grade);

-- The dual-prevention tables' references compare as the ids they point to do (COLLATE "C"):
-- with the database's default collation on one side, a join to enterprises cannot use
-- the reference's index (the weekly scores read every hazard instead of an area's).
ALTER TABLE hazards ALTER COLUMN enterprise_id TYPE TEXT COLLATE "C", ALTER COLUMN risk_id TYPE TEXT COLLATE "C", ALTER COLUMN measure_id TYPE TEXT COLLATE "C", ALTER COLUMN record_id TYPE TEXT COLLATE "C";
ALTER TABLE risk_units ALTER COLUMN enterprise_id TYPE TEXT COLLATE "C";
ALTER TABLE risks ALTER COLUMN enterprise_id TYPE TEXT COLLATE "C", ALTER COLUMN unit_id TYPE TEXT COLLATE "C";
ALTER TABLE risk_measures ALTER COLUMN enterprise_id TYPE TEXT COLLATE "C", ALTER COLUMN risk_id TYPE TEXT COLLATE "C";
ALTER TABLE inspection_tasks ALTER COLUMN enterprise_id TYPE TEXT COLLATE "C", ALTER COLUMN unit_id TYPE TEXT COLLATE "C", ALTER COLUMN measure_id TYPE TEXT COLLATE "C";
ALTER TABLE inspection_records ALTER COLUMN enterprise_id TYPE TEXT COLLATE "C", ALTER COLUMN task_id TYPE TEXT COLLATE "C";
ALTER TABLE checklists ALTER COLUMN enterprise_id TYPE TEXT COLLATE "C";
ALTER TABLE checklist_records ALTER COLUMN checklist_id TYPE TEXT COLLATE "C";
