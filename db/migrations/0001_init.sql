-- Accounts, sessions, rooms, memberships and messages.
-- Times are Unix milliseconds (UTC); the store converts them at its boundary.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    is_guest      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Only a hash of the session token is kept: a stolen database opens no sessions.
CREATE TABLE sessions (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE rooms (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    slug       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL DEFAULT 'room' CHECK (kind IN ('room', 'dm')),
    private    INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    room_id      INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at    INTEGER NOT NULL,
    last_read_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_user ON memberships (user_id);

-- AUTOINCREMENT: ids are never reused, so "the last id I have" stays meaningful
-- to a reconnecting client even after deletes.
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id       INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    author_id     INTEGER NOT NULL REFERENCES users (id),
    kind          TEXT    NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'notice')),
    body          TEXT    NOT NULL,
    client_msg_id TEXT,
    created_at    INTEGER NOT NULL,
    edited_at     INTEGER,
    deleted_at    INTEGER
);
CREATE INDEX messages_room ON messages (room_id, id);
-- A resent message (same author, same client id) is stored once.
CREATE UNIQUE INDEX messages_client_id ON messages (author_id, client_msg_id) WHERE client_msg_id IS NOT NULL;

INSERT INTO rooms (slug, name, kind, private, created_at)
VALUES ('general', 'general', 'room', 0, CAST(unixepoch('subsec') * 1000 AS INTEGER));
