-- Cumulative engagement sets per post and WIB day: a person once seen stays counted (partial pages).
CREATE TABLE IF NOT EXISTS engagement (
    platform  text        NOT NULL,
    post_id   text        NOT NULL,
    kind      text        NOT NULL CHECK (kind IN ('likes', 'comments')),
    username  text        NOT NULL,
    seen_at   timestamptz NOT NULL,
    PRIMARY KEY (platform, post_id, kind, username)
);

-- What an engagement refresh needs from a post: its shortcode (Instagram) and the counts last reported.
ALTER TABLE posts ADD COLUMN IF NOT EXISTS shortcode text;
ALTER TABLE posts ADD COLUMN IF NOT EXISTS refreshed_counts integer[];
