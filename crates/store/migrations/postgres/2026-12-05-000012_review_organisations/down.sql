DROP INDEX assessments_grading;
DROP INDEX gradings_review_org;
ALTER TABLE assessments DROP COLUMN grading_id;
ALTER TABLE gradings DROP COLUMN review_assessment_id;
ALTER TABLE gradings DROP COLUMN review_org_name;
ALTER TABLE gradings DROP COLUMN review_org_id;
ALTER TABLE principals DROP COLUMN review_org_name;
ALTER TABLE principals DROP COLUMN review_org_id;
