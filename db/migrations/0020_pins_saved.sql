-- Pins: messages a member pinned for everyone in the room (one pin per
-- message; user_id is who pinned it). Saved: messages a user keeps for
-- themselves alone. Both go with their message.
CREATE TABLE pins (
    message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    pinned_at  INTEGER NOT NULL
);
CREATE INDEX pins_room ON pins (room_id, pinned_at);

CREATE TABLE saved_messages (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    saved_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX saved_messages_message ON saved_messages (message_id);
