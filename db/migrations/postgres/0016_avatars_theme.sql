-- A person's picture and their choice of light or dark. avatar_at is when
-- the picture was set (0: none, initials are shown): it names the picture's
-- version in its address, so a new one is never served from a cache.
ALTER TABLE users ADD COLUMN avatar_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN theme TEXT NOT NULL DEFAULT 'system';

CREATE TABLE avatars (
    user_id      BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    content_type TEXT   NOT NULL,
    data         BYTEA  NOT NULL
);
