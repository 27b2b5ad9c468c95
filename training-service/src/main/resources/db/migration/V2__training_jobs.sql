-- Training jobs of every team. job_id is 'train-' and the job's number, unique in the installation.
CREATE SEQUENCE training_job_number START WITH 100001;

CREATE TABLE training_job (
    id                  bigint      PRIMARY KEY,   -- the number in job_id
    job_id              text        NOT NULL UNIQUE,
    team                text        NOT NULL,
    model_type          text        NOT NULL,
    dataset_id          text        NOT NULL,
    dataset             jsonb       NOT NULL,      -- where the dataset's file was when the job was created
    config              jsonb       NOT NULL,      -- hyperparameters as the user gave them
    experiment_name     text,
    description         text,
    status              text        NOT NULL,      -- queued | running | cancelling | completed | failed | cancelled
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    started_at          timestamptz,
    finished_at         timestamptz,
    cancel_requested_at timestamptz,
    progress            jsonb,
    metrics             jsonb,
    artifacts           jsonb,
    error               text,
    output_uri          text        NOT NULL,
    backend             text        NOT NULL,
    attempts            integer     NOT NULL,      -- trainer launches (a resumed job is launched again)
    idempotency_key     text,
    request_hash        text
);
CREATE UNIQUE INDEX training_job_idempotency ON training_job (team, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX training_job_listing ON training_job (team, created_at DESC, id DESC);
CREATE INDEX training_job_open ON training_job (status) WHERE status IN ('queued', 'running', 'cancelling');
CREATE INDEX training_job_dataset_use ON training_job (team, dataset_id) WHERE status IN ('queued', 'running', 'cancelling');

-- What happened to a job, in order: status changes, steps, checkpoints, evaluation, warnings.
-- id orders every job's events and is the server-sent event id (Last-Event-ID resumes after it).
CREATE TABLE training_job_event (
    id         bigserial   PRIMARY KEY,
    job_id     text        NOT NULL,
    type       text        NOT NULL,
    message    text        NOT NULL,
    data       jsonb,
    created_at timestamptz NOT NULL
);
CREATE INDEX training_job_event_by_job ON training_job_event (job_id, id);

-- Checkpoints the trainer wrote (a job resumes from its newest).
CREATE TABLE training_checkpoint (
    job_id     text             NOT NULL,
    step       integer          NOT NULL,
    loss       double precision,
    location   text             NOT NULL,
    created_at timestamptz      NOT NULL,
    PRIMARY KEY (job_id, step)
);
