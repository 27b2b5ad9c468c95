-- Training jobs that train on a dataset (from training-service's events): an open one keeps the
-- dataset from being deleted.
CREATE TABLE dataset_use (
    job_id     text        PRIMARY KEY,
    team       text        NOT NULL,
    dataset_id text        NOT NULL,
    job_status text        NOT NULL,
    open       boolean     NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX dataset_use_open ON dataset_use (team, dataset_id) WHERE open;
