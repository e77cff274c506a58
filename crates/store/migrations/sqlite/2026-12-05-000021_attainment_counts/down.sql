-- Undoes the attainment counters migration (sqlite).
DROP TABLE attainment_anchor;
DROP TABLE attainment_counts;
