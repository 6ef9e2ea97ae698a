-- The rest of the notifier's copy of the directory: who receives recaps, reminders and e-mail.
ALTER TABLE clients ADD COLUMN IF NOT EXISTS operator_numbers text[] NOT NULL DEFAULT '{}';
ALTER TABLE clients ADD COLUMN IF NOT EXISTS super_admin_numbers text[] NOT NULL DEFAULT '{}';
ALTER TABLE clients ADD COLUMN IF NOT EXISTS instagram_enabled boolean NOT NULL DEFAULT false;
ALTER TABLE clients ADD COLUMN IF NOT EXISTS tiktok_enabled boolean NOT NULL DEFAULT false;
ALTER TABLE clients ADD COLUMN IF NOT EXISTS parent_client_id text;
ALTER TABLE clients ADD COLUMN IF NOT EXISTS reminders_enabled boolean NOT NULL DEFAULT true;

CREATE TABLE IF NOT EXISTS personnel (
    user_id            text PRIMARY KEY,
    name               text NOT NULL,
    title              text,
    client_id          text NOT NULL,
    roles              text[] NOT NULL DEFAULT '{}',
    instagram          text,
    tiktok             text,
    whatsapp           text,
    email              text,
    active             boolean NOT NULL,
    exempt             boolean NOT NULL DEFAULT false,
    wa_reminder_opt_in boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
-- An e-mail address identifies one person (OTP claims refuse an address that belongs to someone else).
CREATE INDEX IF NOT EXISTS personnel_email ON personnel (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX IF NOT EXISTS personnel_whatsapp ON personnel (whatsapp) WHERE whatsapp IS NOT NULL;
CREATE INDEX IF NOT EXISTS personnel_client ON personnel (client_id);
