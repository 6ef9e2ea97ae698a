-- Claimed ticks: the unique tick_id makes N replicas fire each tick once.
CREATE TABLE IF NOT EXISTS ticks (
    tick_id       text        PRIMARY KEY,
    schedule      text        NOT NULL,
    scheduled_for timestamptz NOT NULL,
    status        text        NOT NULL CHECK (status IN ('fired', 'missed')),
    manual        boolean     NOT NULL DEFAULT false,
    claimed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ticks_schedule_time ON ticks (schedule, scheduled_for DESC);

-- Run-time switches per schedule (pause without a deploy).
CREATE TABLE IF NOT EXISTS schedule_state (
    schedule   text        PRIMARY KEY,
    paused     boolean     NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);
