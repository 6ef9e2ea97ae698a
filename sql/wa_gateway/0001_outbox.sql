-- The durable WhatsApp outbox: one row per idempotency key, so a repeated request is accepted and ignored.
CREATE TABLE IF NOT EXISTS wa_outbox (
    idempotency_key     text        PRIMARY KEY,
    session             text        NOT NULL,
    chat_id             text        NOT NULL,
    body                text        NOT NULL,
    purpose             text        NOT NULL,
    client_id           text,
    status              text        NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'processing', 'sent', 'dead_letter')),
    attempts            integer     NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    last_error          text,
    provider_message_id text,
    traceparent         text,
    correlation_id      text,
    request_event_id    uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS wa_outbox_due ON wa_outbox (next_attempt_at) WHERE status = 'pending';
