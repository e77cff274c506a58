-- Counters for the hazard statistics (sqlite), kept in the same transactions that change a
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
) WITHOUT ROWID;

-- Risks per area, sector and level (the residual level where assessed, else the inherent).
CREATE TABLE risk_level_counts (
    area_code TEXT NOT NULL,
    sector TEXT NOT NULL,
    level TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (area_code, sector, level)
) WITHOUT ROWID;

-- The counters of the records already there.
INSERT INTO hazard_month_counts (area_code, sector, grade, month, found, closed, overdue_from, overdue_to)
SELECT area_code, sector, grade, month, SUM(found), SUM(closed), SUM(overdue_from), SUM(overdue_to)
FROM (
    SELECT e.area_code, e.sector, h.grade, date(h.found_on, 'start of month') AS month, 1 AS found, 0 AS closed, 0 AS overdue_from, 0 AS overdue_to
    FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id
    UNION ALL
    SELECT e.area_code, e.sector, h.grade, date(h.closed_on, 'start of month'), 0, 1, 0, 0
    FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id WHERE h.closed_on IS NOT NULL
    UNION ALL
    SELECT e.area_code, e.sector, h.grade, date(h.deadline, '+1 day', 'start of month'), 0, 0, 1, 0
    FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id
    WHERE h.deadline IS NOT NULL AND (h.closed_on IS NULL OR h.closed_on > h.deadline)
    UNION ALL
    SELECT e.area_code, e.sector, h.grade, date(h.closed_on, 'start of month'), 0, 0, 0, 1
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
