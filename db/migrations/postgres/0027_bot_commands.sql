-- SQLite's 0027: slash commands that bots register.
CREATE TABLE bot_commands (
    name        TEXT    PRIMARY KEY,
    bot_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    description TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL
);
CREATE INDEX bot_commands_bot ON bot_commands (bot_id);
