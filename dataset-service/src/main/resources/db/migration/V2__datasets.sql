-- Datasets of every team. dataset_id is the name, unique per team.
CREATE TABLE dataset (
    team              text        NOT NULL,
    dataset_id        text        NOT NULL,
    seq               bigserial   NOT NULL,
    name              text        NOT NULL,
    description       text        NOT NULL,
    source            text        NOT NULL,
    format            text        NOT NULL,
    version           text        NOT NULL,
    status            text        NOT NULL,  -- pending | ready | failed | deleting
    phase             text        NOT NULL,  -- awaiting_upload | receiving | validating | done
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    upload_id         text        NOT NULL UNIQUE,
    upload_expires_at timestamptz NOT NULL,
    object_key        text,
    size              bigint,
    num_examples      bigint,
    checksum_sha256   text,
    repositories      text[],
    issue_types       text[],
    date_from         date,
    date_to           date,
    failure_reason    text,
    error_count       bigint,
    errors            jsonb,
    PRIMARY KEY (team, dataset_id)
);
CREATE INDEX dataset_listing ON dataset (team, created_at DESC, seq DESC);
CREATE INDEX dataset_open ON dataset (phase, updated_at) WHERE status IN ('pending', 'deleting');
