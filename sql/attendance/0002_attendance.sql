-- The projection tables are a pure function of the journal: every column comes from an event
-- (times are event times, never now()), so a rebuild by replay produces the same rows.
ALTER TABLE clients ALTER COLUMN updated_at DROP DEFAULT;

-- The directory of personnel (owned here, every change is also an event in this service's store).
CREATE TABLE IF NOT EXISTS personnel (
    user_id            text        PRIMARY KEY,
    name               text        NOT NULL,
    title              text,
    divisi             text,
    jabatan            text,
    client_id          text        NOT NULL,
    roles              text[]      NOT NULL DEFAULT '{}',
    instagram          text,
    tiktok             text,
    whatsapp           text,
    email              text,
    active             boolean     NOT NULL,
    exempt             boolean     NOT NULL,
    wa_reminder_opt_in boolean     NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS personnel_client ON personnel (client_id);
CREATE INDEX IF NOT EXISTS personnel_instagram ON personnel (instagram);
CREATE INDEX IF NOT EXISTS personnel_tiktok ON personnel (tiktok);
CREATE INDEX IF NOT EXISTS personnel_roles ON personnel USING gin (roles);

-- Everyone seen liking or commenting a post: cumulative over the day, a username once seen stays.
CREATE TABLE IF NOT EXISTS engagements (
    platform      text        NOT NULL,
    post_id       text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('likes', 'comments')),
    username      text        NOT NULL,
    first_seen_at timestamptz NOT NULL,
    PRIMARY KEY (platform, post_id, kind, username)
);

-- Per person, platform and WIB day: the status against one client's task posts (the scope).
-- The scope is the person's home client, and also each directorate whose role the person holds.
-- A row exists only while the scope has task posts that day.
CREATE TABLE IF NOT EXISTS attendance (
    scope_client_id text    NOT NULL,
    wib_date        date    NOT NULL,
    platform        text    NOT NULL,
    user_id         text    NOT NULL,
    status          text    NOT NULL CHECK (status IN ('complete', 'partial', 'none', 'no_username', 'exempt')),
    done            integer NOT NULL CHECK (done >= 0),
    total           integer NOT NULL CHECK (total > 0),
    PRIMARY KEY (scope_client_id, wib_date, platform, user_id)
);
CREATE INDEX IF NOT EXISTS attendance_user ON attendance (user_id, wib_date);

-- This service's own copy of every event it projected (consumed from the bus or produced by its own
-- directory commands), in the order it was applied: the rebuild replays it. Writers serialize on the
-- table lock, so position order is commit order and a reader tailing positions never skips a row.
CREATE TABLE IF NOT EXISTS journal (
    position       bigserial   PRIMARY KEY,
    event_id       uuid        NOT NULL UNIQUE,
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL,
    occurred_at    timestamptz NOT NULL,
    payload        jsonb       NOT NULL
);
