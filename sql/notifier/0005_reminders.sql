-- Personal reminders (DOMAIN §5 "Reminders").

-- Each person's attendance per platform and WIB day, from AttendanceStatusChanged. Only the person's home
-- client's scope counts; rows of a person not known yet are kept with their scope and filtered by a join
-- with personnel at reminder time. changed_at keeps a late redelivery from overwriting newer progress.
CREATE TABLE IF NOT EXISTS reminder_attendance (
    wib_date         date NOT NULL,
    user_id          text NOT NULL,
    platform         text NOT NULL,
    scope_client_id  text NOT NULL,
    status           text NOT NULL,
    done             integer NOT NULL,
    total            integer NOT NULL,
    pending_post_ids text[] NOT NULL DEFAULT '{}',
    changed_at       timestamptz NOT NULL,
    PRIMARY KEY (wib_date, user_id, platform, scope_client_id)
);

-- Today's task posts per client (platform, post_id, link, caption), from the latest ClientFetchCompleted,
-- so a reminder can cite links.
CREATE TABLE IF NOT EXISTS reminder_task_posts (
    client_id  text NOT NULL,
    wib_date   date NOT NULL,
    fetched_at timestamptz NOT NULL,
    posts      jsonb NOT NULL,
    PRIMARY KEY (client_id, wib_date)
);

-- The last reminder stage the gateway accepted per person and WIB day (written by the ledger callback).
CREATE TABLE IF NOT EXISTS reminder_state (
    wib_date   date NOT NULL,
    user_id    text NOT NULL,
    stage      text NOT NULL,
    stage_rank smallint NOT NULL,
    sent_at    timestamptz NOT NULL,
    PRIMARY KEY (wib_date, user_id)
);

-- A reminder tick reads the day's reminder requests of everyone at once.
CREATE INDEX IF NOT EXISTS notifications_reminders_day ON notifications (wib_date, user_id)
    WHERE purpose IN ('reminder', 'reminder_thanks');
