-- Custom emoji (issue 21): pictures admins add, named :name: in messages and
-- reactions. The picture is kept here like a file's content (PNG, GIF or
-- WebP, at most 256 KiB, its metadata stripped). A message keeps the names
-- of the custom emoji its body used when it was written (space-separated,
-- NULL for none), as it keeps its group mentions.
CREATE TABLE custom_emoji (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL UNIQUE,
    content_type TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL
);

ALTER TABLE messages ADD COLUMN custom_emoji TEXT;
