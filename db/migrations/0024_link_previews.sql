-- Link previews (issue 21): a page a message links to, fetched by the job
-- queue after the message was sent, once a day at most whoever links it
-- (url is unique; a fetch older than a day is made again and replaces the
-- row). Its picture is a thumbnail made here, never the page's own file.
-- message_previews ties a message to the preview of its first link;
-- removed_at is set when its author took the preview away, so that a fetch
-- finishing later does not bring it back.
CREATE TABLE link_previews (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    url          TEXT    NOT NULL UNIQUE,
    title        TEXT    NOT NULL DEFAULT '',
    description  TEXT    NOT NULL DEFAULT '',
    site         TEXT    NOT NULL DEFAULT '',
    image_type   TEXT    NOT NULL DEFAULT '',
    image        BLOB,
    image_width  INTEGER NOT NULL DEFAULT 0,
    image_height INTEGER NOT NULL DEFAULT 0,
    fetched_at   INTEGER NOT NULL
);

CREATE TABLE message_previews (
    message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    preview_id INTEGER NOT NULL REFERENCES link_previews (id) ON DELETE CASCADE,
    removed_at INTEGER
);
CREATE INDEX message_previews_preview ON message_previews (preview_id);

-- A preview shown or removed is a change to its message in the room's log:
-- the events' kinds take 'preview'. SQLite changes a CHECK only by making
-- the table again, ids and all.
CREATE TABLE events_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('message', 'edit', 'delete', 'reaction', 'preview')),
    message_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (room_id, seq)
);
INSERT INTO events_new (id, room_id, seq, kind, message_id, created_at)
    SELECT id, room_id, seq, kind, message_id, created_at FROM events ORDER BY id;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
