-- Messages to send later and reminders: what a user asked for at a time
-- (run_at). Each is run by one job of the queue (kind "later", key
-- "later:{id}") due at the same time, which is what makes it happen once
-- across restarts and nodes; this row is what the user sees and edits on
-- /scheduled. kind is 'message' (body to room_id) or 'reminder' (body, and
-- about_id when it reminds of a message). state is 'pending' until the job
-- ran: then 'sent' (sent_id: the message it became, or the notice) or
-- 'failed' (why, in error).
CREATE TABLE scheduled (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id    INTEGER REFERENCES rooms (id) ON DELETE CASCADE,
    about_id   INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    body       TEXT    NOT NULL DEFAULT '',
    run_at     BIGINT  NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'pending',
    error      TEXT    NOT NULL DEFAULT '',
    sent_id    INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    created_at BIGINT  NOT NULL,
    done_at    BIGINT
);
CREATE INDEX scheduled_user ON scheduled (user_id, state, run_at);
