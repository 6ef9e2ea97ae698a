-- One WhatsApp message may serve several people: personnel of one unit sharing one number get one reminder
-- per run naming each of them (docs/domain.md §5 "Reminders"). Each person keeps a ledger row of their own,
-- under their own idempotency key, so their stage advances only when that message is accepted; message_key
-- is the key the gateway knows the shared message by (NULL when the row's own key is the message's).
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS message_key text;
CREATE INDEX IF NOT EXISTS notifications_message ON notifications (message_key) WHERE message_key IS NOT NULL;
