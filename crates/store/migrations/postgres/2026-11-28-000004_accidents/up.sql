-- Production-safety accidents (生产安全事故) of enterprises in the ledger (PostgreSQL).
CREATE TABLE accidents (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    occurred_on DATE NOT NULL,
    kind TEXT NOT NULL,
    deaths INTEGER NOT NULL,
    seriously_injured INTEGER NOT NULL,
    direct_loss_cny BIGINT NOT NULL,
    concealed BOOLEAN NOT NULL,
    source TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX accidents_enterprise_id ON accidents (enterprise_id, occurred_on);
