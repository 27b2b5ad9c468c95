-- The statistics of a ready dataset move into one JSON column (Dataset.Statistics).
ALTER TABLE dataset ADD COLUMN statistics jsonb;
UPDATE dataset
   SET statistics = jsonb_build_object('repositories', to_jsonb(repositories), 'issue_types', to_jsonb(issue_types),
                                       'earliest', date_from, 'latest', date_to)
 WHERE status = 'ready';
ALTER TABLE dataset DROP COLUMN repositories, DROP COLUMN issue_types, DROP COLUMN date_from, DROP COLUMN date_to;

-- A file is validated while it is received: the separate 'validating' phase is gone.
UPDATE dataset SET phase = 'receiving' WHERE phase = 'validating';

-- Why a dataset failed, likewise in one JSON column (Dataset.Failure).
ALTER TABLE dataset ADD COLUMN failure jsonb;
UPDATE dataset
   SET failure = jsonb_build_object('reason', failure_reason, 'error_count', coalesce(error_count, 0),
                                    'errors', coalesce(errors, '[]'::jsonb))
 WHERE status = 'failed';
ALTER TABLE dataset DROP COLUMN failure_reason, DROP COLUMN error_count, DROP COLUMN errors;
