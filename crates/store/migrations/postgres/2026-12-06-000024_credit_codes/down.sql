DROP INDEX enterprises_credit_code;
ALTER TABLE enterprises ADD CONSTRAINT enterprises_credit_code_key UNIQUE (credit_code);
DROP TABLE credit_codes;
