-- Groups (issue 22): named sets of accounts that admins keep, mentioned as
-- @name. A group's name shares the usernames' namespace: name_key is its
-- skeleton (chat.NameSkeleton, the users_skeleton index's folding), unique
-- among groups and checked against usernames both ways when either is made.
CREATE TABLE user_groups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX user_groups_name ON user_groups (lower(name));

CREATE TABLE user_group_members (
    group_id INTEGER NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX user_group_members_user ON user_group_members (user_id);

-- The lower-case names of the groups a message mentions, space-separated
-- (NULL for none): every render shows them as group mentions.
ALTER TABLE messages ADD COLUMN mention_groups TEXT;

-- The admins' dashboard counts the last 30 days of messages: found by this
-- index however long the history is.
CREATE INDEX messages_created ON messages (created_at);
