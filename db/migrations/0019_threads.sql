-- Threads (issue 19): a reply names its root (thread_id), in the same room;
-- it is a room event like any message. A reply stays out of the room's list
-- unless its author also sent it to the room (in_room). The root keeps its
-- summary (reply_count, last_reply_at) so that a room page reads it with the
-- message, without counting.
ALTER TABLE messages ADD COLUMN thread_id INTEGER REFERENCES messages (id) ON DELETE CASCADE;
ALTER TABLE messages ADD COLUMN in_room INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_at INTEGER;
CREATE INDEX messages_thread ON messages (thread_id, id) WHERE thread_id IS NOT NULL;

-- Who follows a thread, and how far they have read it. A row with
-- following = 0 is an unfollow by hand: the root's author is not made to
-- follow again by the next reply (a reply or a mention of one's own is).
CREATE TABLE thread_follows (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    root_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    following    INTEGER NOT NULL DEFAULT 1,
    last_read_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, root_id)
);
CREATE INDEX thread_follows_root ON thread_follows (root_id);
