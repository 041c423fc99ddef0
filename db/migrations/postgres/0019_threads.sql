-- SQLite's 0019: replies name their root; roots keep their summary; who
-- follows a thread and how far they read it.
ALTER TABLE messages ADD COLUMN thread_id BIGINT REFERENCES messages (id) ON DELETE CASCADE;
ALTER TABLE messages ADD COLUMN in_room integer NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN reply_count integer NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_at BIGINT;
CREATE INDEX messages_thread ON messages (thread_id, id) WHERE thread_id IS NOT NULL;

CREATE TABLE thread_follows (
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    root_id      BIGINT  NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    following    integer NOT NULL DEFAULT 1,
    last_read_id BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, root_id)
);
CREATE INDEX thread_follows_root ON thread_follows (root_id);
