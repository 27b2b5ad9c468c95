-- API keys: only a hash of each key is kept; the key itself is shown once, at creation.
CREATE TABLE api_key (
    key_id     text        PRIMARY KEY,
    key_hash   bytea       NOT NULL,
    team       text        NOT NULL,
    name       text        NOT NULL,
    scopes     text[]      NOT NULL,
    created_at timestamptz NOT NULL,
    created_by text,
    revoked_at timestamptz
);
CREATE INDEX api_key_listing ON api_key (created_at DESC, key_id DESC);

-- Rate-limit windows shared by every gateway replica (used by the 'postgres' limiter store).
CREATE TABLE rate_limit_window (
    bucket       text        PRIMARY KEY,
    window_start timestamptz NOT NULL,
    count        integer     NOT NULL
);
