-- The current certificate's number and issue date on its enterprise's summary (issue 13):
-- the alerts about a grade (expiring, expired, annual self-assessment missing) then read the
-- summaries of an area alone, without looking up thousands of certificates by id.
ALTER TABLE grade_summaries ADD COLUMN current_number TEXT;
ALTER TABLE grade_summaries ADD COLUMN current_issued_on DATE;

UPDATE grade_summaries
SET current_number = (SELECT c.number FROM certificates c WHERE c.id = grade_summaries.current_certificate_id),
    current_issued_on = (SELECT c.issued_on FROM certificates c WHERE c.id = grade_summaries.current_certificate_id)
WHERE current_certificate_id IS NOT NULL;
