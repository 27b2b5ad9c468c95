-- How many jobs a team has per status and model type, kept by triggers, so that a list's total
-- reads a few rows whatever the number of jobs (a count over the jobs grows with them).
CREATE TABLE training_job_count (
    team       text   NOT NULL,
    status     text   NOT NULL,
    model_type text   NOT NULL,
    jobs       bigint NOT NULL,
    PRIMARY KEY (team, status, model_type)
);

CREATE FUNCTION training_job_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE training_job_count SET jobs = jobs - 1
         WHERE team = OLD.team AND status = OLD.status AND model_type = OLD.model_type;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO training_job_count AS c (team, status, model_type, jobs)
        VALUES (NEW.team, NEW.status, NEW.model_type, 1)
        ON CONFLICT (team, status, model_type) DO UPDATE SET jobs = c.jobs + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER training_job_counted AFTER INSERT OR DELETE ON training_job
    FOR EACH ROW EXECUTE FUNCTION training_job_count_change();
-- Only a change of what is counted moves a job between counts (progress updates do not).
CREATE TRIGGER training_job_recounted AFTER UPDATE ON training_job
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.team IS DISTINCT FROM NEW.team
                       OR OLD.model_type IS DISTINCT FROM NEW.model_type)
    EXECUTE FUNCTION training_job_count_change();

INSERT INTO training_job_count (team, status, model_type, jobs)
SELECT team, status, model_type, count(*) FROM training_job GROUP BY team, status, model_type;
