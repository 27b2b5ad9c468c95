-- A registration sent with an Idempotency-Key: the key and the fingerprint of its body, so that a
-- retry with the same key and body gets the version the first request registered.
ALTER TABLE model_version ADD COLUMN idempotency_key text;
ALTER TABLE model_version ADD COLUMN request_hash text;
CREATE UNIQUE INDEX model_version_idempotency ON model_version (team, idempotency_key) WHERE idempotency_key IS NOT NULL;
