DROP TABLE grading_steps;
DROP INDEX gradings_enterprise;
DROP TABLE gradings;
