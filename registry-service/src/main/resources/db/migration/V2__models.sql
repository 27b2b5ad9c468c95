-- Models of every team, unique by (team, model_id). The model row also carries what lists show of
-- its current version (the production one, else the newest not archived, else the newest).
CREATE TABLE model (
    id              bigserial   PRIMARY KEY,
    team            text        NOT NULL,
    model_id        text        NOT NULL,
    model_type      text        NOT NULL,
    description     text        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    versions        integer     NOT NULL,   -- versions registered so far: the next one is v1.<versions>.0
    current_version text        NOT NULL,
    current_stage   text        NOT NULL,   -- none | staging | production | archived
    status          text        NOT NULL,   -- active | inactive (inactive: the current version is archived)
    UNIQUE (team, model_id)
);
CREATE INDEX model_listing ON model (team, created_at DESC, id DESC);

-- Versions of a model, each from one completed training job (a job is registered once per team).
CREATE TABLE model_version (
    id               bigserial   PRIMARY KEY,
    model_ref        bigint      NOT NULL REFERENCES model (id) ON DELETE CASCADE,
    team             text        NOT NULL,
    model_id         text        NOT NULL,
    version          text        NOT NULL,
    minor            integer     NOT NULL,
    training_job_id  text        NOT NULL,
    artifact         text        NOT NULL,
    metrics          jsonb       NOT NULL,   -- evaluated by the training job
    reported_metrics jsonb       NOT NULL,   -- sent by the user with the registration
    stage            text        NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    UNIQUE (model_ref, version),
    UNIQUE (team, training_job_id)
);
CREATE INDEX model_version_of_model ON model_version (model_ref, minor DESC);

-- Every stage a version entered, with who moved it and when.
CREATE TABLE model_stage_change (
    id         bigserial   PRIMARY KEY,
    model_ref  bigint      NOT NULL REFERENCES model (id) ON DELETE CASCADE,
    team       text        NOT NULL,
    model_id   text        NOT NULL,
    version    text        NOT NULL,
    from_stage text,
    to_stage   text        NOT NULL,
    changed_by text,
    changed_at timestamptz NOT NULL,
    message    text        NOT NULL
);
CREATE INDEX model_stage_change_of_model ON model_stage_change (model_ref, id DESC);

-- How many models a team has per model type, status and current stage, kept by triggers, so that a
-- list's total reads a few rows whatever the number of models.
CREATE TABLE model_count (
    team       text   NOT NULL,
    model_type text   NOT NULL,
    status     text   NOT NULL,
    stage      text   NOT NULL,
    models     bigint NOT NULL,
    PRIMARY KEY (team, model_type, status, stage)
);

CREATE FUNCTION model_count_add(t text, mt text, st text, sg text, delta bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO model_count AS c (team, model_type, status, stage, models) VALUES (t, mt, st, sg, delta)
    ON CONFLICT (team, model_type, status, stage) DO UPDATE SET models = c.models + delta;
$$;

-- A model that changes stage moves from one count row to another. Every transaction locks the two
-- rows in key order, so two models moving in opposite directions (staging -> production and
-- production -> staging) at the same time wait for each other instead of deadlocking.
CREATE FUNCTION model_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM model_count_add(NEW.team, NEW.model_type, NEW.status, NEW.current_stage, 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM model_count_add(OLD.team, OLD.model_type, OLD.status, OLD.current_stage, -1);
    ELSIF (OLD.team, OLD.model_type, OLD.status, OLD.current_stage)
          < (NEW.team, NEW.model_type, NEW.status, NEW.current_stage) THEN
        PERFORM model_count_add(OLD.team, OLD.model_type, OLD.status, OLD.current_stage, -1);
        PERFORM model_count_add(NEW.team, NEW.model_type, NEW.status, NEW.current_stage, 1);
    ELSE
        PERFORM model_count_add(NEW.team, NEW.model_type, NEW.status, NEW.current_stage, 1);
        PERFORM model_count_add(OLD.team, OLD.model_type, OLD.status, OLD.current_stage, -1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER model_counted AFTER INSERT OR DELETE ON model
    FOR EACH ROW EXECUTE FUNCTION model_count_change();
CREATE TRIGGER model_recounted AFTER UPDATE ON model
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.current_stage IS DISTINCT FROM NEW.current_stage
                       OR OLD.team IS DISTINCT FROM NEW.team OR OLD.model_type IS DISTINCT FROM NEW.model_type)
    EXECUTE FUNCTION model_count_change();
