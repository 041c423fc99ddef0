-- Accounts and their care: deactivation, invites, the admins' audit list,
-- what a session was opened from and when it was last used, archived rooms.

-- A deactivated account keeps everything it wrote; it cannot sign in.
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;

-- Shown on the sessions page. last_seen_at moves at most once a minute.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN address TEXT NOT NULL DEFAULT '';
UPDATE sessions SET last_seen_at = created_at;

-- Usernames that look alike (case, 0/o, 1/l/i, rn/m, vv/w) share this key.
-- chat.NameSkeleton computes the same key for any name, so a display name
-- or a new username is checked against every username through this index.
-- Keep the two in step.
CREATE INDEX users_skeleton ON users (
    replace(replace(replace(replace(replace(lower(username), '0', 'o'), '1', 'l'), 'i', 'l'), 'rn', 'm'), 'vv', 'w')
);

-- Only a hash of the code is kept, as for sessions: the link is shown once.
CREATE TABLE invites (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash  BLOB    NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses   INTEGER NOT NULL CHECK (max_uses > 0),
    uses       INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER
);

-- What admins did. The names are kept as they were, so the list reads right
-- after renames and deletions.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

-- An archived room is read-only and out of the sidebars.
ALTER TABLE rooms ADD COLUMN archived_at INTEGER;
