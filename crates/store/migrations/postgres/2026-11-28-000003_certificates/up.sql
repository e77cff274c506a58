-- Standardization certificates (标准化等级证书) and their history (PostgreSQL).
-- Status is derived from the dates and the revocation/supersession columns, never stored.
CREATE TABLE certificates (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    regime TEXT NOT NULL,
    grade TEXT NOT NULL,
    number TEXT NOT NULL,
    authority_level TEXT NOT NULL,
    authority_name TEXT NOT NULL,
    issued_on DATE NOT NULL,
    valid_until DATE NOT NULL,
    standard TEXT NOT NULL,
    revoked_on DATE,
    revocation_trigger TEXT,
    revocation_legal_basis TEXT,
    revocation_reason TEXT,
    superseded_by TEXT,
    -- The day the replacing certificate was issued (the end of this one in force).
    superseded_on DATE,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT certificates_number_key UNIQUE (number)
);

CREATE INDEX certificates_enterprise_id ON certificates (enterprise_id, id);
CREATE INDEX certificates_valid_until ON certificates (valid_until);
