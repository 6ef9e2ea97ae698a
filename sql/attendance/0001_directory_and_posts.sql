-- The directory of clients (owned here; every change is also an event in this service's store).
CREATE TABLE IF NOT EXISTS clients (
    client_id           text PRIMARY KEY,
    name                text NOT NULL,
    client_type         text NOT NULL CHECK (client_type IN ('ORG', 'DIREKTORAT')),
    active              boolean NOT NULL,
    instagram_username  text,
    instagram_enabled   boolean NOT NULL DEFAULT false,
    tiktok_username     text,
    tiktok_sec_uid      text,
    tiktok_enabled      boolean NOT NULL DEFAULT false,
    whatsapp_groups     text[] NOT NULL DEFAULT '{}',
    operator_numbers    text[] NOT NULL DEFAULT '{}',
    super_admin_numbers text[] NOT NULL DEFAULT '{}',
    parent_client_id    text,
    region              text,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Projection of ingest's post events: today's task posts per client.
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
    removed_at    timestamptz,
    PRIMARY KEY (platform, post_id)
);
CREATE INDEX IF NOT EXISTS posts_client_day ON posts (client_id, wib_date);
