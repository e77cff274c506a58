DROP INDEX certificates_revoked_on;
DROP INDEX enterprises_area_sector;
DROP TABLE grade_summaries;
