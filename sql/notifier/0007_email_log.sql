-- Every e-mail the notifier was asked to send (complaint replies), by a unique key, written before the
-- SMTP attempt (ARCHITECTURE rule 3): an e-mail goes out at most once per key. OTP e-mails are not here:
-- their body holds the code, which is never stored.
--   pending  recorded by the handler, waiting for the e-mail worker
--   sending  claimed by the worker; left here only if the process died mid-send (then failed, unknown)
--   sent     the SMTP server accepted it
--   failed   refused for good (5xx), still failing after every attempt, or outcome unknown
CREATE TABLE IF NOT EXISTS email_log (
    email_key      text PRIMARY KEY,
    purpose        text NOT NULL,
    user_id        text,
    recipient      text NOT NULL,
    subject        text NOT NULL,
    body           text NOT NULL,
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts       integer NOT NULL DEFAULT 0,
    requested_at   timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    failure        text,
    correlation_id text,
    causation_id   text
);
CREATE INDEX IF NOT EXISTS email_log_pending ON email_log (created_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS email_log_sending ON email_log (started_at) WHERE status = 'sending';
