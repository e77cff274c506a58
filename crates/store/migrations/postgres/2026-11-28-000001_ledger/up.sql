-- Supervision areas, reference-data versions and the enterprise ledger (PostgreSQL).
CREATE TABLE areas (
    code TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    kind TEXT NOT NULL,
    gb2260_code TEXT,
    parent_code TEXT,
    sort_order INTEGER NOT NULL
);

CREATE TABLE reference_versions (
    name TEXT PRIMARY KEY NOT NULL,
    version TEXT NOT NULL
);

CREATE TABLE enterprises (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    credit_code TEXT NOT NULL,
    name TEXT NOT NULL,
    area_code TEXT NOT NULL REFERENCES areas (code),
    address TEXT,
    industry_code TEXT NOT NULL,
    sector TEXT NOT NULL,
    mine_kind TEXT,
    scale TEXT NOT NULL,
    ownership TEXT NOT NULL,
    operating_status TEXT NOT NULL,
    principal_name TEXT NOT NULL,
    principal_phone TEXT,
    safety_manager_name TEXT,
    safety_manager_phone TEXT,
    employees INTEGER,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT enterprises_credit_code_key UNIQUE (credit_code)
);

CREATE INDEX enterprises_area_id ON enterprises (area_code, id);
CREATE INDEX enterprises_sector_id ON enterprises (sector, id);
CREATE INDEX enterprises_industry_id ON enterprises (industry_code, id);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    location TEXT,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);
