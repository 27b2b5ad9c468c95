-- The latest launch that training-service went on to make (the backend created its trainer, or
-- failed to). A launch decided (attempts) but never made, because the service stopped in between,
-- is made later under the same number instead of counting as a trainer that was lost.
ALTER TABLE training_job ADD COLUMN launched integer NOT NULL DEFAULT 0;
UPDATE training_job SET launched = attempts;
