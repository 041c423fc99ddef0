-- Slash commands that bots register (admins add them at /admin/bots): a
-- name is one bot's, across the server, and never a built-in command's
-- (checked by the handlers); the command goes with its bot.
CREATE TABLE bot_commands (
    name        TEXT    PRIMARY KEY,
    bot_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    description TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL
);
CREATE INDEX bot_commands_bot ON bot_commands (bot_id);
