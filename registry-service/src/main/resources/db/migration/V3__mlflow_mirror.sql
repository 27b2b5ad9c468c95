-- The MLflow mirror's own memory: which MLflow model version each of our versions became (MLflow
-- numbers versions itself: 1, 2, ...) and the stage last mirrored for it, which tells which version
-- holds the model's staging and production aliases in MLflow.
CREATE TABLE mlflow_mirror_version (
    id             bigserial   PRIMARY KEY,
    mlflow_name    text        NOT NULL,   -- <team>.<model_id>, the registered model's name in MLflow
    team           text        NOT NULL,
    model_id       text        NOT NULL,
    version        text        NOT NULL,   -- ours: v1.0.0, v1.1.0, ...
    mlflow_version text        NOT NULL,   -- MLflow's: 1, 2, ...
    stage          text        NOT NULL,   -- none | staging | production | archived, as last mirrored
    mirrored_at    timestamptz NOT NULL,
    UNIQUE (mlflow_name, version)
);
