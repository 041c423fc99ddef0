-- Reaching people who are away (issue 20): how loudly each room speaks to
-- each member, and each person's status.

-- A member's notification level for the room: all (every message is
-- worth telling them of), mentions (the default: mentions and direct
-- messages) or nothing (no unread count in the sidebar, no email; mentions
-- are still counted).
ALTER TABLE memberships ADD COLUMN notify TEXT NOT NULL DEFAULT 'mentions';

-- A person's status: a line of text and an emoji they set, do-not-disturb
-- until a time, away by their own word, and when one of their devices last
-- did something (away after 10 minutes without), kept here so that every
-- node tells the same.
CREATE TABLE user_status (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    text        TEXT    NOT NULL DEFAULT '',
    emoji       TEXT    NOT NULL DEFAULT '',
    dnd_until   BIGINT,
    away        INTEGER NOT NULL DEFAULT 0,
    active_at   BIGINT
);

-- Web Push and a daily quiet time. push: on or off for all of the user's
-- devices; quiet_start and quiet_end: minutes after midnight in zone (an
-- IANA name, the user's when they saved it), NULL for no quiet time.
ALTER TABLE notify_settings ADD COLUMN push TEXT NOT NULL DEFAULT 'on';
ALTER TABLE notify_settings ADD COLUMN quiet_start INTEGER;
ALTER TABLE notify_settings ADD COLUMN quiet_end INTEGER;
ALTER TABLE notify_settings ADD COLUMN zone TEXT NOT NULL DEFAULT '';

-- A browser's push subscription (RFC 8030's endpoint, RFC 8291's keys as
-- base64url): one user may have many; an endpoint belongs to one user.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT    NOT NULL UNIQUE,
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
