-- How many of a job's launches ended because their trainer was asked to stop and stopped after a
-- checkpoint (./mlinfra down, a node drained): they do not count against mlinfra.training.max-attempts,
-- which bounds the launches that end otherwise (a crash, a lost trainer).
ALTER TABLE training_job ADD COLUMN stops integer NOT NULL DEFAULT 0;
