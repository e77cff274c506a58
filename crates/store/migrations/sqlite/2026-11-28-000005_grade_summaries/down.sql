DROP TABLE grade_summaries;
