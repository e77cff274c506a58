DROP TABLE credit_codes;
