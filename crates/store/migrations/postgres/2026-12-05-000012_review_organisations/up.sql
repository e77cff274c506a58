-- Review organisations (评审机构, postgres): the one a reviewer principal speaks for, the one a grading
-- application is assigned to (by its unified social credit code, with its name), the review
-- assessment the on-site review rests on, and the application a review or check belongs to.
ALTER TABLE principals ADD COLUMN review_org_id TEXT;
ALTER TABLE principals ADD COLUMN review_org_name TEXT;
ALTER TABLE gradings ADD COLUMN review_org_id TEXT;
ALTER TABLE gradings ADD COLUMN review_org_name TEXT;
ALTER TABLE gradings ADD COLUMN review_assessment_id TEXT REFERENCES assessments (id);
ALTER TABLE assessments ADD COLUMN grading_id TEXT REFERENCES gradings (id);

CREATE INDEX gradings_review_org ON gradings (review_org_id, enterprise_id);
CREATE INDEX assessments_grading ON assessments (grading_id);
