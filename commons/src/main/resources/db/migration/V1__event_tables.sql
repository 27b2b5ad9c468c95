-- Event tables every service has (migration V1 belongs to commons; a service's own migrations start at V2).

-- Transactional outbox: an event row commits with the state change it announces; a relay
-- publishes it to Kafka afterwards, so a broker outage delays events and loses none.
CREATE TABLE outbox_event (
    id           uuid        PRIMARY KEY,
    topic        text        NOT NULL,
    event_key    text        NOT NULL,
    event_type   text        NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_event_pending ON outbox_event (created_at) WHERE published_at IS NULL;

-- Consumers remember the events they have applied, so a redelivered event changes nothing.
CREATE TABLE processed_event (
    event_id     uuid        PRIMARY KEY,
    consumer     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
