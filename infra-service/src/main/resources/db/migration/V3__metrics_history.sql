-- Usage samples (percent) per component ('host' for the platform as a whole) and metric, as sampled.
CREATE TABLE metric_sample (
    component  text             NOT NULL,
    metric     text             NOT NULL,
    sampled_at timestamptz      NOT NULL,
    value      double precision NOT NULL
);
CREATE INDEX metric_sample_time ON metric_sample (sampled_at);

-- The rollup resolutions (one per period of the API: its interval) and how long each is kept;
-- written by the service at start from its period table.
CREATE TABLE metric_resolution (
    seconds   integer  PRIMARY KEY,
    retention interval NOT NULL
);

-- Sums and counts of the samples per resolution and bucket: the average of a bucket is total / samples.
CREATE TABLE metric_rollup (
    component  text             NOT NULL,
    metric     text             NOT NULL,
    resolution integer          NOT NULL,
    bucket     timestamptz      NOT NULL,
    total      double precision NOT NULL,
    samples    integer          NOT NULL,
    PRIMARY KEY (component, metric, resolution, bucket)
);
CREATE INDEX metric_rollup_age ON metric_rollup (resolution, bucket);

-- Every insert of samples (one statement per sampling round) adds them to the rollups of every
-- resolution in the same transaction, set-based: a round is stored whole or not at all.
CREATE FUNCTION metric_sample_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO metric_rollup (component, metric, resolution, bucket, total, samples)
    SELECT n.component, n.metric, r.seconds,
           to_timestamp(floor(extract(epoch FROM n.sampled_at) / r.seconds) * r.seconds),
           sum(n.value), count(*)
      FROM inserted_samples n CROSS JOIN metric_resolution r
     GROUP BY 1, 2, 3, 4
    ON CONFLICT (component, metric, resolution, bucket)
    DO UPDATE SET total = metric_rollup.total + excluded.total, samples = metric_rollup.samples + excluded.samples;
    RETURN NULL;
END;
$$;

CREATE TRIGGER metric_sample_rollup AFTER INSERT ON metric_sample
    REFERENCING NEW TABLE AS inserted_samples
    FOR EACH STATEMENT EXECUTE FUNCTION metric_sample_rollup();
