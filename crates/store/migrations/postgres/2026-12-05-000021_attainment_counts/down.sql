-- Undoes the attainment counters migration (postgres).
DROP TABLE attainment_anchor;
DROP TABLE attainment_counts;
