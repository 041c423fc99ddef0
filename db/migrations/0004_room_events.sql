-- One ordered log of events per room: every change to a room (a new message
-- or notice, an edit, a delete, a reaction) takes the room's next sequence
-- number when it commits. Receivers apply a room's events in seq order, drop
-- what they have and fill a gap from here; a reconnecting client gets every
-- event after the last one it had, edits and deletes included.

ALTER TABLE rooms ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;

-- The seq of the event that created the message: a client that says "the
-- last message I have is id N" has every event up to that message's seq.
ALTER TABLE messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;

-- id rises across all rooms in commit order (one writer), for streams that
-- follow every room a user can see.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('message', 'edit', 'delete', 'reaction')),
    message_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (room_id, seq)
);

-- The messages already stored become each room's first events, in id order.
UPDATE messages SET seq = (SELECT count(*) FROM messages o WHERE o.room_id = messages.room_id AND o.id <= messages.id);
INSERT INTO events (room_id, seq, kind, message_id, created_at)
SELECT room_id, seq, 'message', id, created_at FROM messages ORDER BY id;
UPDATE rooms SET seq = (SELECT coalesce(max(seq), 0) FROM messages WHERE room_id = rooms.id);
