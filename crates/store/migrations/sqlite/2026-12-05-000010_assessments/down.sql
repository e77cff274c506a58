DROP INDEX assessments_enterprise;
DROP TABLE assessments;
