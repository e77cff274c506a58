DROP INDEX hazards_open;
DROP INDEX hazards_enterprise;
DROP TABLE hazards;
