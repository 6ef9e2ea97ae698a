-- Every WhatsApp message the notifier asked for, by the gateway's idempotency key. Features write their
-- own state ("this slot was notified", "this reminder stage was sent") only when the gateway reports the
-- message as sent: that is what "accepted for delivery" means here.
CREATE TABLE IF NOT EXISTS notifications (
    idempotency_key text PRIMARY KEY,
    purpose         text NOT NULL,
    client_id       text,
    user_id         text,
    chat_id         text NOT NULL,
    wib_date        date,
    slot            text,
    stage           text,
    requested_at    timestamptz NOT NULL,
    accepted_at     timestamptz,
    failed_at       timestamptz,
    failure         text
);
CREATE INDEX IF NOT EXISTS notifications_client_day ON notifications (client_id, wib_date);
CREATE INDEX IF NOT EXISTS notifications_user_day ON notifications (user_id, wib_date);
