-- The model versions inference-service has heard of on mlinfra.models, and per model the
-- deployment that serves it. Only this service reads and writes these tables.

-- One row per registered version; its stage follows the registry's events. A deleted model's
-- rows are removed.
CREATE TABLE model_version (
    id              bigserial   PRIMARY KEY,
    team            text        NOT NULL,
    model_id        text        NOT NULL,
    version         text        NOT NULL,
    model_type      text        NOT NULL,
    stage           text        NOT NULL,
    artifact        text        NOT NULL,
    training_job_id text        NOT NULL,
    registered_at   timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (team, model_id, version)
);

-- Which version serves a model (its production version, else its newest one not archived) and
-- how far its deployment is: deploying, ready, failed (reason) or removed (nothing servable).
CREATE TABLE deployment (
    id              bigserial   PRIMARY KEY,
    team            text        NOT NULL,
    model_id        text        NOT NULL,
    model_type      text        NOT NULL,
    version         text,
    stage           text,
    artifact        text,
    state           text        NOT NULL,
    reason          text,
    backend         text        NOT NULL,
    -- the adapter's name on the serving backend: unique across teams and versions
    served_name     text,
    -- the prompt the version was trained with (the trainer's prompt_template.json), read when deploying
    prompt_template jsonb,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    ready_at        timestamptz,
    UNIQUE (team, model_id)
);
CREATE INDEX deployment_team_updated ON deployment (team, updated_at DESC, id DESC);
CREATE INDEX deployment_state ON deployment (state, model_type);
