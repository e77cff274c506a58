-- Undoes the summary certificate columns migration (sqlite).
ALTER TABLE grade_summaries DROP COLUMN current_issued_on;
ALTER TABLE grade_summaries DROP COLUMN current_number;
