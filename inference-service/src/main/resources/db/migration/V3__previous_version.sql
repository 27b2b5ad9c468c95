-- While a model's new serving version deploys, the version it replaces answers its requests until
-- the new one is ready (a promotion, a newer version registered): that version, as it was deployed.
-- Null when nothing answers meanwhile (a first deployment, or the version was archived by a person).
ALTER TABLE deployment
    ADD COLUMN previous_version         text,
    ADD COLUMN previous_stage           text,
    ADD COLUMN previous_artifact        text,
    ADD COLUMN previous_served_name     text,
    ADD COLUMN previous_prompt_template jsonb;
