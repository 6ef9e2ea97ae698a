-- One row per session, shared by every gateway replica: the earliest time its next send may start
-- (pacing gap, a provider's Retry-After) and, while a paced send is in flight, the lease of the worker
-- sending it, so two replicas never send on one paced session at once.
CREATE TABLE IF NOT EXISTS wa_sessions (
    session      text        PRIMARY KEY CHECK (session IN ('broadcast', 'operator', 'log')),
    next_send_at timestamptz NOT NULL DEFAULT 'epoch',
    lease_id     uuid,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO wa_sessions (session) VALUES ('broadcast'), ('operator'), ('log') ON CONFLICT DO NOTHING;

-- Request order: rows accepted in one statement share created_at, yet messages to one chat must go out in
-- the order they were requested (a recap in parts).
ALTER TABLE wa_outbox ADD COLUMN IF NOT EXISTS seq bigserial;

-- Each session is claimed on its own (a slow session never delays another).
DROP INDEX IF EXISTS wa_outbox_due;
CREATE INDEX IF NOT EXISTS wa_outbox_due_by_session ON wa_outbox (session, next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS wa_outbox_processing ON wa_outbox (session, updated_at) WHERE status = 'processing';
