-- The notifier's copy of the directory: who gets a client's messages.
CREATE TABLE IF NOT EXISTS clients (
    client_id       text PRIMARY KEY,
    name            text NOT NULL,
    client_type     text NOT NULL,
    active          boolean NOT NULL,
    whatsapp_groups text[] NOT NULL DEFAULT '{}',
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Per-client notification state (slot logic, DOMAIN §5).
CREATE TABLE IF NOT EXISTS client_state (
    client_id          text PRIMARY KEY,
    last_counts        jsonb NOT NULL DEFAULT '{}'::jsonb,
    last_notified_slot text,
    last_notified_at   timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
