-- Per-key rate limits set by an administrator: area -> requests per window, overriding the
-- configured limit of that area for this key only ({} = the configured limits apply).
ALTER TABLE api_key ADD COLUMN rate_limits jsonb NOT NULL DEFAULT '{}';
