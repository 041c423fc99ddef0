-- Files attached to messages. They live in the database, so a backup and
-- every node have them: the content in chunks of a fixed size (written and
-- read one at a time, so no request holds a whole file in memory), a small
-- thumbnail for images, and per-user storage limits set by admins.

CREATE TABLE files (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id      INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    owner_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- NULL while the upload is under way; a file never attached is removed.
    message_id   INTEGER UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL DEFAULT 0,
    width        INTEGER NOT NULL DEFAULT 0,
    height       INTEGER NOT NULL DEFAULT 0,
    thumb_width  INTEGER NOT NULL DEFAULT 0,
    thumb_height INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
CREATE INDEX files_owner ON files (owner_id);
CREATE INDEX files_pending ON files (created_at) WHERE message_id IS NULL;

CREATE TABLE file_chunks (
    file_id INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    n       INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (file_id, n)
);

CREATE TABLE file_thumbs (
    file_id      INTEGER PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    content_type TEXT    NOT NULL,
    data         BLOB    NOT NULL
);

CREATE TABLE storage_limits (
    user_id   INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    max_bytes INTEGER NOT NULL
);

-- Search finds a message by its attached file's name too: the index's
-- content is a view of the text and the name. An external-content index must
-- be told exactly the text it indexed when a row leaves it, so the triggers
-- compute the same text, and removing a file takes its name out of its
-- message's entry.
CREATE VIEW messages_search AS
    SELECT m.id, m.body || coalesce(' ' || f.name, '') AS body
    FROM messages m LEFT JOIN files f ON f.message_id = m.id
    WHERE m.kind = 'text';

DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body, content = 'messages_search', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages WHEN old.kind = 'text' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body)
        VALUES ('delete', old.id, old.body || coalesce((SELECT ' ' || name FROM files WHERE message_id = old.id), ''));
    INSERT INTO messages_fts (rowid, body)
        VALUES (new.id, new.body || coalesce((SELECT ' ' || name FROM files WHERE message_id = new.id), ''));
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.kind = 'text' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body)
        VALUES ('delete', old.id, old.body || coalesce((SELECT ' ' || name FROM files WHERE message_id = old.id), ''));
END;
CREATE TRIGGER files_fts_detach BEFORE DELETE ON files WHEN old.message_id IS NOT NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body)
        SELECT 'delete', id, body || ' ' || old.name FROM messages WHERE id = old.message_id AND kind = 'text';
    INSERT INTO messages_fts (rowid, body)
        SELECT id, body FROM messages WHERE id = old.message_id AND kind = 'text';
END;
