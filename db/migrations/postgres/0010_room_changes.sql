-- A notice that renamed a room, set its topic or (un)archived it carries
-- the change (JSON: chat.RoomChange), so a client catching up with the
-- room's events updates its header in order. NULL for every other message.
ALTER TABLE messages ADD COLUMN room_change TEXT;
