-- The API: personal access tokens, bot accounts and their webhooks.

-- A bot is an account that speaks only through its token; it has no usable
-- password (an empty hash never matches).
ALTER TABLE users ADD COLUMN is_bot INTEGER NOT NULL DEFAULT 0;

-- Only a hash of each token is kept, as for sessions. A revoked token stays
-- listed (revoked_at set) so its owner sees what it was.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The webhook secret is kept as is: signing needs it. The last delivery's
-- outcome is kept for the bot's owner to see.
CREATE TABLE bots (
    user_id          INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    owner_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    webhook_url      TEXT    NOT NULL DEFAULT '',
    webhook_secret   TEXT    NOT NULL,
    last_delivery_at INTEGER,
    last_error       TEXT    NOT NULL DEFAULT '',
    last_error_at    INTEGER
);
