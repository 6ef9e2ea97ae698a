-- Ingest's copy of the directory: which accounts to fetch.
CREATE TABLE IF NOT EXISTS clients (
    client_id          text PRIMARY KEY,
    name               text NOT NULL,
    active             boolean NOT NULL,
    instagram_username text,
    instagram_enabled  boolean NOT NULL DEFAULT false,
    tiktok_username    text,
    tiktok_sec_uid     text,
    tiktok_enabled     boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Current state of each post aggregate (the events are the truth; this answers "today's posts" fast).
CREATE TABLE IF NOT EXISTS posts (
    platform      text        NOT NULL,
    post_id       text        NOT NULL,
    client_id     text        NOT NULL,
    wib_date      date        NOT NULL,
    link          text        NOT NULL,
    caption       text        NOT NULL DEFAULT '',
    published_at  timestamptz NOT NULL,
    source_type   text        NOT NULL,
    like_count    integer     NOT NULL DEFAULT 0,
    comment_count integer     NOT NULL DEFAULT 0,
    removed       boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (platform, post_id)
);
CREATE INDEX IF NOT EXISTS posts_client_day ON posts (client_id, wib_date);
