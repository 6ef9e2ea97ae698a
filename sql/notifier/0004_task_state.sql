-- Task notifications (DOMAIN §5): the day's post set is the baseline notable changes are found against;
-- it belongs to one WIB day (a baseline of another day is no baseline). last_fetched_at is the event time
-- of the last fetch decided, so an older fetch arriving late never rolls the baseline back.
-- last_notified_slot / last_notified_at (0001) are written only when the gateway accepted a list.
ALTER TABLE client_state ADD COLUMN IF NOT EXISTS baseline_date date;
ALTER TABLE client_state ADD COLUMN IF NOT EXISTS baseline jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE client_state ADD COLUMN IF NOT EXISTS last_fetched_at timestamptz;
