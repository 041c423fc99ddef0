-- SQLite's 0020: pins per room (user_id is who pinned), saved messages per
-- user.
CREATE TABLE pins (
    message_id BIGINT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    pinned_at  BIGINT NOT NULL
);
CREATE INDEX pins_room ON pins (room_id, pinned_at);

CREATE TABLE saved_messages (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    saved_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX saved_messages_message ON saved_messages (message_id);
