-- Whether a client's opted-in personnel get personal WhatsApp reminders (ClientSnapshot.reminders_enabled).
-- Client events recorded before the field existed read as "enabled", so existing rows take that default and a
-- rebuild gives the same rows.
ALTER TABLE clients ADD COLUMN IF NOT EXISTS reminders_enabled boolean NOT NULL DEFAULT true;

-- The time of the last notifwa#on / notifwa#off applied per person (ReminderOptInChanged.changed_at): a
-- command that arrives after a newer one (a retried delivery) must not undo it. Command-side state, not a
-- projection table: a rebuild leaves it alone.
CREATE TABLE IF NOT EXISTS reminder_opt_ins (
    user_id    text        PRIMARY KEY,
    changed_at timestamptz NOT NULL
);
